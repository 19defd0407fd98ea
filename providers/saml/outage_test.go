package saml

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/store/storetest"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// cutEngine is an engine whose Store can be cut, with deps edited by edit (nil: as they are).
func cutEngine(t *testing.T, edit func(*Deps)) (*engine, *storetest.CutStore) {
	t.Helper()
	var cut *storetest.CutStore
	e := newEngineWith(t, spidLike(), func(d *Deps) {
		cut = storetest.NewCutStore(d.Store)
		d.Store = cut
		if edit != nil {
			edit(d)
		}
	})
	return e, cut
}

// A store outage while reading a pending login's request is providers.ErrUnavailable, never
// ErrLoginExpired ("does not match a login"): it says nothing about the request, which is
// left as it was, so the same response completes the login once the store answers.
func TestPeekRequestDuringAStoreOutageIsUnavailable(t *testing.T) {
	e, cut := cutEngine(t, nil)
	p := e.start(t, 2, "minimum")
	cut.Before(func(_, key string) bool { return strings.HasPrefix(key, "spidlike:req:") })
	_, err := e.sp.PeekRequest(context.Background(), p.RelayState)
	if !errors.Is(err, providers.ErrUnavailable) || errors.Is(err, providers.ErrLoginExpired) {
		t.Fatalf("during the outage: %v", err)
	}
	cut.Before(nil)
	if _, err := e.consume(t, p, e.response(t, e.params(p), nil)); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
	// The control: a request the store does not hold is expired, not unavailable.
	_, err = e.sp.PeekRequest(context.Background(), p.RelayState)
	if !errors.Is(err, providers.ErrLoginExpired) || errors.Is(err, providers.ErrUnavailable) {
		t.Fatalf("a used request: %v", err)
	}
}

// startLogout sends an SP-initiated LogoutRequest to the demo IdP and returns the signed
// LogoutResponse the IdP sends back, as a GET on the SLO URL (HTTP-Redirect).
func (e *engine) startLogout(t *testing.T, returnTo string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	session := map[string]string{"idp": demoIdP, "name_id": "_nameid1", "name_qualifier": demoIdP, "session_index": "_session1"}
	if err := e.sp.Logout(rec, httptest.NewRequest(http.MethodGet, "https://sp.example/logout", nil), session, "actor", returnTo); err != nil {
		t.Fatal(err)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || rec.Code != http.StatusFound {
		t.Fatalf("logout: HTTP %d %q", rec.Code, rec.Header().Get("Location"))
	}
	xml, err := samlx.InflateBase64(loc.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	req := etree.NewDocument()
	if err := req.ReadFromBytes(xml); err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	el := doc.CreateElement("samlp:LogoutResponse")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", "_logoutresponse1")
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(e.clock.Now()))
	el.CreateAttr("Destination", e.sp.cfg.SLOURL)
	el.CreateAttr("InResponseTo", req.Root().SelectAttrValue("ID", ""))
	iss := el.CreateElement("saml:Issuer")
	iss.CreateAttr("Format", samlx.NameIDEntity)
	iss.SetText(demoIdP)
	el.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", samlx.StatusSuccess)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	back, err := samlx.RedirectURL(e.sp.cfg.SLOURL, "SAMLResponse", b, loc.Query().Get("RelayState"), e.idpKeys)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func (e *engine) serveSLO(u string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.sp.ServeSLO(rec, httptest.NewRequest(http.MethodGet, u, nil))
	return rec
}

// A LogoutResponse arriving while the store is cut is answered by Deps.Unavailable (by
// default 503, Retry-After: 30 and "temporarily unavailable"), not as an invalid logout
// message; nothing is used up, so the same response completes the logout once the store
// answers, and only then is it refused as a replay.
func TestLogoutResponseDuringAStoreOutageIsUnavailable(t *testing.T) {
	const returnTo = "https://rp.example/bye"
	outage := func(_, key string) bool { return strings.HasPrefix(key, "spidlike:slo:") }

	t.Run("default page", func(t *testing.T) {
		e, cut := cutEngine(t, nil)
		back := e.startLogout(t, returnTo)
		cut.Before(outage)
		rec := e.serveSLO(back)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "30" ||
			!strings.Contains(rec.Body.String(), "temporarily unavailable") || strings.Contains(rec.Body.String(), "invalid") {
			t.Fatalf("during the outage: %d Retry-After %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
		cut.Before(nil)
		if rec := e.serveSLO(back); rec.Code != http.StatusFound || rec.Header().Get("Location") != returnTo {
			t.Fatalf("after the outage: %d %q", rec.Code, rec.Header().Get("Location"))
		}
		if rec := e.serveSLO(back); rec.Code != http.StatusBadRequest {
			t.Fatalf("the response replayed after the logout: HTTP %d", rec.Code)
		}
	})

	t.Run("Deps.Unavailable", func(t *testing.T) {
		var got error
		e, cut := cutEngine(t, func(d *Deps) {
			d.Unavailable = func(w http.ResponseWriter, _ *http.Request, err error) {
				got = err
				http.Error(w, "the broker's page", http.StatusServiceUnavailable)
			}
		})
		back := e.startLogout(t, returnTo)
		cut.Before(outage)
		rec := e.serveSLO(back)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "the broker's page") ||
			!errors.Is(got, providers.ErrUnavailable) || !errors.Is(got, storetest.ErrCut) {
			t.Fatalf("during the outage: %d %s (err %v)", rec.Code, rec.Body, got)
		}
		cut.Before(nil)
		if rec := e.serveSLO(back); rec.Code != http.StatusFound || rec.Header().Get("Location") != returnTo {
			t.Fatalf("after the outage: %d %q", rec.Code, rec.Header().Get("Location"))
		}
	})
}
