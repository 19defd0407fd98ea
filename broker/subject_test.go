package broker

import (
	"testing"

	"github.com/inps/sportello/providers"
)

// An eIDAS identity without a fiscal code gets a sub of its PersonIdentifier, stable, and
// hashed under another prefix: it can never equal a fiscal-code subject, not even one whose
// "fiscal code" is the PersonIdentifier's text. A linked identity (fiscal code and
// PersonIdentifier) gets the fiscal code's sub, as with every other credential.
func TestSubjectOfAnEIDASIdentityNeverCollidesWithAFiscalCode(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	anna := &providers.Identity{PersonIdentifier: "DE/IT/0123456789ABCDEF"}
	sub := subjectOf(key, anna)
	if sub == "" || sub != subjectOf(key, &providers.Identity{PersonIdentifier: "DE/IT/0123456789ABCDEF"}) {
		t.Fatalf("not stable: %q", sub)
	}
	for _, cf := range []string{"DE/IT/0123456789ABCDEF", "eidas/v1:DE/IT/0123456789ABCDEF", "RSSMRA80A01H501U"} {
		if sub == subjectFor(key, cf) {
			t.Fatalf("the eIDAS sub equals the fiscal-code sub of %q", cf)
		}
	}
	if sub == subjectOf(key, &providers.Identity{PersonIdentifier: "ES/IT/X1234567T"}) {
		t.Fatal("two people, one sub")
	}
	linked := &providers.Identity{FiscalNumber: "FRRGNN55T50Z600A", PersonIdentifier: "ES/IT/X1234567T"}
	if subjectOf(key, linked) != subjectFor(key, "FRRGNN55T50Z600A") {
		t.Fatal("a linked eIDAS identity does not get the sub of its fiscal code")
	}
	if subjectOf(key, &providers.Identity{FiscalNumber: "RSSMRA80A01H501U"}) != subjectFor(key, "RSSMRA80A01H501U") {
		t.Fatal("a fiscal-code subject changed")
	}
}
