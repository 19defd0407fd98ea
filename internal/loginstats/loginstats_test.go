package loginstats

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/memory"
	"github.com/inps/sportello/internal/store/storetest"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 30, 0, time.UTC)

func newStore(t *testing.T, clk *storetest.Clock) *memory.Store {
	t.Helper()
	m := memory.New(memory.Options{Now: clk.Now, JanitorInterval: -1})
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// A login counts for exactly an hour: the minute it happened and the 59 after it.
func TestALoginCountsForAnHour(t *testing.T) {
	clk := storetest.NewClock(t0)
	c := &Counter{Now: clk.Now}
	c.Add("provider", "spid", "ok")
	c.Add("provider", "spid", "ok")
	c.Add("idp", "https://idp.example/metadata", "failed")
	clk.Advance(30 * time.Minute)
	c.Add("provider", "spid", "failed")
	tot := c.Totals()
	if got := tot[Entry{"provider", "spid"}]; got["ok"] != 2 || got["failed"] != 1 {
		t.Fatalf("after 30 min: %v", got)
	}
	clk.Advance(29*time.Minute + 29*time.Second) // 59:59 after the first logins, same minute bucket + 59
	if got := c.Totals()[Entry{"provider", "spid"}]; got["ok"] != 2 {
		t.Fatalf("before the hour: %v", got)
	}
	clk.Advance(time.Minute)
	tot = c.Totals()
	if got := tot[Entry{"provider", "spid"}]; got["ok"] != 0 || got["failed"] != 1 {
		t.Fatalf("an hour later the first logins still count: %v", got)
	}
	if _, ok := tot[Entry{"idp", "https://idp.example/metadata"}]; ok {
		t.Fatalf("an hour-old IdP failure still counts: %v", tot)
	}
}

// Whatever reaches Add, a bucket stays bounded: empty or oversized keys are ignored and new
// keys beyond MaxKeys in one minute are dropped.
func TestABucketStaysBounded(t *testing.T) {
	c := &Counter{Now: func() time.Time { return t0 }}
	c.Add("idp", "", "ok")
	c.Add("idp", strings.Repeat("x", MaxIDLen+1), "ok")
	c.Add("", "spid", "ok")
	if len(c.Totals()) != 0 {
		t.Fatalf("bad keys counted: %v", c.Totals())
	}
	for i := range MaxKeys + 10 {
		c.Add("idp", "https://idp.example/"+strings.Repeat("a", i%50)+string(rune('A'+i/50%26))+string(rune('a'+i/1300)), "ok")
	}
	if n := len(c.snapshot()[minuteOf(t0)]); n > MaxKeys {
		t.Fatalf("%d keys in one bucket", n)
	}
}

// The cluster's counts are every replica's, this one's live counts included, and a replica
// that stopped still counts until its logins are an hour old.
func TestClusterSumsEveryReplica(t *testing.T) {
	clk := storetest.NewClock(t0)
	st := newStore(t, clk)
	ctx := context.Background()
	a, b := &Counter{Now: clk.Now}, &Counter{Now: clk.Now}
	pa := &Publisher{Store: st, Replica: "a", Counter: a}
	pb := &Publisher{Store: st, Replica: "b", Counter: b}
	a.Add("provider", "spid", "ok")
	b.Add("provider", "spid", "ok")
	b.Add("provider", "pin", "failed")
	for _, p := range []*Publisher{pa, pb} {
		if err := p.Publish(ctx); err != nil {
			t.Fatal(err)
		}
	}
	a.Add("provider", "spid", "ok") // not published yet: a's own view counts it live
	tot, err := Cluster(ctx, st, clk.Now(), "a", a)
	if err != nil {
		t.Fatal(err)
	}
	if got := tot[Entry{"provider", "spid"}]["ok"]; got != 3 {
		t.Fatalf("spid ok = %d, want 3 (2 on a, live; 1 on b)", got)
	}
	if got := tot[Entry{"provider", "pin"}]["failed"]; got != 1 {
		t.Fatalf("pin failed = %d", got)
	}
	// b stops; its logins count until they are an hour old.
	clk.Advance(45 * time.Minute)
	_ = pa.Publish(ctx)
	tot, _ = Cluster(ctx, st, clk.Now(), "", nil)
	if got := tot[Entry{"provider", "pin"}]["failed"]; got != 1 {
		t.Fatalf("a stopped replica's logins vanished early: %v", tot)
	}
	clk.Advance(16 * time.Minute)
	tot, _ = Cluster(ctx, st, clk.Now(), "", nil)
	if len(tot) != 0 {
		t.Fatalf("logins over an hour old still counted: %v", tot)
	}
}

// A damaged value in the Store counts nothing and fails nothing: not JSON, another replica's
// record, negative or absurd counts, an index naming keys outside the namespace.
func TestClusterIgnoresDamagedRecords(t *testing.T) {
	clk := storetest.NewClock(t0)
	st := newStore(t, clk)
	ctx := context.Background()
	good := &Counter{Now: clk.Now}
	good.Add("provider", "spid", "ok")
	if err := (&Publisher{Store: st, Replica: "good", Counter: good}).Publish(ctx); err != nil {
		t.Fatal(err)
	}
	m := minuteOf(t0)
	bad := map[string]string{
		"notjson": "{",
		"other":   `{"replica":"good","minutes":[{"m":` + itoa(m) + `,"c":[{"k":"provider","i":"spid","o":"ok","n":100}]}]}`,
		"neg":     `{"replica":"neg","minutes":[{"m":` + itoa(m) + `,"c":[{"k":"provider","i":"spid","o":"ok","n":-100},{"k":"provider","i":"spid","o":"ok","n":9007199254740993}]}]}`,
		"future":  `{"replica":"future","minutes":[{"m":` + itoa(m+5) + `,"c":[{"k":"provider","i":"spid","o":"ok","n":100}]}]}`,
	}
	ids := []string{"good", "../etc", "heartbeat:{x}"}
	for id, v := range bad {
		if err := st.Put(ctx, recordKey(id), []byte(v), 0); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	raw, _ := json.Marshal(ids)
	if err := st.Put(ctx, IndexKey, raw, 0); err != nil {
		t.Fatal(err)
	}
	tot, err := Cluster(ctx, st, clk.Now(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := tot[Entry{"provider", "spid"}]["ok"]; got != 1 {
		t.Fatalf("spid ok = %d, want 1: damaged records counted", got)
	}
	// A damaged index is rebuilt by the next publication, not a permanent failure.
	if err := st.Put(ctx, IndexKey, []byte("not json"), 0); err != nil {
		t.Fatal(err)
	}
	if err := (&Publisher{Store: st, Replica: "good", Counter: good}).Publish(ctx); err != nil {
		t.Fatal(err)
	}
	if tot, err := Cluster(ctx, st, clk.Now(), "", nil); err != nil || tot[Entry{"provider", "spid"}]["ok"] != 1 {
		t.Fatalf("after the rebuild: %v %v", tot, err)
	}
}

func TestAReplicaIDIsChecked(t *testing.T) {
	st := newStore(t, storetest.NewClock(t0))
	for _, id := range []string{"", "a/b", "a}b", strings.Repeat("a", 129)} {
		if err := (&Publisher{Store: st, Replica: id, Counter: &Counter{}}).Publish(context.Background()); err != ErrBadID {
			t.Errorf("replica %q: %v", id, err)
		}
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// FuzzDecode: whatever the Store holds under a record key, decoding neither panics nor
// yields a count that is not positive or a key beyond the bounds.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"replica":"r","minutes":[{"m":29000000,"c":[{"k":"provider","i":"spid","o":"ok","n":3}]}]}`))
	f.Add([]byte(`{"replica":"r","minutes":[{"m":1,"c":[{"k":"idp","i":"","o":"ok","n":-1}]}]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		bs, err := decode(raw, "r")
		if err != nil {
			return
		}
		for _, b := range bs {
			for k, n := range b {
				if n <= 0 || k.ID == "" || len(k.ID) > MaxIDLen {
					t.Fatalf("bad count %v=%d", k, n)
				}
			}
		}
	})
}
