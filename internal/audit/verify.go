package audit

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
)

// Report is what Verify found.
type Report struct {
	// Files were read in this order (sorted by their first seq).
	Files []string
	// Records counts every record, checkpoints included; Checkpoints the checkpoints.
	Records, Checkpoints int
	// FirstSeq and LastSeq bound the chain read.
	FirstSeq, LastSeq uint64
	// Anchored is true when the chain does not start at seq 1 (older files removed by the
	// retention): its first record is trusted as the starting point.
	Anchored bool
	// SignaturesChecked is false when Verify had no public key.
	SignaturesChecked bool
	// LastCheckpointSeq is the seq of the last checkpoint (0: none); UnsignedTail counts the
	// records after it, protected by the chain only.
	LastCheckpointSeq uint64
	UnsignedTail      int
	// Bad is the first bad line, nil when the trail verified.
	Bad *Problem
}

// Problem locates the first bad line.
type Problem struct {
	File string
	Line int
	// Seq is the bad record's seq when it could be read.
	Seq    uint64
	Reason string
}

// TamperError is returned by Verify when a line breaks the chain.
type TamperError struct{ Problem }

func (e *TamperError) Error() string {
	return fmt.Sprintf("audit: %s:%d: %s", e.File, e.Line, e.Reason)
}

// ErrTampered matches every TamperError with errors.Is.
var ErrTampered = errors.New("audit trail tampered")

// Is makes errors.Is(err, ErrTampered) true.
func (e *TamperError) Is(target error) bool { return target == ErrTampered }

// Verify checks the files of one trail: each record's hash, the seq and prev links between
// consecutive records (across files), and, with pub, every checkpoint's signature. It returns
// a *TamperError naming the first bad line, or another error when a file cannot be read.
func Verify(files []string, pub ed25519.PublicKey) (Report, error) {
	rep := Report{SignaturesChecked: pub != nil}
	type ordered struct {
		path  string
		first uint64
	}
	var fs []ordered
	for _, p := range files {
		first, err := firstSeq(p)
		if err != nil {
			return rep, err
		}
		fs = append(fs, ordered{p, first})
	}
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].first < fs[j].first })
	v := &verifier{rep: &rep, pub: pub}
	for _, f := range fs {
		rep.Files = append(rep.Files, f.path)
		fh, err := os.Open(f.path)
		if err != nil {
			return rep, fmt.Errorf("audit: %w", err)
		}
		err = v.stream(f.path, fh)
		_ = fh.Close()
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// firstSeq is the seq of a file's first record, 0 when it has none or it does not decode.
func firstSeq(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("audit: %w", err)
	}
	r, err := decode(bytes.TrimSuffix(line, []byte("\n")))
	if err != nil {
		return 0, nil
	}
	return r.Seq, nil
}

type verifier struct {
	rep  *Report
	pub  ed25519.PublicKey
	seq  uint64
	head string
}

// stream checks the lines of one file, continuing the chain of the files before it.
func (v *verifier) stream(name string, r io.Reader) error {
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(line) == 0 {
				return nil
			}
			return v.bad(name, n, 0, "incomplete last line (no newline)")
		}
		if err != nil {
			return fmt.Errorf("audit: reading %s: %w", name, err)
		}
		if err := v.line(name, n, line[:len(line)-1]); err != nil {
			return err
		}
	}
}

func (v *verifier) line(name string, n int, line []byte) error {
	r, err := decode(line)
	if err != nil {
		return v.bad(name, n, 0, err.Error())
	}
	switch {
	case v.rep.Records == 0 && r.Seq == 1 && r.Prev != Genesis:
		return v.bad(name, n, r.Seq, "first record does not start from the genesis hash")
	case v.rep.Records == 0:
		v.rep.FirstSeq, v.rep.Anchored = r.Seq, r.Seq != 1
	case r.Seq != v.seq+1:
		return v.bad(name, n, r.Seq, fmt.Sprintf("seq %d follows %d (a record was removed, inserted or reordered)", r.Seq, v.seq))
	case r.Prev != v.head:
		return v.bad(name, n, r.Seq, "prev is not the hash of the record before (a record was edited, removed, inserted or reordered)")
	}
	if r.Type == CheckpointType {
		if v.pub != nil {
			if err := verifyCheckpoint(r, v.pub); err != nil {
				return v.bad(name, n, r.Seq, fmt.Sprintf("forged checkpoint: %v (key id %s)", err, KeyID(v.pub)))
			}
		}
		v.rep.Checkpoints++
		v.rep.LastCheckpointSeq, v.rep.UnsignedTail = r.Seq, 0
	} else {
		v.rep.UnsignedTail++
	}
	v.rep.Records++
	v.rep.LastSeq, v.seq, v.head = r.Seq, r.Seq, r.Hash
	return nil
}

func (v *verifier) bad(name string, n int, seq uint64, reason string) error {
	p := Problem{File: name, Line: n, Seq: seq, Reason: reason}
	v.rep.Bad = &p
	return &TamperError{p}
}
