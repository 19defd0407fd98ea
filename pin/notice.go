package pin

import (
	"context"
	"strings"
)

// Kinds of notice: what someone did with a fiscal code that has a PIN.
const (
	// noticeRequest: a new PIN was asked for online although the holder has one.
	noticeRequest = "request"
	// noticeActivation: an activation failed on health-card data that do not match.
	noticeActivation = "activation"
)

// noticeText is one notice in both languages: a short SMS and a longer e-mail.
type noticeText struct{ subject, sms, mail string }

var notices = map[string]noticeText{
	noticeRequest: {
		subject: "INPS - richiesta di un nuovo PIN / new PIN request",
		sms: "INPS: è stato chiesto un nuovo PIN per il suo codice fiscale, ma ne ha già uno. " +
			"A new PIN was requested for your fiscal code, but you already have one.",
		mail: "INPS: è stato chiesto online un nuovo PIN per il suo codice fiscale, ma lei ne ha già uno, che resta valido.\n" +
			"Se l'ha smarrito usi la procedura PIN smarrito: {lost}\nSe non è stato lei, non deve fare nulla.\n\n" +
			"INPS: a new PIN was requested online for your fiscal code, but you already have one, which stays valid.\n" +
			"If you lost it, use the lost PIN procedure: {lost}\nIf it was not you, you need not do anything.\n",
	},
	noticeActivation: {
		subject: "INPS - tentativo di attivazione del PIN / PIN activation attempt",
		sms: "INPS: tentativo di attivare il suo PIN con dati della tessera sanitaria errati. " +
			"Someone tried to activate your PIN with wrong health card data.",
		mail: "INPS: qualcuno ha tentato di attivare il PIN del suo codice fiscale con dati della tessera sanitaria errati; " +
			"per sicurezza l'attivazione e l'accesso con il PIN sono bloccati per qualche minuto.\n" +
			"Se non è stato lei, si rivolga al Contact Center o a una sede INPS.\n\n" +
			"INPS: someone tried to activate the PIN of your fiscal code with wrong health card data; " +
			"for your security, activation and PIN login are locked for a few minutes.\n" +
			"If it was not you, contact the INPS Contact Center or an INPS office.\n",
	},
}

// noticeHolder tells the holder of rec, on the registered contacts (e-mail, or PEC without
// one, and SMS), that someone did kind with their fiscal code. At most one notice of a kind
// goes out per Config.NoticeInterval, so nobody can flood a holder's phone through the public
// forms. A failed delivery is logged, never returned: the answer at the form must not depend
// on whether the fiscal code has a PIN.
func (s *Service) noticeHolder(ctx context.Context, rec *Record, kind string) {
	fresh, err := s.store.PutIfAbsent(ctx, key(rec.FiscalCode, "notice:"+kind), []byte("1"), s.cfg.NoticeInterval)
	if err != nil {
		s.log.WarnContext(ctx, "pin: holder notice not sent", "kind", kind, "err", err)
		return
	}
	if !fresh {
		return
	}
	n := notices[kind]
	lost := strings.TrimRight(s.cfg.PublicURL, "/") + "/pin/lost"
	mail := strings.ReplaceAll(n.mail, "{lost}", lost)
	ch, to := "email", rec.Contacts.Email
	if to == "" {
		ch, to = "pec", rec.Contacts.PEC
	}
	var sent []string
	for _, m := range []struct{ ch, to, subject, body string }{
		{ch, to, n.subject, mail},
		{"sms", rec.Contacts.Mobile, "", n.sms},
	} {
		if m.to == "" {
			continue
		}
		if err := s.notify(ctx, m.ch, m.to, m.subject, m.body); err != nil {
			s.log.WarnContext(ctx, "pin: holder notice not delivered", "kind", kind, "channel", m.ch, "err", err)
			continue
		}
		sent = append(sent, m.ch)
	}
	s.audit(ctx, "pin.holder_notified", rec.FiscalCode, map[string]any{"kind": kind, "channels": sent})
}
