package pin

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// The recovery link carries an opaque code only, never the fiscal code; the
// code finds its holder by its hash, works once, and a newer recovery retires the older link.
func TestRecoveryLinkCarriesOnlyTheCode(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.PublicURL = "http://broker.test" })
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Dispositivo)
	start := func() string {
		t.Helper()
		if err := e.svc.StartRecovery(ctx, cfAnna, Contacts{Mobile: "+393331112222", Email: "anna@example.org"}); err != nil {
			t.Fatal(err)
		}
		link := lastField(strings.TrimSpace(e.out.last(t, "email").Body))
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToUpper(link), cfAnna) || len(u.Query()) != 1 || u.Query().Get("code") == "" {
			t.Fatalf("the link %q carries more than the code", link)
		}
		return u.Query().Get("code")
	}
	older := start()
	newer := start()
	if ok, err := e.svc.RecoveryPending(ctx, older); ok || err != nil {
		t.Fatalf("a replaced link is still pending: %v %v", ok, err)
	}
	if err := e.svc.CompleteRecovery(ctx, older); !errors.Is(err, ErrRecovery) {
		t.Fatalf("a replaced link completed: %v", err)
	}
	if ok, err := e.svc.RecoveryPending(ctx, newer); !ok || err != nil {
		t.Fatalf("the newer link is not pending (the older one's attempt must not spend it): %v %v", ok, err)
	}
	if err := e.svc.CompleteRecovery(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.svc.RecoveryPending(ctx, newer); ok {
		t.Fatal("a used link is still pending")
	}
	if err := e.svc.CompleteRecovery(ctx, newer); !errors.Is(err, ErrRecovery) {
		t.Fatalf("a recovery code works once: %v", err)
	}
	for _, hostile := range []string{"", "   ", strings.Repeat("A", 65), "../../pin:{" + cfAnna + "}:recovery", cfAnna, "\x00"} {
		if ok, err := e.svc.RecoveryPending(ctx, hostile); ok || err != nil {
			t.Errorf("RecoveryPending(%q) = %v, %v", hostile, ok, err)
		}
		if err := e.svc.CompleteRecovery(ctx, hostile); !errors.Is(err, ErrRecovery) {
			t.Errorf("CompleteRecovery(%q) = %v", hostile, err)
		}
	}
}
