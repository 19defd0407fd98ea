package grants_test

import (
	"errors"
	"testing"
	"time"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/providers"
)

var personTests = []repoTest{
	{"revoking a person refuses the refresh of every family granted before, and no later one", func(t *testing.T, r *grants.Repo) {
		ctx := t.Context()
		before := grant
		before.GrantedAt = time.Now().Add(-time.Minute)
		t1, err := r.IssueRefresh(ctx, &before, "fam-1", time.Now().Add(time.Hour), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		t2, _ := r.IssueRefresh(ctx, &before, "fam-2", time.Now().Add(time.Hour), time.Now())
		other := grant
		other.Subject, other.GrantedAt = "sub-2", before.GrantedAt
		t3, _ := r.IssueRefresh(ctx, &other, "fam-3", time.Now().Add(time.Hour), time.Now())
		at, err := r.RevokePerson(ctx, grant.Subject)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{t1, t2} {
			if _, err := r.ActiveRefresh(ctx, tok, grant.ClientID, time.Now()); !errors.Is(err, grants.ErrRevoked) {
				t.Fatalf("a family of the revoked person: %v, want ErrRevoked", err)
			}
		}
		if _, err := r.ActiveRefresh(ctx, t3, grant.ClientID, time.Now()); err != nil {
			t.Fatalf("another person's family: %v", err)
		}
		after := grant
		after.GrantedAt = at.Add(time.Millisecond)
		t4, _ := r.IssueRefresh(ctx, &after, "fam-4", time.Now().Add(time.Hour), time.Now())
		if _, err := r.ActiveRefresh(ctx, t4, grant.ClientID, time.Now()); err != nil {
			t.Fatalf("a login after the revocation: %v", err)
		}
	}},
	{"revoking a delegate revokes what they obtained for a delegator", func(t *testing.T, r *grants.Repo) {
		g := grant
		g.Subject, g.GrantedAt = "sub-delegator", time.Now().Add(-time.Minute)
		g.Act = &claims.Act{Subject: "sub-delegate"}
		tok, _ := r.IssueRefresh(t.Context(), &g, "fam-d", time.Now().Add(time.Hour), time.Now())
		if _, err := r.RevokePerson(t.Context(), "sub-delegate"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ActiveRefresh(t.Context(), tok, grant.ClientID, time.Now()); !errors.Is(err, grants.ErrRevoked) {
			t.Fatalf("%v, want ErrRevoked", err)
		}
	}},
	{"a grant is judged by its authentication: one granted after the mark on a login before it is revoked", func(t *testing.T, r *grants.Repo) {
		at, err := r.RevokePerson(t.Context(), grant.Subject)
		if err != nil {
			t.Fatal(err)
		}
		g := grant
		g.GrantedAt = at.Add(time.Second) // a code issued later from an SSO session
		g.Identity = &providers.Identity{FiscalNumber: "RSSMRA80A01H501U", AuthTime: at.Add(-time.Minute)}
		if revoked, err := r.PersonRevoked(t.Context(), g.Granted(), g.People()...); err != nil || !revoked {
			t.Fatalf("granted after the mark on a login before it: %v %v", revoked, err)
		}
		g.Identity.AuthTime = at.Add(time.Millisecond)
		if revoked, err := r.PersonRevoked(t.Context(), g.Granted(), g.People()...); err != nil || revoked {
			t.Fatalf("a login after the mark: %v %v", revoked, err)
		}
		g.GrantedAt = time.Time{} // a grant written before GrantedAt existed
		if got := g.Granted(); !got.Equal(g.Identity.AuthTime) {
			t.Fatalf("Granted without GrantedAt = %v", got)
		}
		g.Identity, g.GrantedAt = nil, at.Add(time.Second) // a client's own grant
		if got := g.Granted(); !got.Equal(g.GrantedAt) {
			t.Fatalf("Granted without an identity = %v", got)
		}
	}},
	{"a grant with no time of its own is revoked by any mark (fail closed)", func(t *testing.T, r *grants.Repo) {
		if _, err := r.RevokePerson(t.Context(), grant.Subject); err != nil {
			t.Fatal(err)
		}
		if revoked, err := r.PersonRevoked(t.Context(), time.Time{}, grant.People()...); err != nil || !revoked {
			t.Fatalf("%v %v", revoked, err)
		}
		if revoked, err := r.PersonRevoked(t.Context(), time.Time{}, "sub-never-revoked"); err != nil || revoked {
			t.Fatalf("a person never revoked: %v %v", revoked, err)
		}
		if _, err := r.RevokePerson(t.Context(), ""); err == nil {
			t.Fatal("RevokePerson of no sub")
		}
	}},
}
