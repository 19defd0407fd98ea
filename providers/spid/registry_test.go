package spid

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/inps/sportello/providers/spid/devidp"
)

// metadataServer serves whatever metadata it is given, or fails.
type metadataServer struct {
	mu   sync.Mutex
	body []byte
	fail bool
	hits int
}

func (m *metadataServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hits++
	if m.fail {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write(m.body)
}

func (m *metadataServer) set(body []byte, fail bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.body, m.fail = body, fail
}

func devMetadata(t testing.TB, name, keyName string) []byte {
	t.Helper()
	idp, err := devidp.New(devidp.Options{Name: name, BaseURL: "https://idp.example",
		KeyFile: testdataDir + keyName + ".key", CertFile: testdataDir + keyName + ".crt",
		SPMetadata: func(context.Context) ([]byte, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	md, err := idp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func TestDevIdPListHandler(t *testing.T) {
	e := newEnv(t)
	resp, err := e.srv.Client().Get(e.base + "/dev/spid/")
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	want := `{"name":"demo","entity_id":"` + e.base + `/dev/spid/demo","metadata_url":"` + e.base + `/dev/spid/demo/metadata"}`
	if !strings.Contains(body, want) || !strings.Contains(body, `"name":"test"`) {
		t.Fatalf("%s", body)
	}
}
