package providers

import (
	"errors"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/loa"
)

// An attempt adds what the record of a failure needs and changes nothing else: the sentinels
// and typed errors are still found through it, its text is the cause's (never the fiscal
// number), nil stays nil, and the innermost attempt — the one closest to the credential — wins.
func TestAttemptIsTransparent(t *testing.T) {
	if Attempt(MethodCIE, nil) != nil {
		t.Fatal("Attempt(nil) is not nil")
	}
	cause := &UserError{Code: "login.level_not_reached", Err: ErrLevelNotReached}
	verified := &AttemptError{Method: MethodPIN, ACR: loa.SpidL1, FiscalNumber: "CLMMRC70B10G273W", Err: cause}
	err := Attempt(MethodSPID, verified)
	var ae *AttemptError
	var ue *UserError
	if !errors.As(err, &ae) || ae != verified || ae.Method != MethodPIN || ae.ACR != loa.SpidL1 {
		t.Fatalf("the outer attempt replaced the inner one: %+v", ae)
	}
	if !errors.Is(err, ErrLevelNotReached) || !errors.As(err, &ue) || ue.Code != "login.level_not_reached" {
		t.Fatalf("the cause is hidden by the attempt: %v", err)
	}
	if err.Error() != cause.Error() || strings.Contains(err.Error(), "CLMMRC70B10G273W") {
		t.Fatalf("text %q, want the cause's %q", err.Error(), cause.Error())
	}
	if got := Attempt(MethodCNS, ErrDenied); !errors.As(got, &ae) || ae.Method != MethodCNS || ae.ACR != "" || !errors.Is(got, ErrDenied) {
		t.Fatalf("Attempt(cns, ErrDenied) = %#v", got)
	}
}
