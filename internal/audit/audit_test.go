package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/inps/sportello/internal/store/storetest"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func testKey(t testing.TB, seed byte) ed25519.PrivateKey {
	t.Helper()
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func event(i int) Event {
	return Event{Type: "login.success", Actor: "RSSMRA80A01H501U",
		Fields: map[string]any{"provider": "cie", "acr": "https://www.spid.gov.it/SpidL3", "n": i}}
}

// writeTrail writes n events to a fresh file with a checkpoint every 5 records.
func writeTrail(t testing.TB, n int) (path string, key ed25519.PrivateKey) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "audit.log")
	key = testKey(t, 1)
	w, err := Open(Options{Path: path, SigningKey: key, CheckpointEvery: 5, Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := w.Audit(context.Background(), event(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, key
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(b), "\n")[:strings.Count(string(b), "\n")]
}

func writeLines(t testing.TB, path string, lines []string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func parse(t testing.TB, line string) Record {
	t.Helper()
	var r Record
	d := json.NewDecoder(strings.NewReader(line))
	d.UseNumber()
	if err := d.Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// rechain re-encodes lines[from:] so every hash and prev is right again (what an attacker
// without the signing key can do).
func rechain(t testing.TB, lines []string, from int) {
	t.Helper()
	head := Genesis
	if from > 0 {
		head = parse(t, lines[from-1]).Hash
	}
	for i := from; i < len(lines); i++ {
		r := parse(t, lines[i])
		r.Prev = head
		b, err := encode(&r)
		if err != nil {
			t.Fatal(err)
		}
		lines[i], head = string(b), r.Hash
	}
}

func TestRecordsAreWholeChainedJSONLinesUnderConcurrency(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w, err := Open(Options{Path: path, SigningKey: testKey(t, 1), CheckpointEvery: 7})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = w.Audit(context.Background(), Event{Type: "login.success", Fields: map[string]any{"n": strings.Repeat("x", 500)}})
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify([]string{path}, testKey(t, 1).Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records-rep.Checkpoints != 50 || rep.Checkpoints != 8 || rep.UnsignedTail != 0 {
		t.Fatalf("report %+v, want 50 records and 8 checkpoints (7 every 7, 1 on close)", rep)
	}
}

func TestNewWriterChainsFromGenesis(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for i := 0; i < 3; i++ {
		if err := w.Audit(context.Background(), event(i)); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "a.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify([]string{path}, nil)
	if err != nil || rep.FirstSeq != 1 || rep.LastSeq != 3 || rep.Anchored {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

// Each kind of tampering is caught at the first bad line (lines are 1-based; the trail has 20
// events and a checkpoint after every 5: lines 6, 12, 18 and 24 are checkpoints).
func TestVerifyNamesTheFirstBadLine(t *testing.T) {
	other := testKey(t, 2)
	cases := []struct {
		name   string
		tamper func(t *testing.T, lines []string) []string
		line   int
		reason string
	}{
		{"an edited record fails its own hash", func(t *testing.T, l []string) []string {
			l[8] = strings.Replace(l[8], `"provider":"cie"`, `"provider":"cns"`, 1)
			return l
		}, 9, "hash does not match"},
		{"an edited record with its hash recomputed breaks the next prev", func(t *testing.T, l []string) []string {
			r := parse(t, l[8])
			r.Actor = "VRDGPP40C15L219U"
			b, _ := encode(&r)
			l[8] = string(b)
			return l
		}, 10, "prev is not the hash"},
		{"a removed record leaves a seq gap", func(t *testing.T, l []string) []string {
			return append(l[:3:3], l[4:]...)
		}, 4, "seq 5 follows 3"},
		{"an inserted copy repeats a seq", func(t *testing.T, l []string) []string {
			return append(l[:3:3], append([]string{l[2]}, l[3:]...)...)
		}, 4, "seq 3 follows 3"},
		{"two swapped records break the order", func(t *testing.T, l []string) []string {
			l[2], l[3] = l[3], l[2]
			return l
		}, 3, "seq 4 follows 2"},
		{"an edit with the whole chain recomputed fails the next checkpoint", func(t *testing.T, l []string) []string {
			l[8] = strings.Replace(l[8], `"provider":"cie"`, `"provider":"cns"`, 1)
			rechain(t, l, 8)
			return l
		}, 12, "forged checkpoint"},
		{"a checkpoint signed with another key is forged", func(t *testing.T, l []string) []string {
			r := parse(t, l[5])
			signCheckpoint(&r, other, 5)
			b, _ := encode(&r)
			l[5] = string(b)
			rechain(t, l, 6)
			return l
		}, 6, "forged checkpoint"},
		{"a removed checkpoint with the chain recomputed is caught by the next one", func(t *testing.T, l []string) []string {
			l = append(l[:5:5], l[6:]...)
			for i := 5; i < len(l); i++ { // renumber
				r := parse(t, l[i])
				r.Seq--
				b, _ := encode(&r)
				l[i] = string(b)
			}
			rechain(t, l, 5)
			return l
		}, 11, "forged checkpoint"},
		{"a cut last line is incomplete", func(t *testing.T, l []string) []string {
			l[len(l)-1] = l[len(l)-1][:40]
			return l
		}, 24, "incomplete last line"},
		{"a line that is not a record", func(t *testing.T, l []string) []string {
			l[0] = "{}\n"
			return l
		}, 1, "no trailing hash member"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, key := writeTrail(t, 20)
			lines := readLines(t, path)
			if len(lines) != 24 {
				t.Fatalf("trail has %d lines, want 24", len(lines))
			}
			writeLines(t, path, tc.tamper(t, lines))
			_, err := Verify([]string{path}, key.Public().(ed25519.PublicKey))
			var te *TamperError
			if !errors.As(err, &te) || !errors.Is(err, ErrTampered) {
				t.Fatalf("Verify = %v, want a TamperError", err)
			}
			if te.Line != tc.line || te.File != path || !strings.Contains(te.Reason, tc.reason) {
				t.Fatalf("got line %d %q, want line %d with %q", te.Line, te.Reason, tc.line, tc.reason)
			}
		})
	}
}

func TestUntouchedTrailVerifies(t *testing.T) {
	path, key := writeTrail(t, 20)
	rep, err := Verify([]string{path}, key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 24 || rep.Checkpoints != 4 || rep.LastCheckpointSeq != 24 || rep.Bad != nil || !rep.SignaturesChecked {
		t.Fatalf("report %+v", rep)
	}
}

func TestRestartResumesTheChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	c := newClock()
	for round := 0; round < 3; round++ {
		w, err := Open(Options{Path: path, SigningKey: testKey(t, 1), Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 4; i++ {
			if err := w.Audit(context.Background(), event(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		// The file's mtime (the OS clock, or a copy) says another day: the records' day counts.
		far := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := os.Chtimes(path, far, far); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Verify([]string{path}, testKey(t, 1).Public().(ed25519.PublicKey))
	if err != nil || rep.LastSeq != 15 || rep.Checkpoints != 3 {
		t.Fatalf("Verify = %+v, %v; want 12 records + 3 closing checkpoints", rep, err)
	}
}

func TestRestartAfterATornWriteContinuesAndVerifyNamesTheTornLine(t *testing.T) {
	path, key := writeTrail(t, 3)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString(`{"seq":5,"time":"2026-`)
	f.Close()
	w, err := Open(Options{Path: path, SigningKey: key, Now: newClock().Now}) // the same day as the trail: no rotation
	if err != nil {
		t.Fatal(err)
	}
	if seq, _ := w.Head(); seq != 4 {
		t.Fatalf("resumed at seq %d, want 4", seq)
	}
	_ = w.Audit(context.Background(), event(9))
	w.Close()
	_, err = Verify([]string{path}, key.Public().(ed25519.PublicKey))
	var te *TamperError
	if !errors.As(err, &te) || te.Line != 5 {
		t.Fatalf("Verify = %v, want line 5 named", err)
	}
}

func TestOpenRefusesToGraftOntoADamagedLastRecord(t *testing.T) {
	path, _ := writeTrail(t, 3)
	lines := readLines(t, path)
	lines[len(lines)-1] = strings.Replace(lines[len(lines)-1], `"seq":4`, `"seq":7`, 1)
	writeLines(t, path, lines)
	if _, err := Open(Options{Path: path}); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Open = %v, want a refusal", err)
	}
}

func TestRotationBySizeAndDayKeepsOneChainAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	c := newClock()
	key := testKey(t, 1)
	w, err := Open(Options{Path: path, SigningKey: key, CheckpointEvery: 10, MaxBytes: 2000, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		if i == 20 {
			c.Add(14 * time.Hour) // past midnight
		}
		if err := w.Audit(context.Background(), event(i)); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Second)
	}
	w.Close()
	files, _ := filepath.Glob(path + "*")
	if len(files) < 4 {
		t.Fatalf("%d files, want several rotations", len(files))
	}
	// Any order: Verify sorts by first seq.
	files[0], files[len(files)-1] = files[len(files)-1], files[0]
	rep, err := Verify(files, key.Public().(ed25519.PublicKey))
	if err != nil || rep.FirstSeq != 1 || rep.Records != 34 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	// A whole file removed from the middle is a seq gap at the next file's first line.
	sorted := rep.Files
	rest := append(append([]string{}, sorted[:1]...), sorted[2:]...)
	_, err = Verify(rest, key.Public().(ed25519.PublicKey))
	var te *TamperError
	if !errors.As(err, &te) || te.File != sorted[2] || te.Line != 1 {
		t.Fatalf("Verify without %s = %v, want %s line 1", sorted[1], err, sorted[2])
	}
	// The day rotation: the last file holds only records of the new day.
	for _, l := range readLines(t, path) {
		if r := parse(t, l); dayOf(r.Time) != "2026-11-24" {
			t.Fatalf("record of %s in the current file", r.Time)
		}
	}
}

func TestRetentionDeletesRotatedFilesOlderThan24Months(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	c := newClock()
	open := func() *Writer {
		w, err := Open(Options{Path: path, SigningKey: testKey(t, 1), Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	w := open()
	_ = w.Audit(context.Background(), event(1))
	c.Add(24 * time.Hour)
	_ = w.Audit(context.Background(), event(2)) // rotates the first day's file
	w.Close()
	if files, _ := filepath.Glob(path + ".*"); len(files) != 1 {
		t.Fatalf("rotated files %v, want 1", files)
	}
	c.t = c.t.AddDate(0, 23, 0)
	w = open()
	w.Close()
	if files, _ := filepath.Glob(path + ".*"); len(files) != 1 {
		t.Fatalf("a file younger than 24 months was deleted: %v", files)
	}
	c.t = c.t.AddDate(0, 1, 1)
	w = open()
	_ = w.Audit(context.Background(), event(3))
	w.Close()
	files, _ := filepath.Glob(path + "*")
	rep, err := Verify(files, testKey(t, 1).Public().(ed25519.PublicKey))
	if err != nil || !rep.Anchored || rep.FirstSeq == 1 {
		t.Fatalf("after retention Verify = %+v, %v; want a chain anchored past seq 1", rep, err)
	}
}

func TestCheckpointIntervalFollowsTheClock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	c := newClock()
	w, err := Open(Options{Path: path, SigningKey: testKey(t, 1), CheckpointInterval: time.Minute, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Audit(context.Background(), event(1))
	c.Add(61 * time.Second)
	_ = w.Audit(context.Background(), event(2)) // due: checkpoint after it
	_ = w.Audit(context.Background(), event(3))
	_ = w.Checkpoint(context.Background()) // a ticker's call
	_ = w.Checkpoint(context.Background()) // nothing new: no checkpoint
	w.Close()
	var types []string
	for _, l := range readLines(t, path) {
		types = append(types, parse(t, l).Type)
	}
	want := "login.success login.success audit.checkpoint login.success audit.checkpoint"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("types %q, want %q", got, want)
	}
}

func TestDevKeyIsGeneratedOnceAndLoads(t *testing.T) {
	p := filepath.Join(t.TempDir(), "audit.key")
	k1, err := EnsureDevKey(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := EnsureDevKey(p, nil)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second load differs: %v", err)
	}
	pub, err := LoadPublicKey(p + ".pub")
	if err != nil || !pub.Equal(k1.Public()) {
		t.Fatalf("public key: %v", err)
	}
}

func TestOutWriterSignsCheckpointsToo(t *testing.T) {
	var buf bytes.Buffer
	w, err := Open(Options{Out: &buf, SigningKey: testKey(t, 3)})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Audit(context.Background(), event(1))
	_ = w.Close()
	path := filepath.Join(t.TempDir(), "stderr.log")
	_ = os.WriteFile(path, buf.Bytes(), 0o600)
	rep, err := Verify([]string{path}, testKey(t, 3).Public().(ed25519.PublicKey))
	if err != nil || rep.Checkpoints != 1 || rep.Records != 2 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

func TestASecondWriterOnTheSameFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w, err := Open(Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Path: path}); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("second Open = %v, want a refusal", err)
	}
	w.Close()
	w2, err := Open(Options{Path: path})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	w2.Close()
}

func TestCheckpointEveryBoundsTheUnsignedTailInQuietPeriods(t *testing.T) {
	var buf storetest.Buffer
	w, err := Open(Options{Out: &buf, SigningKey: testKey(t, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Audit(context.Background(), event(1))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { CheckpointEvery(ctx, w, 5*time.Millisecond); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), CheckpointType) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if strings.Count(buf.String(), CheckpointType) != 1 {
		t.Fatalf("want exactly one checkpoint (nothing new after it):\n%s", buf.String())
	}
}

type brokenAuditor struct{}

func (brokenAuditor) Audit(context.Context, Event) error {
	return errors.New("disk full")
}

// Events are counted by type once written; a record that could not be written is counted as a
// failure, not as an event, and its error comes back unchanged.
func TestCountingAuditor(t *testing.T) {
	reg := prometheus.NewRegistry()
	var buf bytes.Buffer
	c, err := NewCounting(NewWriter(&buf), reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"pin.locked", "pin.locked", "cert.rejected"} {
		if err := c.Audit(t.Context(), Event{Type: typ, Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.ToFloat64(c.events.WithLabelValues("pin.locked")); got != 2 {
		t.Fatalf("pin.locked counted %v times, want 2", got)
	}
	if strings.Count(buf.String(), `"pin.locked"`) != 2 {
		t.Fatalf("the events must reach the trail:\n%s", buf.String())
	}
	broken, err := NewCounting(brokenAuditor{}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := broken.Audit(t.Context(), Event{Type: "pin.locked"}); err == nil || err.Error() != "disk full" {
		t.Fatalf("error %v, want the trail's own", err)
	}
	if testutil.ToFloat64(broken.failures) != 1 || testutil.ToFloat64(broken.events.WithLabelValues("pin.locked")) != 0 {
		t.Fatal("an unwritten record is a failure, not an event")
	}
}
