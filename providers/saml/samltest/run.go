package samltest

import (
	"errors"
	"net/http"
	"testing"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// Pending is an AuthnRequest the SP sent.
type Pending struct {
	RelayState string
	RequestID  string
}

// Outcome is what the ACS handed the broker's Finisher.
type Outcome struct {
	LoginID  string
	Identity *providers.Identity
	Err      error
}

// Target is one profile's Assertion Consumer Service under test, with its dev IdP.
type Target interface {
	// Start sends an AuthnRequest for loginID at acr (comparison cmp, "" for the default).
	Start(t testing.TB, loginID, acr, cmp string) Pending
	// Good is the response the IdP would send for p: signed, it must be accepted.
	Good(p Pending) samlx.ResponseParams
	// Keys sign the IdP's responses (the key its metadata lists).
	Keys() *samlx.KeyPair
	// Post delivers a SAMLResponse to the ACS: the HTTP status and the Finisher's outcome.
	Post(t testing.TB, relayState string, xml []byte) (int, Outcome)
}

// Difference is how one profile departs from a row of the table: the class (and sentinel)
// it refuses the row for instead, or why the row does not apply (Skip, the rule that makes
// the response acceptable under this profile).
type Difference struct {
	Class string
	Want  error
	Skip  string
}

// Profile is the profile under test: its name (the catalogue prefix), its departures from the
// table by row name, and rows of its own.
type Profile struct {
	Name        string
	Differences map[string]Difference
	Extra       []Row
}

// Apply returns rows as they hold under the profile: differences applied, rows that do not
// apply left out, the profile's own rows appended. A difference naming no row fails t (a
// renamed row must not silently drop a difference).
func (p Profile) Apply(t testing.TB, rows []Row) []Row {
	t.Helper()
	seen := map[string]bool{}
	var out []Row
	for _, r := range rows {
		d, ok := p.Differences[r.Name]
		seen[r.Name] = ok
		switch {
		case !ok:
		case d.Skip != "":
			continue
		default:
			r.Class, r.Want = d.Class, d.Want
		}
		out = append(out, r)
	}
	for name := range p.Differences {
		if !seen[name] {
			t.Fatalf("profile %s: difference for %q, which is no row of the table", p.Name, name)
		}
	}
	return append(out, p.Extra...)
}

// Run posts every row, once per KeyInfo shape the IdP may sign with (its certificate, an
// empty X509Certificate as AgID's validator sends, no KeyInfo), to the target's ACS for a
// login at L2: each must be refused with 403, for its own class whatever KeyInfo holds (so a
// row refused for another reason fails), with the user-facing key of that class and the row's
// sentinel.
func Run(t *testing.T, tg Target, prof string, rows []Row) {
	for _, shape := range samlx.KeyInfoShapes {
		t.Run("keyinfo="+shape.String(), func(t *testing.T) {
			for _, row := range rows {
				t.Run(row.Name, func(t *testing.T) {
					h := row.H
					h.KeyInfo = shape
					p := tg.Start(t, "login-"+row.Name, loa.SpidL2, "")
					status, o := tg.Post(t, p.RelayState, Build(t, tg.Good(p), tg.Keys(), h))
					if o.Identity != nil || o.Err == nil {
						t.Fatalf("accepted: %+v", o)
					}
					if status != http.StatusForbidden || o.LoginID != "login-"+row.Name {
						t.Fatalf("status %d, login %q", status, o.LoginID)
					}
					want := row.ClassFor(shape)
					if got := ClassOf(o.Err); got != want {
						t.Fatalf("refused as %s (%v), want %s", got, o.Err, want)
					}
					var ue *providers.UserError
					if !errors.As(o.Err, &ue) || ue.Code != UserCodeFor(prof, want) {
						t.Fatalf("user error %v, want code %s", o.Err, UserCodeFor(prof, want))
					}
					if row.Want != nil && !errors.Is(o.Err, row.Want) {
						t.Fatalf("error %v is not %v", o.Err, row.Want)
					}
				})
			}
		})
	}
}
