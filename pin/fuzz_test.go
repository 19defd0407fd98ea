package pin

import (
	"strings"
	"testing"
)

// FuzzPINInput checks the parsing and normalisation of what people type into the forms: it
// never panics, and whatever it accepts is canonical (upper-case letters and digits, 8 or 16
// long, a valid fiscal code) and stable under a second pass.
func FuzzPINInput(f *testing.F) {
	f.Add("RSSMRA80A01H501U", "a1b2c3d4")
	f.Add(" rssmra80a01h501u ", "1A2B 3C4D-5E6F 7089")
	f.Add("RSSMRA80A01H501X", "Z9Y8X7W6")
	f.Add("", "")
	f.Add("RSSMRA80A01H501U", "àèìòù123")
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
		if len(p) == PINLen {
			_ = CheckNewPIN(p, code, cf, pin)
		}
	})
}
