package broker

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/store/storetest"
)

// body reads and closes a response body.
func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The broker's own sign-in comes back to the page that asked for it (so "Le mie deleghe" after
// a logout and the PIN telefonico without a session are no dead ends), and only to
// the pages it knows: never an open redirect, and its codes are never redeemable.
func TestSignInComesBackToThePageAsked(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	br.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/deleghe/" || req.URL.Path == pathSignInDone || req.URL.Host != strings.TrimPrefix(tb.URL, "http://") {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := br.Get(tb.URL + "/accedi?next=" + url.QueryEscape("/deleghe/"))
	if err != nil {
		t.Fatal(err)
	}
	page := body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `class="sp-choice"`) || !strings.Contains(page, "Servizi online INPS") {
		t.Fatalf("no chooser for the sign-in: %d %.800s", resp.StatusCode, page)
	}
	chooser := resp.Request.URL.String()
	resp, err = br.Get(chooser + "/test?hint=" + url.QueryEscape("RSSMRA80A01H501U:2"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	done, _ := url.Parse(resp.Header.Get("Location"))
	if done == nil || done.Path != pathSignInDone || done.Query().Get("code") == "" {
		t.Fatalf("not sent to %s: %d %q", pathSignInDone, resp.StatusCode, resp.Header.Get("Location"))
	}
	code := done.Query().Get("code")
	resp, err = br.Get(done.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/deleghe/" {
		t.Fatalf("not back at the page asked: %d %q (from %s)", resp.StatusCode, resp.Header.Get("Location"), resp.Request.URL)
	}
	if id, _ := tb.SessionIdentity(mustRequestWithCookies(t, br, tb.URL)); id == nil || id.FiscalNumber != "RSSMRA80A01H501U" {
		t.Fatal("no session after the sign-in")
	}
	// The code handed to /accedi/fine was taken unused.
	if _, err := tb.store.Get(t.Context(), "code:"+tokenHash(code)); err == nil {
		t.Fatal("the sign-in's code is left in the store")
	}
	// The built-in client has no secret: the token endpoint never accepts it.
	if st, _ := postForm(t, tb.URL+pathToken, url.Values{"grant_type": {"client_credentials"}}, selfClientID, ""); st != http.StatusUnauthorized && st != http.StatusBadRequest {
		t.Fatalf("the sign-in client authenticated at the token endpoint: %d", st)
	}

	// Any other next gives the signed-in page of the broker, never a redirect elsewhere.
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/deleghe/../admin/"} {
		br2 := newBrowser(t)
		resp, err := br2.Get(tb.URL + "/accedi?next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = br2.Get(resp.Request.URL.String() + "/test?hint=" + url.QueryEscape("RSSMRA80A01H501U:2"))
		if err != nil {
			t.Fatal(err)
		}
		page := body(t, resp)
		if resp.Request.URL.Host != strings.TrimPrefix(tb.URL, "http://") || !strings.Contains(page, "Accesso effettuato") {
			t.Fatalf("next=%q: ended at %s %.500s", next, resp.Request.URL, page)
		}
	}
	if resp := getPage(t, tb.URL+pathSignInDone+"?state=forged&code=x"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a forged sign-in state: %d", resp.StatusCode)
	}
}

// The logout confirmation has "Annulla", which keeps the session and says so, with the way
// back to the service when the request named a registered one; the page after a logout offers
// to sign in again.
func TestLogoutConfirmationCanBeCancelled(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	br := newBrowser(t)
	q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"RSSMRA80A01H501U:2"}}
	if cb, _ := br.authorize(t, tb.URL+pathAuthorize+"?"+q.Encode()); cb == nil {
		t.Fatal("login failed")
	}
	lo := url.Values{"client_id": {"demo-rp"}, "post_logout_redirect_uri": {"http://127.0.0.1:9000/"}, "state": {"ls"}}
	resp, err := br.Get(tb.URL + pathEndSession + "?" + lo.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page := body(t, resp)
	i := strings.Index(page, `class="btn btn-outline-primary" href="`)
	if i < 0 || !strings.Contains(page, ">Annulla</a>") {
		t.Fatalf("no Annulla on the confirmation: %.1500s", page)
	}
	cancel := page[i+len(`class="btn btn-outline-primary" href="`):]
	cancel = strings.ReplaceAll(cancel[:strings.IndexByte(cancel, '"')], "&amp;", "&")
	resp, err = br.Get(cancel)
	if err != nil {
		t.Fatal(err)
	}
	page = body(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "Uscita annullata") || !strings.Contains(page, `href="http://127.0.0.1:9000/?state=ls"`) {
		t.Fatalf("cancelled logout: %d %.1500s", resp.StatusCode, page)
	}
	if id, _ := tb.SessionIdentity(mustRequestWithCookies(t, br, tb.URL)); id == nil {
		t.Fatal("Annulla ended the session")
	}
	if page := body(t, getPage(t, tb.URL+"/logged-out")); !strings.Contains(page, `href="/accedi"`) {
		t.Fatalf("no way to sign in again after a logout: %.800s", page)
	}
}

// The chooser names the service the person is signing in to: its display_name.
func TestChooserNamesTheService(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	_, page := chooserOf(t, tb, newBrowser(t), url.Values{"ui_locales": {"en"}})
	if !strings.Contains(page, "You are signing in to: <strong>Demo service</strong>") {
		t.Fatalf("%.1500s", page)
	}
}

func getPage(t *testing.T, u string) *http.Response {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// mustRequestWithCookies is a request to base carrying br's cookies.
func mustRequestWithCookies(t *testing.T, br *browser, base string) *http.Request {
	t.Helper()
	r, err := http.NewRequest("GET", base+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(base)
	for _, c := range br.Jar.Cookies(u) {
		r.AddCookie(c)
	}
	return r
}

// The end of the broker's sign-in and a handed-back error page, read while the store is cut,
// say that the service is temporarily unavailable (503, Retry-After), not that the sign-in
// expired; what was there is still there once the store answers.
func TestSignInEndDuringAStoreOutage(t *testing.T) {
	cut := storetest.NewCutStore(memStore(t))
	tb := newTestBroker(t, cut)
	br := newBrowser(t)
	br.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == pathSignInDone || req.URL.Path == "/deleghe/" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := br.Get(tb.URL + "/accedi?next=" + url.QueryEscape("/deleghe/"))
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	resp, err = br.Get(resp.Request.URL.String() + "/test?hint=" + url.QueryEscape("RSSMRA80A01H501U:2"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	done := resp.Header.Get("Location")
	if !strings.Contains(done, pathSignInDone) {
		t.Fatalf("not sent to %s: %d %q", pathSignInDone, resp.StatusCode, done)
	}
	cut.Before(func(string, string) bool { return true })
	for _, u := range []string{done, tb.URL + pathLoginError + "?ref=any"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept-Language", "en")
		resp, err := br.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if page := body(t, resp); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "30" ||
			!strings.Contains(page, "temporarily unavailable") || strings.Contains(page, "expired") {
			t.Fatalf("%s during the outage: %d Retry-After %q %.1500s", u, resp.StatusCode, resp.Header.Get("Retry-After"), page)
		}
	}
	cut.Before(nil)
	resp, err = br.Get(done)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/deleghe/" {
		t.Fatalf("after the outage: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
