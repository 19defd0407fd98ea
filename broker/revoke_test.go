package broker

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// An operator's revoke-person ends every SSO session of the person, each told to its clients
// by back-channel logout, and refuses at once the refresh tokens, access tokens and codes the
// person obtained before; another person, and the person's next login, are untouched.
func TestRevokePersonEndsSessionsAndRefresh(t *testing.T) {
	rp := newBCLReceiver(t)
	tb := newTestBroker(t, memStore(t), withBackchannel("demo-rp", rp.URL+"/bcl", false))
	introspect := func(tok string) any {
		_, out := postForm(t, tb.URL+pathIntrospect, url.Values{"token": {tok}}, "demo-service", "demo-service-secret")
		return out["active"]
	}
	refresh := func(rt string) (int, map[string]any) {
		return postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, "demo-rp", "demo-secret")
	}
	var outs []map[string]any
	var browsers []*browser
	for range 2 { // two browsers: two sessions of Mario's
		br := newBrowser(t)
		outs = append(outs, bclLogin(t, tb, br))
		browsers = append(browsers, br)
	}
	// A code of Mario's, issued before the revocation and not redeemed yet.
	pending := codeFor(t, tb, "demo-rp", nil)
	// And one of Laura Bianchi's.
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid offline_access"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"BNCLRA85M41F205C:2"}}
	cb, resp := newBrowser(t).authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb == nil || cb.Get("code") == "" {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("no code for Laura Bianchi: %d %v %.300s", resp.StatusCode, cb, body)
	}
	otherCode := cb.Get("code")

	n, err := tb.EndSessions(t.Context(), "rssmra80a01h501u")
	if err != nil || n != 3 {
		t.Fatalf("EndSessions: %d %v, want Mario's 3 sessions", n, err)
	}
	for i, out := range outs {
		if st, body := refresh(out["refresh_token"].(string)); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("refresh of session %d after the revocation: %d %v", i, st, body)
		}
		if a := introspect(out["access_token"].(string)); a != false {
			t.Fatalf("the access token of session %d introspects as %v", i, a)
		}
	}
	if st, body := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {pending},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret"); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("a code issued before the revocation: %d %v", st, body)
	}
	// Each of the sessions in which demo-rp got tokens is told.
	for work(t, tb) > 0 {
	}
	sids := map[any]bool{}
	for _, tok := range rp.received() {
		_, c := verifyLogoutToken(t, tb, tok)
		sids[c["sid"]] = true
	}
	for i, out := range outs {
		if !sids[jwtClaims(t, out["id_token"].(string))["sid"]] {
			t.Fatalf("session %d got no logout token (%d received)", i, len(rp.received()))
		}
	}
	// The sessions are gone: prompt=none finds none.
	q = url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "prompt": {"none"}}
	for _, br := range browsers {
		if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil || cb.Get("error") != "login_required" {
			t.Fatalf("a session survived the revocation: %v", cb)
		}
	}
	// Laura is untouched; Mario's next login works.
	if st, _ := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {otherCode},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret"); st != http.StatusOK {
		t.Fatalf("another person's code: %d", st)
	}
	// An access token's iat has second precision: one issued within the second of the
	// revocation is refused too (fail closed). The next login comes a few seconds later.
	tb.now = func() time.Time { return time.Now().Add(3 * time.Second) }
	again := bclLogin(t, tb, newBrowser(t))
	if st, body := refresh(again["refresh_token"].(string)); st != http.StatusOK {
		t.Fatalf("refresh after a new login: %d %v", st, body)
	}
	if a := introspect(again["access_token"].(string)); a != true {
		t.Fatalf("a new access token introspects as %v", a)
	}
	if _, err := tb.EndSessions(t.Context(), "not-a-fiscal-code"); err == nil {
		t.Fatal("EndSessions of a malformed fiscal code")
	}
}

// The operators' CLI revokes a person without serving: over the shared Store, the same
// revocation, and the running replicas deliver the logout tokens it queued.
func TestRevokePersonFromAProcessThatIsNotServing(t *testing.T) {
	rp := newBCLReceiver(t)
	tb := newTestBroker(t, memStore(t), withBackchannel("demo-rp", rp.URL+"/bcl", false))
	out := bclLogin(t, tb, newBrowser(t))
	if _, err := RevokePerson(t.Context(), tb.cfg, tb.store, nil, "RSSMRA80A01H501U"); err == nil {
		t.Fatal("RevokePerson without the subject key")
	}
	n, err := RevokePerson(t.Context(), tb.cfg, tb.store, secret(t, tb.cfg.Subject.Key), "RSSMRA80A01H501U")
	if err != nil || n != 1 {
		t.Fatalf("RevokePerson: %d %v", n, err)
	}
	if st, body := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}},
		"demo-rp", "demo-secret"); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after the revocation: %d %v", st, body)
	}
	if work(t, tb) != 1 || len(rp.received()) != 1 {
		t.Fatalf("the serving replica delivered %d logout tokens", len(rp.received()))
	}
	if _, c := verifyLogoutToken(t, tb, rp.received()[0]); c["sid"] != jwtClaims(t, out["id_token"].(string))["sid"] {
		t.Fatalf("claims %v", c)
	}
}

// A session that escaped the revocation's EndPerson (its index entry lost, opened while the
// revocation ran, EndPerson failing) issues nothing more: it rests on an authentication at or
// before the person's mark, so /authorize ends it instead of reusing it — prompt=none is
// login_required — and the person must log in again.
func TestRevokedPersonsEscapedSessionIsNotReused(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	out := bclLogin(t, tb, br)
	none := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "prompt": {"none"}}
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+none.Encode()); cb == nil || cb.Get("code") == "" {
		t.Fatalf("the session before the revocation: %v", cb)
	}
	// The mark alone, as when EndPerson missed the session; a code issued from the session
	// later would be granted after the mark, by a login before it.
	if _, err := tb.grants.RevokePerson(t.Context(), subjectFor(tb.subjectKey, "RSSMRA80A01H501U")); err != nil {
		t.Fatal(err)
	}
	tb.now = func() time.Time { return time.Now().Add(3 * time.Second) }
	for range 2 { // ended the first time: gone the second
		if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+none.Encode()); cb == nil || cb.Get("code") != "" || cb.Get("error") != "login_required" {
			t.Fatalf("the escaped session after the revocation: %v, want login_required and no code", cb)
		}
	}
	if st, body := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}},
		"demo-rp", "demo-secret"); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh after the revocation: %d %v", st, body)
	}
	// A new login (after the mark) is a new session, which works.
	again := bclLogin(t, tb, br)
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+none.Encode()); cb == nil || cb.Get("code") == "" {
		t.Fatalf("the new session: %v", cb)
	}
	if st, body := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {again["refresh_token"].(string)}},
		"demo-rp", "demo-secret"); st != http.StatusOK {
		t.Fatalf("refresh after the new login: %d %v", st, body)
	}
}

// Tokens issued from a login before the person's mark are refused at refresh and
// introspection however late they were issued (a session that escaped the revocation): the
// authentication time decides (auth_time, the grant's login), not when the tokens or the code
// were issued.
func TestRevokedPersonsTokensAreJudgedByTheirAuthentication(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	sub := subjectFor(tb.subjectKey, "RSSMRA80A01H501U")
	login := time.Now().Add(-time.Minute).Truncate(time.Second)
	if _, err := tb.grants.RevokePerson(t.Context(), sub); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(3 * time.Second) // granted, and the tokens issued, after the mark
	cl, _ := tb.client("demo-rp")
	g := grants.Grant{ClientID: "demo-rp", Scopes: []string{"openid", "offline_access"}, Subject: sub, GrantedAt: later,
		Identity: &providers.Identity{FiscalNumber: "RSSMRA80A01H501U", Method: "spid", ACR: loa.SpidL2, AuthTime: login}}
	resp, _, err := tb.issueWithFamily(t.Context(), cl, &g, "fam-escaped", later.Add(time.Hour), later, true, "", "")
	if err != nil || resp.RefreshToken == "" {
		t.Fatalf("issue: %v %v", resp, err)
	}
	_, in := postForm(t, tb.URL+pathIntrospect, url.Values{"token": {resp.AccessToken}}, "demo-service", "demo-service-secret")
	if in["active"] != false {
		t.Fatalf("the access token of a revoked login introspects as %v", in)
	}
	_, in = postForm(t, tb.URL+pathIntrospect, url.Values{"token": {resp.RefreshToken}}, "demo-service", "demo-service-secret")
	if in["active"] != false {
		t.Fatalf("the refresh token of a revoked login introspects as %v", in)
	}
	tb.now = func() time.Time { return time.Now().Add(4 * time.Second) }
	if st, body := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {resp.RefreshToken}},
		"demo-rp", "demo-secret"); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh of a revoked login: %d %v", st, body)
	}
}

// markingDelegations revokes the person while /authorize completes a login from the SSO
// session: the mark falls between the session's check and the code's issuing.
type markingDelegations struct {
	mark func(ctx context.Context)
}

func (d *markingDelegations) ActiveFor(ctx context.Context, _ string) ([]DelegationChoice, error) {
	if d.mark != nil {
		d.mark(ctx)
	}
	return nil, nil
}

func (d *markingDelegations) Active(context.Context, string) (bool, error) { return true, nil }

// A mark written after /authorize checked the session but before the code was issued revokes
// the code: it rests on the login before the mark, though it was issued after it.
func TestRevokePersonWhileACodeIsIssued(t *testing.T) {
	d := &markingDelegations{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Delegations = d })
	br := newBrowser(t)
	bclLogin(t, tb, br)
	d.mark = func(ctx context.Context) {
		if _, err := tb.grants.RevokePerson(ctx, subjectFor(tb.subjectKey, "RSSMRA80A01H501U")); err != nil {
			t.Error(err)
		}
		tb.now = func() time.Time { return time.Now().Add(3 * time.Second) } // the code is issued after the mark
	}
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid offline_access"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "prompt": {"none"}}
	cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb == nil || cb.Get("code") == "" {
		t.Fatalf("no code from the session: %v", cb)
	}
	d.mark = nil
	if st, body := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret"); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("a code issued while the person was revoked: %d %v", st, body)
	}
}
