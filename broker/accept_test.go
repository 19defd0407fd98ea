package broker

import (
	"net/http"
	"testing"
	"time"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/broker/keys"
)

// The operators' APIs accept an access token as every endpoint does: a delegated token whose
// delegation has ended is refused there too, not only at introspection, userinfo and token
// exchange.
func TestOperatorBearerRechecksTheDelegation(t *testing.T) {
	deleg := &fakeDelegations{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Delegations = deleg })
	now := time.Now()
	tok, err := tb.signJWT("ES256", keys.TypAccessToken, &claims.Access{Issuer: tb.URL, Subject: "delegator-sub",
		Audience: claims.Audience{tb.accessAud}, ClientID: "demo-operator", Scope: "pin:office", JTI: "j-deleg",
		IssuedAt: now.Unix(), Expiry: now.Add(time.Minute).Unix(),
		Person: claims.Person{Act: &claims.Act{Subject: "delegate-sub", Delegation: &claims.Delegation{ID: "d1", Type: "office_aa08"}}}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptestRequest(http.MethodGet, "/admin/pin/x")
	r.Header.Set("Authorization", "Bearer "+tok)
	if who, ok := tb.AuthorizeBearer(r, "pin:office"); !ok || who != "delegator-sub" {
		t.Fatalf("a delegated token while its delegation holds: %q %v", who, ok)
	}
	deleg.mu.Lock()
	deleg.revoked = true
	deleg.mu.Unlock()
	if who, ok := tb.AuthorizeBearer(r, "pin:office"); ok {
		t.Fatalf("a delegated token after its delegation ended was accepted for %q", who)
	}
}

// Every caller gets the same acceptance: a chain deeper than token exchange ever builds is
// refused even without a delegation registry to ask, and token exchange keeps room for the
// actor it adds.
func TestAcceptAccessTokenActDepth(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	now := time.Now()
	chain := func(n int) string {
		var act *claims.Act
		for range n {
			act = &claims.Act{Subject: "svc", ClientID: "svc", Act: act}
		}
		tok, err := tb.signJWT("ES256", keys.TypAccessToken, &claims.Access{Issuer: tb.URL, Subject: "sub",
			Audience: claims.Audience{tb.accessAud}, ClientID: "demo-rp", JTI: "j", IssuedAt: now.Unix(),
			Expiry: now.Add(time.Minute).Unix(), Person: claims.Person{Act: act}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tt := range []struct {
		actors, limit int
		ok            bool
	}{
		{maxActDepth, 0, true},
		{maxActDepth + 1, 0, false},
		{maxActDepth - 1, maxActDepth - 1, true},
		{maxActDepth, maxActDepth - 1, false},
	} {
		_, err := tb.acceptAccessToken(t.Context(), chain(tt.actors), acceptOptions{maxActDepth: tt.limit})
		if (err == nil) != tt.ok || (err != nil && !refused(err)) {
			t.Errorf("%d actors, limit %d: %v, want accepted=%v", tt.actors, tt.limit, err, tt.ok)
		}
	}
}
