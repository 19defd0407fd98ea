package web_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// devServer is a real `sportello dev` process on free ports.
type devServer struct {
	URL, MTLS string
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// TestMain removes the binary sportelloBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildBin != "" {
		_ = os.RemoveAll(filepath.Dir(buildBin))
	}
	os.Exit(code)
}

// sportelloBinary builds cmd/sportello once per test run, into a folder TestMain removes.
func sportelloBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sportello-ui-test")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "sportello")
		out, err := exec.Command("go", "build", "-o", buildBin, "../../cmd/sportello").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDev runs sportello dev until the test ends.
func startDev(t *testing.T) *devServer {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a sportello dev process")
	}
	bin := sportelloBinary(t)
	httpAddr, mtlsAddr := freeAddr(t), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "dev", "--http", httpAddr, "--mtls", mtlsAddr, "--data", t.TempDir())
	cmd.Dir = "../.." // testdata/ is read relative to the repository root
	logf, err := os.Create(filepath.Join(t.TempDir(), "sportello.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("sportello log:\n%s", b)
		}
	})
	s := &devServer{URL: "http://" + httpAddr, MTLS: "https://" + mtlsAddr}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("sportello dev did not become ready")
	return nil
}

// newClient is a browser-like client: a cookie jar, no redirect following (each step is
// checked), and the dev mTLS listener's self-signed certificate accepted.
func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // dev listener
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
