package cieid

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/saml/samltest"
	"github.com/inps/sportello/providers/saml/samlx"
)

const fuzzRequestID = "_fuzz-request-never-answered-by-a-seed"

// FuzzACS posts arbitrary SAMLResponse bytes to the CIE ID ACS for a pending request that no
// valid signature can answer: the ACS must never panic, must always call the finisher, and
// must never accept. Seeds (testdata/fuzz/FuzzACS) are real signed responses of the dev CIE ID
// server for other requests and hostile variants; regenerate them with
// `go test -run TestWriteFuzzSeeds -update`.
func FuzzACS(f *testing.F) {
	e := newEnv(f, nil)
	ctx := context.Background()
	if _, ok := e.sp.Registry().Lookup(ctx, e.idp.EntityID()); !ok {
		f.Fatal("dev CIE ID server not loaded")
	}
	rec, _ := json.Marshal(saml.Request{LoginID: "fuzz", RequestID: fuzzRequestID, IdP: e.idp.EntityID(),
		IssueInstant: t0, Level: 2, Comparison: "minimum"})
	f.Add([]byte("<samlp:Response/>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := e.sp.Deps().Store.Put(ctx, "cieid:req:fuzz", rec, 0); err != nil {
			t.Fatal(err)
		}
		_, o := e.Post(t, "fuzz", data)
		if o.Identity != nil || o.Err == nil {
			t.Fatalf("accepted fuzz input: %+v", o)
		}
	})
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
		"issuer-with-format": {Params: func(p *samlx.ResponseParams) { p.ResponseIssuerWithoutFormat = false }},
		"status-nr23": {Params: func(p *samlx.ResponseParams) {
			p.StatusCode, p.StatusMessage = samlx.StatusResponder, "ErrorCode nr23"
		}},
	}
	for _, row := range samltest.XSWRows(t) {
		seeds[row.Name[:4]] = row.H
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzACS")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, h := range seeds {
		p := e.Start(t, "seed", loa.SpidL2, "")
		xml := samltest.Build(t, e.Good(p), e.keys, h)
		if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", xml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
