package pin

import (
	"errors"
	"testing"
)

// An online request answers the same whether the fiscal code has a PIN or not, after the same
// Argon2id work; the holder of the existing PIN is told on the registered contacts, never on
// the ones given with the request, and keeps the PIN.
func TestRequestAnswersTheSameForEveryone(t *testing.T) {
	e := newEnv(t)
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Ordinario)
	stranger := person(cfAnna)
	stranger.Contacts = Contacts{Mobile: "+44 7700 900999", Email: "someone@example.net", Postal: "1 Main St, Leeds"}

	n, hashes := len(e.out.msgs), e.svc.Hashes()
	errExisting := e.svc.RequestPIN(ctx, Request{Person: stranger})
	existingHashes, sent := e.svc.Hashes()-hashes, e.out.msgs[n:]

	hashes = e.svc.Hashes()
	errNew := e.svc.RequestPIN(ctx, Request{Person: person(cfOther)})
	newHashes := e.svc.Hashes() - hashes

	if errExisting != nil || errNew != nil {
		t.Fatalf("answers differ: existing PIN %v, no PIN %v", errExisting, errNew)
	}
	if existingHashes != newHashes {
		t.Fatalf("%d Argon2id computations for an existing PIN, %d for a new one", existingHashes, newHashes)
	}
	if len(sent) != 2 {
		t.Fatalf("notices %+v, want e-mail and SMS", sent)
	}
	for _, m := range sent {
		if m.To != "anna@example.org" && m.To != "+393331112222" {
			t.Fatalf("notice to %s, not a registered contact", m.To)
		}
	}
	if _, err := e.svc.Authenticate(ctx, cfAnna, "K7M2P9Q4"); err != nil {
		t.Fatalf("the existing PIN must keep working: %v", err)
	}
	var refused bool
	for _, ev := range e.audit.evs {
		refused = refused || ev.Type == "pin.request_refused" && ev.Fields["reason"] == "has_pin"
	}
	if !refused {
		t.Fatal("the refused request is not in the audit trail")
	}
	t.Run("the Contact Center is told", func(t *testing.T) {
		err := e.svc.RequestPIN(ctx, Request{Person: stranger, Channel: ContactCenter, Operator: "cc-1"})
		if !errors.Is(err, ErrHasPIN) {
			t.Fatalf("got %v, want ErrHasPIN", err)
		}
	})
}
