package broker

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/inps/sportello/internal/store"
	redisstore "github.com/inps/sportello/internal/store/redis"
	"github.com/inps/sportello/internal/store/redistest"
)

// survivalRedis starts a real redis-server (with args) and a Store on it.
func survivalRedis(t *testing.T, args ...string) (*redistest.Process, store.Store) {
	t.Helper()
	p := redistest.StartProcess(t, args...)
	st, err := redisstore.New(context.Background(), redisstore.Options{URL: p.URL(), Prefix: redistest.UniquePrefix()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return p, st
}

// survivalRP is demo-rp against base (the issuer or a load balancer in front of it).
func survivalRP(base string) *oauth2.Config {
	return &oauth2.Config{ClientID: "demo-rp", ClientSecret: "demo-secret", RedirectURL: "http://127.0.0.1:9000/callback",
		Scopes:   []string{"openid", "fiscal_number", "offline_access"},
		Endpoint: oauth2.Endpoint{AuthURL: base + pathAuthorize, TokenURL: base + pathToken, AuthStyle: oauth2.AuthStyleInHeader}}
}

// survivalLogin logs Mario Rossi in through the test provider and redeems the code.
func survivalLogin(t *testing.T, base string) *oauth2.Token {
	t.Helper()
	rp := survivalRP(base)
	cb, resp := newBrowser(t).authorize(t, rp.AuthCodeURL("s", oauth2.SetAuthURLParam("idp", "RSSMRA80A01H501U:2")))
	if cb == nil {
		t.Fatalf("login did not reach the callback: %d", resp.StatusCode)
	}
	tok, err := rp.Exchange(context.Background(), cb.Get("code"))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	return tok
}

// tokenPost posts form to the token endpoint as demo-rp and returns the status and the OAuth
// error code (empty on success) — raw, so a 503 is seen as it is.
func tokenPost(t *testing.T, base string, form url.Values) (int, string, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+pathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-rp", "demo-secret")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("token endpoint: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	code, _ := body["error"].(string)
	return resp.StatusCode, code, body
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

// status GETs base+path and returns the status code and body.
func status(t *testing.T, base, path string, hdr ...string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	_, _ = ioCopy(&sb, resp)
	return resp.StatusCode, sb.String()
}

// eventually polls cond every 100ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
