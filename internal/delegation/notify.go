package delegation

import (
	"context"
	"strings"
	"time"

	"github.com/inps/sportello/internal/notify"
)

// tell notifies the delegate of a registration or revocation: by e-mail when the address is
// known, otherwise by post, addressed by fiscal code (the postal adapter finds the address of
// residence). A failed notification is logged and audited; it never undoes the change.
func (r *Registry) tell(ctx context.Context, d *Delegation, what string) {
	if r.notify == nil {
		return
	}
	n := notify.Notification{Channel: "post", To: d.Delegate.FiscalCode}
	if d.Delegate.Email != "" {
		n.Channel, n.To = "email", d.Delegate.Email
	}
	var b strings.Builder
	who := d.Delegator.Name() + " (" + d.Delegator.FiscalCode + ")"
	if what == "revoked" {
		n.Subject = "INPS – Delega dell'identità digitale revocata / Delegation revoked"
		b.WriteString("La delega con cui " + who + " ti autorizzava ad agire per suo conto sui servizi INPS è stata revocata.\n\n")
		b.WriteString("The delegation by which " + who + " authorised you to act on their behalf with INPS has been revoked.\n")
	} else {
		n.Subject = "INPS – Delega dell'identità digitale / Delegation of digital identity"
		b.WriteString(who + " ti ha conferito una delega ad agire per suo conto sui servizi online INPS.\n")
		b.WriteString("Accedi con la tua identità SPID, CIE o CNS e scegli di operare per conto di chi ti ha conferito la delega.\n")
		last := lastDay(d.End)
		if !d.End.IsZero() {
			b.WriteString("La delega vale fino al " + last.Format("02/01/2006") + " compreso.\n")
		}
		b.WriteString("\n" + who + " has delegated you to act on their behalf with INPS online services.\n")
		b.WriteString("Sign in with your own SPID, CIE or CNS and choose to act for them.\n")
		if !d.End.IsZero() {
			b.WriteString("The delegation is valid until " + last.Format("02/01/2006") + " inclusive.\n")
		}
	}
	b.WriteString("\nRif. / Ref.: " + d.ID + "\n")
	n.Body = b.String()
	if err := r.notify.Notify(ctx, n); err != nil {
		r.log.ErrorContext(ctx, "delegation: notification failed", "id", d.ID, "channel", n.Channel, "err", err)
		r.auditEvent(ctx, "delegation.notification_failed", "", d, map[string]any{"channel": n.Channel})
	}
}

// rome is the time zone of the dates people read and type.
var rome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// lastDay is the last day of validity of a delegation ending at end, in Italian time.
func lastDay(end time.Time) time.Time { return end.Add(-time.Nanosecond).In(rome) }
