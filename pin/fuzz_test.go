package pin

import (
	"errors"
	"strings"
	"testing"
)

// FuzzPINInput checks the parsing and normalisation of what people type into the forms: it
// never panics, and whatever it accepts is canonical (upper-case letters and digits, 8 or 16
// long, a valid fiscal code) and stable under a second pass. An 8-character PIN then goes
// through CheckNewPIN: a refusal is always a *RuleError, and an accepted PIN follows the rules
// written out naively (no run of 3, no sequence of 4, 4 different characters, no part of the
// fiscal code or of the birth date).
func FuzzPINInput(f *testing.F) {
	f.Add("RSSMRA80A01H501U", "a1b2c3d4")
	f.Add(" rssmra80a01h501u ", "1A2B 3C4D-5E6F 7089")
	f.Add("RSSMRA80A01H501X", "Z9Y8X7W6")
	f.Add("", "")
	f.Add("RSSMRA80A01H501U", "àèìòù123")
	f.Add("RSSMRA80A01H501U", "11111111")
	f.Add("RSSMRA80A01H501U", "k1234p9q")
	f.Add("RSSMRA80A01H501U", "x0101807")
	f.Add("RSSMRA80A01H501U", "K7H501Q4")
	f.Fuzz(func(t *testing.T, cf, pin string) {
		code, p, err := ParseCredentials(cf, pin)
		if err != nil {
			return
		}
		if len(p) != PINLen && len(p) != InitialLen {
			t.Fatalf("accepted PIN %q of length %d", p, len(p))
		}
		if strings.Trim(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			t.Fatalf("accepted PIN %q is not canonical", p)
		}
		code2, p2, err := ParseCredentials(code, p)
		if err != nil || code2 != code || p2 != p {
			t.Fatalf("not stable: %q %q -> %q %q (%v)", code, p, code2, p2, err)
		}
		if len(p) != PINLen {
			return
		}
		holder := Person{FiscalCode: code, GivenName: "Mario", FamilyName: "Rossi", Birthdate: "1980-01-01"}
		err = CheckNewPIN(p, holder)
		var re *RuleError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("CheckNewPIN(%q) = %v, not a *RuleError", p, err)
		}
		if err == nil {
			acceptedPINFollowsTheRules(t, p, code)
		}
	})
}

// acceptedPINFollowsTheRules checks an accepted PIN against the rules written out naively.
func acceptedPINFollowsTheRules(t *testing.T, p, cf string) {
	t.Helper()
	seen := map[byte]bool{}
	for i := range len(p) {
		seen[p[i]] = true
		if i >= 2 && p[i] == p[i-1] && p[i] == p[i-2] {
			t.Fatalf("accepted %q with a character 3 times in a row", p)
		}
		if i >= 3 {
			up, down := true, true
			for j := i - 2; j <= i; j++ {
				up = up && p[j] == p[j-1]+1 && (p[j] <= '9') == (p[j-1] <= '9')
				down = down && p[j]+1 == p[j-1] && (p[j] <= '9') == (p[j-1] <= '9')
			}
			if up || down {
				t.Fatalf("accepted %q with a sequence of 4", p)
			}
		}
	}
	if len(seen) < 4 {
		t.Fatalf("accepted %q with %d different characters", p, len(seen))
	}
	for i := 0; i+4 <= len(cf); i++ {
		if strings.Contains(p, cf[i:i+4]) {
			t.Fatalf("accepted %q holding %q of the fiscal code", p, cf[i:i+4])
		}
	}
	for _, d := range []string{"010180", "800101", "01011980", "1980"} {
		if strings.Contains(p, d) {
			t.Fatalf("accepted %q holding the birth date as %s", p, d)
		}
	}
}
