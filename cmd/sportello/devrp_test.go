package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func postBCL(t *testing.T, d *devBackchannel, ctype, body string) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, devBackchannelPath, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, req)
	return rec.Code
}

func listBCL(t *testing.T, d *devBackchannel) []devLogout {
	t.Helper()
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, devBackchannelPath, nil))
	var got []devLogout
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestDevBackchannelReceiverRecordsAndLists(t *testing.T) {
	d := newDevBackchannel()
	d.max = 2
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"sid":"s1","events":{"http://schemas.openid.net/event/backchannel-logout":{}}}`))
	tok := "eyJhbGciOiJFUzI1NiJ9." + payload + ".c2ln"
	form := "application/x-www-form-urlencoded"
	if st := postBCL(t, d, form, url.Values{"logout_token": {tok}}.Encode()); st != http.StatusOK {
		t.Fatalf("a logout token: %d", st)
	}
	got := listBCL(t, d)
	if len(got) != 1 || got[0].LogoutToken != tok || got[0].Claims["sid"] != "s1" {
		t.Fatalf("listed %+v", got)
	}
	for _, bad := range []struct{ ctype, body string }{
		{form, ""},
		{form, "logout_token="},
		{form, "logout_token=a&logout_token=b"},
		{"application/json", `{"logout_token":"x"}`},
		{form, "logout_token=" + strings.Repeat("a", 70<<10)},
		{form, "%zz"},
	} {
		if st := postBCL(t, d, bad.ctype, bad.body); st != http.StatusBadRequest {
			t.Fatalf("%s %.40q: %d, want 400", bad.ctype, bad.body, st)
		}
	}
	for _, s := range []string{"x", "a.b.c", "a.!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".c"} {
		if postBCL(t, d, form, url.Values{"logout_token": {s}}.Encode()) != http.StatusOK {
			t.Fatal("an unreadable token is still recorded as received")
		}
	}
	if got := listBCL(t, d); len(got) != 2 || got[1].Claims != nil {
		t.Fatalf("kept %+v, want the last 2, unreadable claims left out", got)
	}
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, devBackchannelPath, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("DELETE: %d", rec.Code)
	}
}

func FuzzUnverifiedClaims(f *testing.F) {
	f.Add("eyJhbGciOiJFUzI1NiJ9.eyJzaWQiOiJzMSJ9.c2ln")
	f.Add("a..b")
	f.Add("....")
	f.Fuzz(func(t *testing.T, tok string) {
		c := unverifiedClaims(tok)
		if c != nil && strings.Count(tok, ".") != 2 {
			t.Fatalf("claims of %q", tok)
		}
	})
}
