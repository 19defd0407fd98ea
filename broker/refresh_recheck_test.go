package broker

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
)

// unreliableDelegations is the delegation registry of fakeDelegations behind a store that
// times out while failing is set.
type unreliableDelegations struct {
	fakeDelegations
	failing atomic.Bool
}

func (u *unreliableDelegations) Active(ctx context.Context, id string) (bool, error) {
	if u.failing.Load() {
		return false, errors.New("redis: i/o timeout")
	}
	return u.fakeDelegations.Active(ctx, id)
}

// The re-check of a delegated grant at refresh: a registry that cannot answer is 503
// temporarily_unavailable and revokes nothing (the same refresh token works once it answers);
// an ended delegation is invalid_grant and revokes the family for good.
func TestRefreshRecheckRevokesOnlyAnEndedGrant(t *testing.T) {
	deleg := &unreliableDelegations{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Delegations = deleg })
	cb := actFor(t, tb, "VRDGPP40C15L219U", nil)
	if cb == nil {
		t.Fatal("no code after choosing the delegator")
	}
	st, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
	if st != http.StatusOK {
		t.Fatalf("code exchange: %d %v", st, out)
	}
	rt := out["refresh_token"].(string)

	deleg.failing.Store(true)
	if st, out := postForm(t, tb.URL+pathToken, refreshForm(rt), "demo-rp", "demo-secret"); st != http.StatusServiceUnavailable || out["error"] != "temporarily_unavailable" {
		t.Fatalf("refresh while the registry times out: %d %v, want 503 temporarily_unavailable", st, out)
	}
	deleg.failing.Store(false)
	st, out = postForm(t, tb.URL+pathToken, refreshForm(rt), "demo-rp", "demo-secret")
	if st != http.StatusOK {
		t.Fatalf("the same refresh token once the registry answers: %d %v (a store outage must not log people out)", st, out)
	}
	next := out["refresh_token"].(string)

	deleg.mu.Lock()
	deleg.revoked = true
	deleg.mu.Unlock()
	if st, out := postForm(t, tb.URL+pathToken, refreshForm(next), "demo-rp", "demo-secret"); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("refresh after the delegation ended: %d %v, want invalid_grant", st, out)
	}
	if revoked, err := tb.grants.FamilyRevoked(context.Background(), jwtClaims(t, out["access_token"].(string))["grant_id"].(string)); err != nil || !revoked {
		t.Fatalf("the family of an ended delegation is not revoked: %v %v", revoked, err)
	}
}
