package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/inps/sportello/broker/console"
	"github.com/inps/sportello/internal/audit"
)

// fileAuditLog searches and verifies this process's audit trail file (and its rotated files)
// for the console. Each search reads the files from disk: a trail is append-only JSON lines,
// and the console's searches are occasional.
type fileAuditLog struct {
	path string
	pub  ed25519.PublicKey // nil: checkpoint signatures not checked
}

// newFileAuditLog is the console's view of the trail at path, checked with the public half of
// the checkpoint signing key when one is configured.
func newFileAuditLog(path, signingKey string) (*fileAuditLog, error) {
	l := &fileAuditLog{path: path}
	if signingKey != "" {
		priv, err := audit.LoadSigningKey(signingKey)
		if err != nil {
			return nil, fmt.Errorf("audit.signing_key: %w", err)
		}
		l.pub, _ = priv.Public().(ed25519.PublicKey)
	}
	return l, nil
}

func (l *fileAuditLog) files() []string {
	rotated, _ := filepath.Glob(l.path + ".*")
	out := make([]string, 0, len(rotated)+1)
	for _, f := range rotated {
		if !strings.HasSuffix(f, ".lock") && !strings.HasSuffix(f, ".pub") {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return append(out, l.path)
}

// Search implements console.AuditLog: the newest records first.
func (l *fileAuditLog) Search(ctx context.Context, q console.AuditQuery) ([]console.AuditRecord, error) {
	var out []console.AuditRecord
	for _, f := range l.files() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		fh, err := os.Open(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			var r console.AuditRecord
			if json.Unmarshal(sc.Bytes(), &r) != nil || !auditMatches(r, q) {
				continue
			}
			out = append(out, r)
		}
		err = sc.Err()
		_ = fh.Close()
		if err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b console.AuditRecord) int { return cmp.Compare(b.Seq, a.Seq) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// auditMatches reports whether r is selected by q: a person is the actor or the fiscal code in
// the fields, a client the actor or the client_id in the fields.
func auditMatches(r console.AuditRecord, q console.AuditQuery) bool {
	field := func(names ...string) []string {
		var v []string
		for _, n := range names {
			if s, ok := r.Fields[n].(string); ok {
				v = append(v, s)
			}
		}
		return append(v, r.Actor)
	}
	switch {
	case q.Type != "" && r.Type != q.Type:
		return false
	case q.Person != "" && !slices.Contains(field("fiscal_number", "fiscal_code", "delegator", "delegate"), q.Person):
		return false
	case q.Client != "" && !slices.Contains(field("client_id", "client"), q.Client):
		return false
	case !q.Since.IsZero() && r.Time.Before(q.Since):
		return false
	case !q.Until.IsZero() && r.Time.After(q.Until):
		return false
	}
	return true
}

// Verify implements console.AuditLog with audit.Verify over the trail's files.
func (l *fileAuditLog) Verify(context.Context) (console.AuditChain, error) {
	var files []string
	for _, f := range l.files() {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return console.AuditChain{Verified: true}, nil
	}
	rep, err := audit.Verify(files, l.pub)
	chain := console.AuditChain{Verified: err == nil, Records: rep.Records, LastSeq: rep.LastSeq, SignaturesChecked: rep.SignaturesChecked}
	var te *audit.TamperError
	if errors.As(err, &te) {
		chain.Problem = fmt.Sprintf("%s line %d: %s", filepath.Base(te.File), te.Line, te.Reason)
		return chain, nil
	}
	return chain, err
}
