package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/redistest"
)

// Two dev brokers share one Redis, as replicas do: a provider switched off through the first
// one's console API refuses logins on the second within seconds, and both replicas are listed.
func TestASwitchReachesAnotherReplicaSharingTheStore(t *testing.T) {
	srv := redistest.Start(t)
	data := t.TempDir() // one data directory: the replicas share the dev keys as they share the Store
	a, _ := devBroker(t, "--redis", srv.URL, "--data", data)
	b, _ := devBroker(t, "--redis", srv.URL, "--data", data)
	admin := serviceToken(t, a, "demo-operator", "demo-operator-secret", "console:read console:admin")
	loginAtB := func() string {
		q := url.Values{"client_id": {"demo-rp"}, "response_type": {"code"}, "scope": {"openid"}, "state": {"s"},
			"redirect_uri": {"http://127.0.0.1:9000/callback"}, "idp": {"pin"}}
		c := client(t, "", "")
		resp, err := c.Get(b + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	if strings.Contains(loginAtB(), "sospeso temporaneamente") {
		t.Fatal("refused before any switch")
	}
	if st, out := consoleCall(t, "PUT", a+"/console/api/switches/provider/pin", admin, `{"enabled":false,"reason":"drill"}`); st != http.StatusOK {
		t.Fatalf("switch off at the first replica: %d %v", st, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(loginAtB(), "sospeso temporaneamente per motivi di sicurezza") {
		if time.Now().After(deadline) {
			t.Fatal("the second replica never applied the switch")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		_, out := consoleCall(t, "GET", a+"/console/api/replicas", admin, "")
		if rs, _ := out["replicas"].([]any); len(rs) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas: %v", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
