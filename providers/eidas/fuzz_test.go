package eidas

import (
	"context"
	"testing"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers/saml/samltest"
	"github.com/inps/sportello/providers/saml/samlx"
)

// FuzzACS posts arbitrary SAMLResponse bytes to the eIDAS ACS for a pending request that no
// valid signature can answer: the ACS must never panic, must always call the finisher, and
// must never accept. Seeds (testdata/fuzz/FuzzACS) are real signed responses of the dev eIDAS
// node for other requests and hostile variants; regenerate them with
// `go test -run TestWriteFuzzSeeds -update`.
func FuzzACS(f *testing.F) {
	e := newEnv(f, nil)
	if _, ok := e.sp.Registry().Lookup(context.Background(), e.idp.EntityID()); !ok {
		f.Fatal("the dev eIDAS node not loaded")
	}
	samltest.FuzzACS(f, e, e.sp.Deps().Store, "eidas", e.idp.EntityID(), t0)
}

// TestWriteFuzzSeeds regenerates the committed FuzzACS seed corpus (with -update only).
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate the seeds")
	}
	e := newEnv(t, nil)
	seeds := map[string]samltest.Hostile{
		"good-other-request": {},
		"good-both-signed":   {SignResponse: true},
		"unsigned-assertion": {UnsignedA: true, SignResponse: true},
		"loa-substantial": {PreSign: func(r, a *etree.Element) {
			a.FindElement("./saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef").SetText(LoASubstantial)
		}},
		"status-nr23": {Params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr23"
		}},
	}
	samltest.WriteFuzzSeeds(t, e, seeds)
}
