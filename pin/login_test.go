package pin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// Every refused PIN login is a providers.AttemptError with method pin, for the record of the
// failed login: before the right PIN (a wrong one, an unknown fiscal code alike) it names
// nobody; after it (an expired PIN) it names the holder and the level their PIN reaches. The
// domain error is still found through it, and its text never names the holder.
func TestRefusedLoginsNameTheirAttempt(t *testing.T) {
	e := newEnv(t)
	e.holder(t, cfAnna, "K7M2P9Q4", Citizen, Dispositivo)
	for _, tt := range []struct {
		rule     string
		cf, pin  string
		advance  time.Duration
		want     error
		verified bool
	}{
		{"a wrong PIN names nobody", cfAnna, "X7M2P9Q4", 0, providers.ErrBadCredentials, false},
		{"an unknown fiscal code names nobody", cfOther, "K7M2P9Q4", 0, providers.ErrBadCredentials, false},
		{"an expired PIN names the holder and the level", cfAnna, "K7M2P9Q4", 7 * 30 * 24 * time.Hour, ErrExpired, true},
	} {
		t.Run(tt.rule, func(t *testing.T) {
			e.clock.Advance(tt.advance)
			_, err := e.svc.Authenticate(ctx, tt.cf, tt.pin)
			var ae *providers.AttemptError
			if !errors.As(err, &ae) || ae.Method != providers.MethodPIN || !errors.Is(err, tt.want) {
				t.Fatalf("Authenticate = %v, want an attempt with pin wrapping %v", err, tt.want)
			}
			if got := ae.FiscalNumber != ""; got != tt.verified || (tt.verified && (ae.FiscalNumber != cfAnna || ae.ACR != loa.SpidL2)) {
				t.Fatalf("attempt names %q at %q, want verified=%v", ae.FiscalNumber, ae.ACR, tt.verified)
			}
			if strings.Contains(err.Error(), cfAnna) {
				t.Fatalf("the error names the holder: %v", err)
			}
		})
	}
}
