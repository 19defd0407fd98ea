package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/inps/sportello/internal/switches"
)

// FuzzSetSwitch sends any id and body to PUT /console/api/switches/idp/{id}: the answer is a
// 200 or a 400 (never a 500), and a 200 records exactly the id sent.
func FuzzSetSwitch(f *testing.F) {
	f.Add(idpID, `{"enabled":false,"reason":"compromised"}`)
	f.Add("demo-rp", `{"enabled":true}`)
	f.Add("a\x00b", `{"enabled":false,"reason":"x"}`)
	f.Add(idpID, `{"enabled":false,"reason":"x","expires_at":"9999-12-31T23:59:59Z"}`)
	f.Add(idpID, `{"enabled":"no"}`)
	f.Add(idpID, `{"enabled":false,"reason":"\u001b[2J"}`)
	f.Fuzz(func(t *testing.T, id, body string) {
		h := newHarness(t)
		req := httptest.NewRequestWithContext(t.Context(), "PUT", "/console/api/switches/idp/"+url.PathEscape(id), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer admin")
		rw := httptest.NewRecorder()
		h.api.ServeHTTP(rw, req)
		switch rw.Code {
		case http.StatusOK:
			ev := h.rec.Last("console.switch")
			if ev == nil || ev.Fields["id"] != id {
				t.Fatalf("200 for %q recorded %+v", id, ev)
			}
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMovedPermanently:
			if len(h.rec.Events()) != 0 {
				t.Fatal("a refused switch was audited")
			}
		default:
			t.Fatalf("status %d for id %q body %q: %s", rw.Code, id, body, rw.Body)
		}
	})
}

// FuzzAuditQuery sends any query string to GET /console/api/audit: a 200 or a 400, never more.
func FuzzAuditQuery(f *testing.F) {
	f.Add("person=" + mario + "&since=2026-12-01T00:00:00Z")
	f.Add("limit=0")
	f.Add("type=%00")
	f.Add("until=2026-13-01T00:00:00Z&&&")
	f.Fuzz(func(t *testing.T, q string) {
		h := newHarness(t)
		req := httptest.NewRequestWithContext(t.Context(), "GET", "/console/api/audit", nil)
		req.URL.RawQuery = q
		req.Header.Set("Authorization", "Bearer reader")
		rw := httptest.NewRecorder()
		h.api.ServeHTTP(rw, req)
		if rw.Code != http.StatusOK && rw.Code != http.StatusBadRequest {
			t.Fatalf("status %d for %q: %s", rw.Code, q, rw.Body)
		}
	})
}

// FuzzConsoleForm posts any change form to the console's confirmation and apply pages as a
// signed-in admin: the answer is a page (200, 400, 404 or 501; never a 500), and the
// confirmation never changes anything.
func FuzzConsoleForm(f *testing.F) {
	f.Add("switch", "idp", idpID, "off", "", "compromised")
	f.Add("switch", "client", "demo-rp", "on", "", "")
	f.Add("unlock_pin", "", "", "", "rssmra80a01h501u", "")
	f.Add("revoke_person", "", "", "", "TINIT-RSSMRA80A01H501U", "")
	f.Add("refresh_metadata", "", "\x00", "", "", "")
	f.Add("rotate_keys", "", "", "", "", strings.Repeat("é", 600))
	f.Add("nope", "bad", "", "maybe", "x", "\u202e")
	f.Fuzz(func(t *testing.T, action, kind, id, state, cf, reason string) {
		u := newUIHarness(t)
		b, csrf := signedIn(t, u)
		list := func() []switches.Switch {
			l, err := (&switches.Switches{Store: u.cut}).List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		form := url.Values{"csrf": {csrf}, "action": {action}, "kind": {kind}, "id": {id}, "state": {state}, "fiscal_code": {cf}, "reason": {reason}}
		before := list()
		rec := b.do("POST", "/console/confirm", form)
		after := list()
		if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
			t.Fatalf("confirm: %d", rec.Code)
		}
		if len(before) != len(after) {
			t.Fatal("the confirmation page changed a switch")
		}
		switch rec := b.do("POST", "/console/apply", form); rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound, http.StatusNotImplemented:
		default:
			t.Fatalf("apply: %d", rec.Code)
		}
	})
}
