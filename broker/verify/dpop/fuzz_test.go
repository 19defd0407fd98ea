package dpop_test

import (
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/broker/verify/dpop"
)

// fuzzEpoch is the clock of FuzzCheck; the committed seeds in testdata/fuzz/FuzzCheck were
// signed at this time, so the valid ones stay valid.
var fuzzEpoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// FuzzCheck feeds arbitrary strings to Check as a proof: it never panics, whatever it accepts
// carries a thumbprint and the request's htm, and the same proof is never accepted twice.
func FuzzCheck(f *testing.F) {
	for _, alg := range dpop.DefaultAlgorithms {
		cl := newClient(f, alg)
		f.Add(cl.proof(f, claimsAt(fuzzEpoch, "POST", tokenURI), nil))
		c := claimsAt(fuzzEpoch, "POST", tokenURI+"?q#f")
		c["ath"] = dpop.TokenHash("t")
		f.Add(cl.proof(f, c, nil))
	}
	f.Add(rawJWT(map[string]any{"alg": "none", "typ": "dpop+jwt"}, claimsAt(fuzzEpoch, "POST", tokenURI), ""))
	f.Add("eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwb3Arand0In0..")
	f.Fuzz(func(t *testing.T, proof string) {
		c := newChecker(t, fuzzEpoch, func(o *dpop.Options) {
			o.Algorithms = []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.EdDSA, jose.RS256, jose.ES384}
		})
		p, err := c.Check(ctx, proof, dpop.Request{Method: "POST", URI: tokenURI})
		if err != nil {
			if !errors.Is(err, dpop.ErrInvalidProof) {
				t.Fatalf("a refusal that is not ErrInvalidProof: %v", err)
			}
			return
		}
		if len(p.JKT) != 43 || p.ID == "" || !p.Key.IsPublic() {
			t.Fatalf("accepted %+v", p)
		}
		if _, err := c.Check(ctx, proof, dpop.Request{Method: "POST", URI: tokenURI}); !errors.Is(err, dpop.ErrReplay) {
			t.Fatalf("accepted twice: %v", err)
		}
	})
}
