package switches_test

import (
	"testing"

	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/switches"
)

// FuzzStoredDocument feeds the Reader any bytes as the stored document: it never panics, and
// what it accepts holds only valid kinds and ids.
func FuzzStoredDocument(f *testing.F) {
	f.Add([]byte(`{"switches":[{"kind":"idp","id":"https://idp.example.it","enabled":false,"reason":"r","actor":"op","set_at":"2026-12-03T10:00:00Z"}]}`))
	f.Add([]byte(`{"switches":[{"kind":"person","id":"x"}]}`))
	f.Add([]byte(`{"switches":[{"kind":"client","id":"a\u0000b"}]}`))
	f.Add([]byte(`{"switches":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := memory.New(memory.Options{JanitorInterval: -1})
		defer m.Close()
		if err := m.Put(t.Context(), switches.Key, raw, 0); err != nil {
			t.Fatal(err)
		}
		r := switches.NewReader(m, switches.ReaderOptions{})
		if err := r.Load(t.Context()); err != nil {
			return
		}
		for _, sw := range r.Snapshot() {
			if !switches.ValidKind(sw.Kind) || !switches.ValidID(sw.ID) {
				t.Fatalf("accepted %+v", sw)
			}
		}
	})
}
