package broker

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/internal/loa"
)

// fakeDelegations: Laura Bianchi is the delegate of Giuseppe Verdi (delegation d1).
type fakeDelegations struct {
	mu      sync.Mutex
	revoked bool
}

func (f *fakeDelegations) ActiveFor(_ context.Context, cf string) ([]DelegationChoice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cf != "BNCLRA85M41F205C" || f.revoked {
		return nil, nil
	}
	return []DelegationChoice{{ID: "d1", Type: "office_aa08", DelegatorFiscalNumber: "VRDGPP40C15L219U",
		DelegatorGivenName: "Giuseppe", DelegatorFamilyName: "Verdi"}}, nil
}

func (f *fakeDelegations) Active(_ context.Context, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return id == "d1" && !f.revoked, nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
var loginField = regexp.MustCompile(`name="login" value="([^"]+)"`)

// actFor logs Laura in, answers the question with choice and returns the callback query.
func actFor(t *testing.T, tb *testBroker, choice string, extra url.Values) url.Values {
	t.Helper()
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid profile fiscal_number offline_access"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"BNCLRA85M41F205C:2"}}
	for k, v := range extra {
		q[k] = v
	}
	cb, resp := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	if cb != nil {
		return cb
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `name="act_for"`) {
		t.Fatalf("no delegation question: %d %.300s", resp.StatusCode, body)
	}
	form := url.Values{"csrf": {csrfField.FindStringSubmatch(string(body))[1]}, "login": {loginField.FindStringSubmatch(string(body))[1]}, "act_for": {choice}}
	post, err := br.PostForm(tb.URL+"/login/act", form)
	if err != nil {
		t.Fatal(err)
	}
	defer post.Body.Close()
	loc, _ := url.Parse(post.Header.Get("Location"))
	if loc == nil || loc.Port() != "9000" {
		return nil
	}
	return loc.Query()
}

func TestDelegatedLogin(t *testing.T) {
	deleg := &fakeDelegations{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Delegations = deleg })
	redeem := func(cb url.Values) map[string]any {
		st, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}}, "demo-rp", "demo-secret")
		if st != http.StatusOK {
			t.Fatalf("code exchange: %d %v", st, out)
		}
		return out
	}
	t.Run("acting for the delegator: sub and fiscal_number of the delegator, act of the delegate", func(t *testing.T) {
		cb := actFor(t, tb, "VRDGPP40C15L219U", nil)
		if cb == nil {
			t.Fatal("no code after choosing the delegator")
		}
		out := redeem(cb)
		for _, tok := range []string{out["id_token"].(string), out["access_token"].(string)} {
			c := jwtClaims(t, tok)
			act, _ := c["act"].(map[string]any)
			d, _ := act["delegation"].(map[string]any)
			if c["sub"] != subjectFor(tb.subjectKey, "VRDGPP40C15L219U") || c["fiscal_number"] != "VRDGPP40C15L219U" ||
				c["given_name"] != "Giuseppe" || c["acr"] != loa.SpidL2 ||
				act["sub"] != subjectFor(tb.subjectKey, "BNCLRA85M41F205C") || act["fiscal_number"] != "BNCLRA85M41F205C" ||
				d["id"] != "d1" || d["type"] != "office_aa08" {
				t.Fatalf("claims = %v", c)
			}
		}
		// Token exchange keeps the delegation and nests it under the service.
		st, ex := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token": {out["access_token"].(string)}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
			"audience": {"inps-pensioni"}}, "demo-service", "demo-service-secret")
		if st != http.StatusOK {
			t.Fatalf("exchange: %d %v", st, ex)
		}
		act := jwtClaims(t, ex["access_token"].(string))["act"].(map[string]any)
		if inner, _ := act["act"].(map[string]any); act["sub"] != "demo-service" || inner["fiscal_number"] != "BNCLRA85M41F205C" {
			t.Fatalf("exchanged act = %v", act)
		}
		// Refresh works while the delegation holds, and stops once it is revoked.
		st, ref := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}}, "demo-rp", "demo-secret")
		if st != http.StatusOK {
			t.Fatalf("refresh while delegated: %d %v", st, ref)
		}
		deleg.mu.Lock()
		deleg.revoked = true
		deleg.mu.Unlock()
		defer func() { deleg.mu.Lock(); deleg.revoked = false; deleg.mu.Unlock() }()
		// The delegated access token stops counting at once: no exchange, inactive on
		// introspection, refused by userinfo — even though its exp has not come.
		if _, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token": {ref["access_token"].(string)}, "subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
			"audience": {"inps-pensioni"}}, "demo-service", "demo-service-secret"); out["error"] != "invalid_grant" {
			t.Fatalf("exchange after the delegation was revoked: %v", out)
		}
		for _, tok := range []string{ref["access_token"].(string), ex["access_token"].(string), ref["refresh_token"].(string)} {
			if _, out := postForm(t, tb.URL+pathIntrospect, url.Values{"token": {tok}}, "demo-service", "demo-service-secret"); out["active"] != false {
				t.Fatalf("introspection after the delegation was revoked: %v", out)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, tb.URL+pathUserinfo, nil)
		req.Header.Set("Authorization", "Bearer "+ref["access_token"].(string))
		if resp, err := http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		} else if resp.Body.Close(); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("userinfo after the delegation was revoked: %d", resp.StatusCode)
		}
		if _, out := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {ref["refresh_token"].(string)}}, "demo-rp", "demo-secret"); out["error"] != "invalid_grant" {
			t.Fatalf("refresh after the delegation was revoked: %v", out)
		}
	})
	t.Run("acting for oneself: no act", func(t *testing.T) {
		out := redeem(actFor(t, tb, "self", nil))
		c := jwtClaims(t, out["id_token"].(string))
		if c["fiscal_number"] != "BNCLRA85M41F205C" || c["act"] != nil {
			t.Fatalf("claims = %v", c)
		}
	})
	t.Run("delegation=skip asks nothing", func(t *testing.T) {
		cb := actFor(t, tb, "", url.Values{"delegation": {"skip"}})
		if cb == nil || cb.Get("code") == "" {
			t.Fatal("delegation=skip still asked")
		}
	})
	t.Run("a delegator not offered is refused", func(t *testing.T) {
		if cb := actFor(t, tb, "RSSMRA80A01H501U", nil); cb != nil {
			t.Fatal("acted for someone who never delegated")
		}
	})
	t.Run("the answer needs the CSRF token", func(t *testing.T) {
		resp, err := http.PostForm(tb.URL+"/login/act", url.Values{"login": {"x"}, "act_for": {"self"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("got %d", resp.StatusCode)
		}
	})
}

// The act chain is walked to its end: a delegation nested at any depth is checked, and a
// chain deeper than token exchange ever builds is refused rather than left unchecked.
func TestTokenDelegationsHoldWalksTheWholeChain(t *testing.T) {
	deleg := &fakeDelegations{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Delegations = deleg })
	chain := func(depth int, id string) *claims.Act {
		act := &claims.Act{Subject: "delegate", Delegation: &claims.Delegation{ID: id}}
		for i := 1; i < depth; i++ {
			act = &claims.Act{Subject: "service", Act: act}
		}
		return act
	}
	for _, tt := range []struct {
		name  string
		depth int
		id    string
		want  bool
	}{
		{"an active delegation right under the token", 1, "d1", true},
		{"an active delegation under 7 services", maxActDepth, "d1", true},
		{"an unknown delegation under 3 services", 4, "d9", false},
		{"a chain deeper than exchange builds", maxActDepth + 1, "d1", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tb.tokenDelegationsHold(t.Context(), chain(tt.depth, tt.id)); err != nil || got != tt.want {
				t.Fatalf("hold = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// A pending login gives one code: the delegation question answered many times at once (a
// double click, two tabs) completes it once.
func TestDelegationAnswerCompletesTheLoginOnce(t *testing.T) {
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) { o.Delegations = &fakeDelegations{} })
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid fiscal_number"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"BNCLRA85M41F205C:2"}}
	_, resp := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode())
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `name="act_for"`) {
		t.Fatalf("no delegation question: %d %.300s", resp.StatusCode, body)
	}
	form := url.Values{"csrf": {csrfField.FindStringSubmatch(string(body))[1]}, "login": {loginField.FindStringSubmatch(string(body))[1]}, "act_for": {"self"}}
	const answers = 16
	var wg sync.WaitGroup
	codes := make(chan string, answers)
	for range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			post, err := br.PostForm(tb.URL+"/login/act", form)
			if err != nil {
				t.Error(err)
				return
			}
			post.Body.Close()
			if loc, _ := url.Parse(post.Header.Get("Location")); loc != nil && loc.Query().Get("code") != "" {
				codes <- loc.Query().Get("code")
			}
		}()
	}
	wg.Wait()
	close(codes)
	if n := len(codes); n != 1 {
		t.Fatalf("%d codes from %d answers to one login, want 1", n, answers)
	}
}
