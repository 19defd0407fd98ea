package broker

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/switches"
)

// A certificate login names the CAs of its verified chain; when the identity comes back it is
// refused if any of them — the card's issuer or the trust anchor — is switched off, as a SPID
// IdP's login is, and goes through again once the switch is back on. A CA of another chain
// switched off changes nothing.
func TestASwitchedOffCertificateAuthorityRefusesItsCertificateLogins(t *testing.T) {
	cp := &certProvider{cas: []string{"sub-ca-sha256", "root-ca-sha256"}}
	sw := &fakeSwitches{}
	tb := newTestBrokerWith(t, memStore(t), func(o *Options) {
		o.Providers = append(o.Providers, cp)
		o.Switches = sw
	}, func(c *config.Config) {
		c.Listen.ClientCertHeader = "X-Client-Cert"
		c.Listen.TrustedProxies = []string{"10.1.2.3"}
	})
	mtls := tb.MTLSHandler()
	// login runs one certificate login and returns the relying party's callback (nil when the
	// browser was shown a page instead) and that page.
	login := func(t *testing.T) (url.Values, string) {
		t.Helper()
		br := newBrowser(t)
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "state": {"s"}, "idp": {"card"}}
		resp, err := noFollowBrowser(br).Get(tb.URL + pathAuthorize + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if loc == nil || loc.Path != "/mtls/card" {
			t.Fatalf("not sent to the mTLS listener: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		req := httptest.NewRequest(http.MethodGet, "/mtls/card?step="+url.QueryEscape(loc.Query().Get("step")), nil)
		req.RemoteAddr = "10.1.2.3:1"
		req.Header.Set("X-Client-Cert", selfSigned(t, "RSSMRA80A01H501U"))
		w := httptest.NewRecorder()
		mtls.ServeHTTP(w, req)
		if w.Code != http.StatusSeeOther {
			t.Fatalf("the mTLS origin answered %d: %s", w.Code, w.Body)
		}
		cb, page := br.authorize(t, w.Header().Get("Location"))
		body, _ := io.ReadAll(page.Body)
		return cb, string(body)
	}
	if cb, body := login(t); cb.Get("code") == "" {
		t.Fatalf("certificate login before any switch: %v %.300s", cb, body)
	}
	for _, tc := range []struct{ name, id string }{
		{"the card's issuing CA", "sub-ca-sha256"},
		{"the trust anchor above it", "root-ca-sha256"},
	} {
		t.Run(tc.name+" switched off refuses the login", func(t *testing.T) {
			sw.set(switches.KindIdP, tc.id, true)
			defer sw.set(switches.KindIdP, tc.id, false)
			cb, body := login(t)
			if cb.Get("code") != "" {
				t.Fatal("a certificate login through a switched-off CA got a code")
			}
			if cb != nil && cb.Get("error") != "temporarily_unavailable" {
				t.Fatalf("the relying party got %v", cb)
			}
			if cb == nil && !strings.Contains(body, "sospeso temporaneamente per motivi di sicurezza") {
				t.Fatalf("page without the switched-off message: %.600s", body)
			}
		})
	}
	t.Run("another chain's CA switched off changes nothing", func(t *testing.T) {
		sw.set(switches.KindIdP, "other-ca-sha256", true)
		defer sw.set(switches.KindIdP, "other-ca-sha256", false)
		if cb, body := login(t); cb.Get("code") == "" {
			t.Fatalf("refused by an unrelated CA's switch: %v %.300s", cb, body)
		}
	})
	if cb, body := login(t); cb.Get("code") == "" {
		t.Fatalf("certificate login after the switches went back on: %v %.300s", cb, body)
	}
}
