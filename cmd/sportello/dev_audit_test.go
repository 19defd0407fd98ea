package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/storetest"
)

// Dev mode keeps its audit trail — every SAML message whole — off the console: by default in
// DIR/audit.log, hash-chained and checkpointed as in serve (sportello audit verify accepts it),
// the banner naming it. --audit-stderr puts it next to the log instead (every test that reads
// the trail from the output does so, through devBrokerLogging).
func TestDevModeAuditTrailGoesToAFile(t *testing.T) {
	data := t.TempDir()
	out := &storetest.Buffer{}
	httpAddr := freeAddr(t)
	issuer := "http://" + httpAddr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"dev", "--http", httpAddr, "--mtls", freeAddr(t), "--data", data, "--testdata", "../../testdata"}, out, out)
	}()
	defer cancel()
	deadline := time.Now().Add(time.Minute)
	for {
		if resp, err := http.Get(issuer + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev mode did not become ready:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, v := spidLogin(t, issuer, "demo", "https://www.spid.gov.it/SpidL2", "2", "login")
	tokenClaims(t, issuer, callbackCode(t, resp), v)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("dev mode exited %d\n%s", code, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("dev mode did not shut down")
	}

	file := filepath.Join(data, "audit.log")
	trail := string(mustRead(t, file))
	for _, typ := range []string{"spid.authn_request", "spid.response", "login.success"} {
		if !strings.Contains(trail, `"type":"`+typ+`"`) {
			t.Errorf("%s has no %s record", file, typ)
		}
	}
	console := out.String()
	if strings.Contains(console, `"type":"spid.response"`) || strings.Contains(console, "saml:Assertion") || strings.Contains(console, `"prev":"`) {
		t.Errorf("the audit trail reached the console:\n%s", console)
	}
	if !strings.Contains(console, "Audit trail:         "+file) || !strings.Contains(console, "--audit-stderr") {
		t.Errorf("the banner does not name %s and --audit-stderr:\n%s", file, console)
	}
	var vout, verr bytes.Buffer
	pub := filepath.Join(data, "keys", "audit.key.pub")
	if _, err := os.Stat(pub); err != nil {
		t.Fatal(err)
	}
	if code := run(context.Background(), []string{"audit", "verify", file, "--key", pub}, &vout, &verr); code != 0 {
		t.Fatalf("audit verify of dev mode's trail: exit %d\n%s%s", code, vout.String(), verr.String())
	}
}
