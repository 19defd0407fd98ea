package par

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/inps/sportello/internal/store"
)

// URNPrefix starts every request_uri this package issues (RFC 9126 §2.2).
const URNPrefix = "urn:ietf:params:oauth:request_uri:"

// Defaults and bounds.
const (
	// DefaultTTL is how long a pushed request may be used (RFC 9126 §2.2 suggests 5 to 600
	// seconds; a browser redirect needs a few).
	DefaultTTL = 60 * time.Second
	// MaxTTL bounds Options.TTL.
	MaxTTL = 10 * time.Minute
	// MaxParams and MaxSize bound a pushed request: parameters, and bytes of names and
	// values together.
	MaxParams = 64
	MaxSize   = 64 << 10
	// DefaultPrefix namespaces the Store keys.
	DefaultPrefix = "par:"
	refBytes      = 32
)

// Options configure Requests.
type Options struct {
	// TTL is the lifetime of a pushed request (default DefaultTTL, at most MaxTTL), whole
	// seconds.
	TTL time.Duration
	// Rand is the random source of the references (default crypto/rand).
	Rand io.Reader
	// Prefix namespaces the Store keys (default DefaultPrefix).
	Prefix string
}

// Requests issues and redeems pushed authorization requests in a Store.
type Requests struct {
	s store.Store
	o Options
}

// New returns Requests over s.
func New(s store.Store, o Options) (*Requests, error) {
	if s == nil {
		return nil, errors.New("par: a store is required")
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.TTL < time.Second || o.TTL > MaxTTL || o.TTL%time.Second != 0 {
		return nil, fmt.Errorf("par: TTL %s is not a whole number of seconds between 1 s and %s", o.TTL, MaxTTL)
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	return &Requests{s: s, o: o}, nil
}

// Pushed is the answer of the pushed authorization request endpoint (RFC 9126 §2.2), to
// encode as JSON with status 201.
type Pushed struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

type record struct {
	ClientID string     `json:"client_id"`
	Params   url.Values `json:"params"`
}

// CheckPush applies RFC 9126 §2.1 to the parameters pushed by the authenticated client
// clientID: no request_uri among them, a client_id (if any) that names the authenticated
// client, no parameter twice (RFC 6749 §3.1), and the size bounds.
func CheckPush(clientID string, params url.Values) error {
	if clientID == "" {
		return invalidRequest("the pushed request's client is not authenticated")
	}
	if _, ok := params["request_uri"]; ok {
		return invalidRequest("request_uri must not be pushed")
	}
	if ids, ok := params["client_id"]; ok && (len(ids) != 1 || ids[0] != clientID) {
		return invalidRequest("client_id is not the authenticated client")
	}
	if len(params) > MaxParams {
		return invalidRequest("too many parameters")
	}
	size := 0
	for k, vs := range params {
		if len(vs) != 1 {
			return invalidRequest("parameter " + quoted(k) + " given more than once")
		}
		size += len(k) + len(vs[0])
	}
	if size > MaxSize {
		return invalidRequest("request too large")
	}
	return nil
}

// Push checks params (CheckPush) and stores them for clientID, with client_id set, under a
// new request_uri. The caller has authenticated the client and verified a request object
// among the parameters (package jar) before pushing.
func (r *Requests) Push(ctx context.Context, clientID string, params url.Values) (Pushed, error) {
	if err := CheckPush(clientID, params); err != nil {
		return Pushed{}, err
	}
	stored := url.Values{}
	for k, vs := range params {
		stored[k] = append([]string(nil), vs...)
	}
	stored.Set("client_id", clientID)
	b, err := json.Marshal(record{ClientID: clientID, Params: stored})
	if err != nil {
		return Pushed{}, fmt.Errorf("par: %w", err)
	}
	ref := make([]byte, refBytes)
	if _, err := io.ReadFull(r.o.Rand, ref); err != nil {
		return Pushed{}, fmt.Errorf("par: random: %w", err)
	}
	uri := URNPrefix + base64.RawURLEncoding.EncodeToString(ref)
	ok, err := r.s.PutIfAbsent(ctx, r.key(uri), b, r.o.TTL)
	if err != nil {
		return Pushed{}, fmt.Errorf("par: store: %w", err)
	}
	if !ok { // 256 random bits never collide, unless the random source is broken
		return Pushed{}, errors.New("par: request_uri collision: the random source repeats")
	}
	return Pushed{RequestURI: uri, ExpiresIn: int(r.o.TTL / time.Second)}, nil
}

// Redeem takes the request pushed under requestURI, for the client clientID named on
// /authorize, and returns its parameters (client_id included). It is single use: an
// unknown, expired or used request_uri, or one pushed by another client, is
// invalid_request_uri; a try by another client spends it.
func (r *Requests) Redeem(ctx context.Context, clientID, requestURI string) (url.Values, error) {
	ref, ok := strings.CutPrefix(requestURI, URNPrefix)
	if !ok || ref == "" || len(ref) > 128 {
		return nil, invalidRequestURI("request_uri was not issued here")
	}
	b, err := r.s.Take(ctx, r.key(requestURI))
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidRequestURI("request_uri is unknown, expired or already used")
	}
	if err != nil {
		return nil, fmt.Errorf("par: store: %w", err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("par: stored request: %w", err)
	}
	if clientID == "" || rec.ClientID != clientID {
		return nil, invalidRequestURI("request_uri was pushed by another client")
	}
	return rec.Params, nil
}

// FromAuthorize reads an authorization request's own parameters (query, or form for POST):
// it returns the request_uri and client_id when a request_uri is there, with nothing but
// client_id beside it (FAPI 2.0: every other parameter comes from the pushed request), and
// ok false when there is no request_uri (a request without PAR, which a client that
// requires PAR must not send). The request_uri must be one of ours.
func FromAuthorize(q url.Values) (requestURI, clientID string, ok bool, err error) {
	uris, has := q["request_uri"]
	if !has {
		return "", "", false, nil
	}
	if len(uris) != 1 || uris[0] == "" {
		return "", "", true, invalidRequest("request_uri given more than once or empty")
	}
	ids := q["client_id"]
	if len(ids) != 1 || ids[0] == "" {
		return "", "", true, invalidRequest("client_id is required, once, with request_uri")
	}
	for k := range q {
		if k != "request_uri" && k != "client_id" {
			return "", "", true, invalidRequest("parameter " + quoted(k) + " must be pushed, not sent with request_uri")
		}
	}
	if !strings.HasPrefix(uris[0], URNPrefix) {
		return "", "", true, invalidRequestURI("request_uri was not issued here")
	}
	return uris[0], ids[0], true, nil
}

// key hashes the reference: the store holds no usable request_uri.
func (r *Requests) key(uri string) string {
	h := sha256.Sum256([]byte(uri))
	return r.o.Prefix + base64.RawURLEncoding.EncodeToString(h[:])
}

// quoted bounds a client-chosen name in an error description.
func quoted(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return fmt.Sprintf("%q", s)
}
