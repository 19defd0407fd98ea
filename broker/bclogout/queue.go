package bclogout

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/inps/sportello/internal/store"
)

// Defaults of Options.
const (
	DefaultMaxAttempts = 8
	DefaultBackoff     = 2 * time.Second
	DefaultMaxBackoff  = 15 * time.Minute
	DefaultTimeout     = 10 * time.Second
	DefaultTokenTTL    = 2 * time.Minute
	DefaultRetention   = 7 * 24 * time.Hour
	DefaultMaxScan     = 1000
	DefaultPrefix      = "bcl:"
)

// States of an entry.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateFailed    = "failed"
	stateVoid      = "void" // a slot handed out and never written
)

// Status is what the queue knows of one entry.
type Status struct {
	ID     string `json:"-"`
	State  string `json:"state"`
	Logout Logout `json:"logout"`
	JTI    string `json:"jti"`
	// Attempts counts the deliveries tried.
	Attempts int `json:"attempts"`
	// Next is when a pending entry is due (Unix nanoseconds).
	Next int64 `json:"next,omitempty"`
	// LeaseUntil and Owner name the worker delivering it, until then.
	LeaseUntil int64  `json:"lease_until,omitempty"`
	Owner      string `json:"owner,omitempty"`
	// LastError is the last failure (an HTTP status or a transport error).
	LastError string `json:"last_error,omitempty"`
	Enqueued  int64  `json:"enqueued"`
}

// Options configure a Queue.
type Options struct {
	// Issuer is the broker's issuer, the tokens' iss (required).
	Issuer string
	// Signer signs the tokens (required).
	Signer Signer
	// Store holds the queue (required); the replicas that share it share the queue.
	Store store.Store
	// HTTPClient delivers (default: no redirects, Timeout DefaultTimeout). Redirects are
	// never followed; each delivery is also bounded by Timeout.
	HTTPClient *http.Client
	// Timeout bounds one delivery (default 10 s).
	Timeout time.Duration
	// Lease is how long a worker holds an entry it delivers (default 3 × Timeout); it must
	// exceed Timeout, so that no other worker takes an entry still being delivered.
	Lease time.Duration
	// MaxAttempts is how many deliveries are tried before the entry is failed (default 8).
	MaxAttempts int
	// Backoff is the wait after the first failure, doubled after each one up to MaxBackoff
	// (defaults 2 s and 15 minutes).
	Backoff, MaxBackoff time.Duration
	// TokenTTL is the logout tokens' lifetime (default 2 minutes).
	TokenTTL time.Duration
	// Retention is how long a delivered or failed entry's record stays (default 7 days).
	Retention time.Duration
	// MaxScan bounds the slots one Work pass reads (default 1000).
	MaxScan int
	// Prefix namespaces the Store keys (default DefaultPrefix).
	Prefix string
	// AllowHTTP accepts http:// logout URIs (dev mode only).
	AllowHTTP bool
	// OnGiveUp is called once for each entry that failed MaxAttempts times (the audit
	// record of a logout that did not reach the client).
	OnGiveUp func(ctx context.Context, s Status)
	// OnAttempt, when set, is told the outcome of each delivery tried whose outcome was
	// recorded: StateDelivered, StatePending (due again after the backoff) or StateFailed
	// (metrics).
	OnAttempt func(ctx context.Context, s Status)
	// Now is the clock (default time.Now); Rand the random source (default crypto/rand).
	Now  func() time.Time
	Rand io.Reader
	// Logger gets the failed deliveries (default slog.Default()).
	Logger *slog.Logger
}

// Queue is the durable delivery queue of back-channel logouts.
type Queue struct {
	o     Options
	hc    http.Client
	owner string
}

// New validates o and returns a Queue; every replica builds its own on the shared Store.
func New(o Options) (*Queue, error) {
	if o.Issuer == "" || o.Signer == nil || o.Store == nil {
		return nil, errors.New("bclogout: Issuer, Signer and Store are required")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Lease == 0 {
		o.Lease = 3 * o.Timeout
	}
	if o.Lease <= o.Timeout {
		return nil, fmt.Errorf("bclogout: Lease %s must exceed Timeout %s", o.Lease, o.Timeout)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.MaxScan <= 0 {
		o.MaxScan = DefaultMaxScan
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	q := &Queue{o: o}
	if o.HTTPClient != nil {
		q.hc = *o.HTTPClient
	}
	if q.hc.Timeout <= 0 || q.hc.Timeout > o.Timeout {
		q.hc.Timeout = o.Timeout
	}
	q.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	owner, err := q.random(12)
	if err != nil {
		return nil, err
	}
	q.owner = owner
	return q, nil
}

func (q *Queue) random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(q.o.Rand, b); err != nil {
		return "", fmt.Errorf("bclogout: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (q *Queue) seqKey() string          { return q.o.Prefix + "seq" }
func (q *Queue) headKey() string         { return q.o.Prefix + "head" }
func (q *Queue) entryKey(n int64) string { return q.o.Prefix + "e:" + strconv.FormatInt(n, 10) }

// Enqueue adds a delivery and returns its id. It returns once the entry is in the Store.
func (q *Queue) Enqueue(ctx context.Context, l Logout) (string, error) {
	if err := l.check(q.o.AllowHTTP); err != nil {
		return "", err
	}
	jti, err := q.random(18)
	if err != nil {
		return "", err
	}
	now := q.o.Now()
	b, err := json.Marshal(Status{State: StatePending, Logout: l, JTI: jti, Next: now.UnixNano(), Enqueued: now.UnixNano()})
	if err != nil {
		return "", err
	}
	for range 8 {
		n, err := q.o.Store.Incr(ctx, q.seqKey(), 1, 0)
		if err != nil {
			return "", fmt.Errorf("bclogout: store: %w", err)
		}
		ok, err := q.o.Store.PutIfAbsent(ctx, q.entryKey(n), b, 0)
		if err != nil {
			return "", fmt.Errorf("bclogout: store: %w", err)
		}
		if ok {
			return strconv.FormatInt(n, 10), nil
		}
		// A worker voided the slot before this write: take the next one.
	}
	return "", errors.New("bclogout: every slot taken was voided; the workers' scans and this writer disagree")
}

// Status returns the record of entry id (store.ErrNotFound once its retention ran out).
func (q *Queue) Status(ctx context.Context, id string) (Status, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return Status{}, fmt.Errorf("bclogout: bad entry id %q", id)
	}
	b, err := q.o.Store.Get(ctx, q.entryKey(n))
	if err != nil {
		return Status{}, err
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return Status{}, fmt.Errorf("bclogout: entry %s: %w", id, err)
	}
	s.ID = id
	return s, nil
}

func (q *Queue) counter(ctx context.Context, key string) (int64, error) {
	b, err := q.o.Store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// Work makes one pass over the queue: it delivers every due entry it can claim and returns
// how many deliveries it tried. Call it from every replica (Run does, periodically).
func (q *Queue) Work(ctx context.Context) (int, error) {
	head, err := q.counter(ctx, q.headKey())
	if err != nil {
		return 0, fmt.Errorf("bclogout: head: %w", err)
	}
	head = max(head, 1)
	tail, err := q.counter(ctx, q.seqKey())
	if err != nil {
		return 0, fmt.Errorf("bclogout: seq: %w", err)
	}
	tried := 0
	next, contiguous := head, true
	for n := head; n <= tail && n < head+int64(q.o.MaxScan); n++ {
		finished, attempted, err := q.slot(ctx, n)
		if err != nil {
			return tried, err
		}
		if attempted {
			tried++
		}
		if finished && contiguous {
			next = n + 1
		} else {
			contiguous = false
		}
	}
	if next > head {
		_, err := store.Update(ctx, q.o.Store, q.headKey(), 0, func(old []byte) ([]byte, error) {
			cur, _ := strconv.ParseInt(string(old), 10, 64)
			return []byte(strconv.FormatInt(max(cur, next), 10)), nil
		})
		if err != nil {
			return tried, fmt.Errorf("bclogout: head: %w", err)
		}
	}
	return tried, nil
}

// slot handles slot n: it reports whether the slot is finished (delivered, failed or void)
// and whether a delivery was tried.
func (q *Queue) slot(ctx context.Context, n int64) (finished, attempted bool, err error) {
	key := q.entryKey(n)
	raw, err := q.o.Store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		void, _ := json.Marshal(Status{State: stateVoid})
		ok, err := q.o.Store.PutIfAbsent(ctx, key, void, q.o.Retention)
		if err != nil {
			return false, false, fmt.Errorf("bclogout: store: %w", err)
		}
		return ok, false, nil // not ok: its writer just wrote it; the next pass sees it
	}
	if err != nil {
		return false, false, fmt.Errorf("bclogout: store: %w", err)
	}
	var e Status
	if err := json.Unmarshal(raw, &e); err != nil {
		q.o.Logger.Error("bclogout: unreadable entry skipped", "entry", n, "err", err)
		return true, false, nil
	}
	if e.State != StatePending {
		return true, false, nil
	}
	now := q.o.Now()
	if e.Next > now.UnixNano() || e.LeaseUntil > now.UnixNano() {
		return false, false, nil
	}
	e.Attempts++
	e.LeaseUntil, e.Owner = now.Add(q.o.Lease).UnixNano(), q.owner
	claimed, _ := json.Marshal(e)
	ok, err := q.o.Store.CompareAndSwap(ctx, key, raw, claimed, 0)
	if err != nil {
		return false, false, fmt.Errorf("bclogout: store: %w", err)
	}
	if !ok {
		return false, false, nil // another worker claimed it first
	}
	derr := q.deliver(ctx, e)
	done := e
	done.LeaseUntil, done.Owner = 0, ""
	ttl := q.o.Retention
	switch {
	case derr == nil:
		done.State, done.LastError = StateDelivered, ""
	case done.Attempts >= q.o.MaxAttempts:
		done.State, done.LastError = StateFailed, derr.Error()
	default:
		done.LastError, ttl = derr.Error(), 0
		done.Next = q.o.Now().Add(q.backoff(done.Attempts)).UnixNano()
	}
	b, _ := json.Marshal(done)
	ok, err = q.o.Store.CompareAndSwap(ctx, key, claimed, b, ttl)
	if err != nil {
		return false, true, fmt.Errorf("bclogout: store: %w", err)
	}
	if !ok {
		// The lease ran out during the delivery and another worker took over: its record wins.
		q.o.Logger.Warn("bclogout: lease lost during a delivery", "entry", n, "client", e.Logout.ClientID)
		return false, true, nil
	}
	if derr != nil {
		q.o.Logger.Warn("bclogout: delivery failed", "entry", n, "client", e.Logout.ClientID, "attempt", done.Attempts, "err", derr)
	}
	done.ID = strconv.FormatInt(n, 10)
	if q.o.OnAttempt != nil {
		q.o.OnAttempt(ctx, done)
	}
	if done.State == StateFailed && q.o.OnGiveUp != nil {
		q.o.OnGiveUp(ctx, done)
	}
	return done.State != StatePending, true, nil
}

func (q *Queue) backoff(attempts int) time.Duration {
	d := q.o.Backoff
	for i := 1; i < attempts && d < q.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, q.o.MaxBackoff)
}

// deliver POSTs a freshly signed token to the client: 200 or 204 is a delivery.
func (q *Queue) deliver(ctx context.Context, e Status) error {
	tok, err := Token(ctx, q.o.Signer, q.o.Issuer, e.Logout, e.JTI, q.o.Now(), q.o.TokenTTL)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, q.o.Timeout)
	defer cancel()
	body := url.Values{"logout_token": {tok}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.Logout.URI, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := q.hc.Do(req)
	if err != nil {
		return fmt.Errorf("POST: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("POST: %s", resp.Status)
	}
	return nil
}

// Run calls Work every interval until ctx ends, logging its errors (a store outage is
// retried at the next tick).
func (q *Queue) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := q.Work(ctx); err != nil && ctx.Err() == nil {
			q.o.Logger.Error("bclogout: queue pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
