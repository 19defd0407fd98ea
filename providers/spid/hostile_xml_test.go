package spid

import (
	"net/http"
	"testing"

	"github.com/inps/sportello/internal/loa"
)

// TestUTF8DeclarationsAreAccepted guards the encoding rule: UTF-8 however declared passes.
func TestUTF8DeclarationsAreAccepted(t *testing.T) {
	e := newEnv(t)
	for name, prefix := range map[string]string{
		"no declaration":                  "",
		"declaration without encoding":    `<?xml version="1.0"?>`,
		"encoding UTF-8":                  `<?xml version="1.0" encoding="UTF-8"?>`,
		"encoding utf-8 in single quotes": `<?xml version='1.0' encoding='utf-8'?>`,
		"UTF-8 byte order mark":           "\xef\xbb\xbf" + `<?xml version="1.0" encoding="UTF-8" standalone="no"?>`,
	} {
		p := e.start(t, name, loa.SpidL2, "")
		status, o := e.post(t, p.RelayState, e.build(t, p, hostile{Raw: func(s string) string { return prefix + s }}))
		if status != http.StatusOK || o.Identity == nil {
			t.Errorf("%s: refused: %d %v", name, status, o.Err)
		}
	}
}
