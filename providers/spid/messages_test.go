package spid

import (
	"os"
	"regexp"
	"testing"

	"github.com/inps/sportello/providers/saml"
)

// TestEveryUserFacingCodeHasItalianAndEnglish scans the package for "spid.xxx" catalogue keys
// and SPID error codes and checks the catalogue has both languages for each.
func TestEveryUserFacingCodeHasItalianAndEnglish(t *testing.T) {
	msgs := Messages()
	codes := map[string]bool{}
	re := regexp.MustCompile(`(?:Code: |code = |code := )"(spid\.[a-z0-9_]+)"`)
	for _, f := range []string{"acs.go", "request.go", "validate.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			codes[m[1]] = true
		}
	}
	for _, k := range saml.UserErrorKeys {
		codes["spid."+k] = true
	}
	for _, nr := range spidErrorCodes {
		codes["spid."+nr] = true
	}
	for code := range codes {
		if msgs[code]["it"] == "" || msgs[code]["en"] == "" {
			t.Errorf("%s lacks it/en text", code)
		}
	}
	if len(codes) < 10 {
		t.Fatalf("found only %d codes", len(codes))
	}
}
