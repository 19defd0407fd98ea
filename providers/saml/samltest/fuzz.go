package samltest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers/saml"
)

// FuzzRequestID is the ID of the pending request FuzzACS answers: no seed answers it.
const FuzzRequestID = "_fuzz-request-never-answered-by-a-seed"

// FuzzACS is every profile's ACS fuzz target: arbitrary SAMLResponse bytes posted to tg for a
// pending request of idp (the profile's record in st, put again before each input) that no
// valid signature can answer. The ACS must never panic, must always call the finisher and
// must never accept. Its seeds (testdata/fuzz/FuzzACS) are WriteFuzzSeeds's.
func FuzzACS(f *testing.F, tg Target, st store.Store, profile, idp string, now time.Time) {
	ctx := context.Background()
	rec, err := json.Marshal(saml.Request{LoginID: "fuzz", RequestID: FuzzRequestID, IdP: idp,
		IssueInstant: now, Level: 2, Comparison: loa.Minimum})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("<samlp:Response/>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := st.Put(ctx, profile+":req:fuzz", rec, 0); err != nil {
			t.Fatal(err)
		}
		_, o := tg.Post(t, "fuzz", data)
		if o.Identity != nil || o.Err == nil {
			t.Fatalf("accepted fuzz input: %+v", o)
		}
	})
}

// WriteFuzzSeeds writes FuzzACS's seed corpus (testdata/fuzz/FuzzACS): real signed responses
// of tg's IdP for other requests, good and hostile (seeds, by file name), and the XSW rows.
func WriteFuzzSeeds(t *testing.T, tg Target, seeds map[string]Hostile) {
	for _, row := range XSWRows(t) {
		seeds[row.Name[:4]] = row.H
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzACS")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for name, h := range seeds {
		p := tg.Start(t, "seed", loa.SpidL2, "")
		xml := Build(t, tg.Good(p), tg.Keys(), h)
		if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", xml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
