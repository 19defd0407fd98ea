package devfed

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/providers/oidcfed"
)

// Key is a private RSA key as a JWK with its thumbprint as kid.
func Key(bits int) (jose.JSONWebKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	jwk := jose.JSONWebKey{Key: k, Algorithm: string(jose.RS256), Use: "sig"}
	pub := jwk.Public()
	tp, err := pub.Thumbprint(cryptoSHA256)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	jwk.KeyID = b64(tp)
	return jwk, nil
}

// Public is the public JWKS of keys.
func Public(keys ...jose.JSONWebKey) *jose.JSONWebKeySet {
	set := &jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.Public())
	}
	return set
}

// Subordinate is what a superior states about an entity below it.
type Subordinate struct {
	JWKS        *jose.JSONWebKeySet
	Policy      oidcfed.Policy
	Metadata    map[string]map[string]any
	Constraints *oidcfed.Constraints
}

// Entity is a federation entity publishing its entity configuration and, for superiors, the
// subordinate statements of its fetch endpoint.
type Entity struct {
	// ID is the entity identifier.
	ID string
	// Key signs its statements; JWKS, when set, is published instead of Key's public half
	// (tests: a configuration listing another key).
	Key  jose.JSONWebKey
	JWKS *jose.JSONWebKeySet
	// AuthorityHints are its superiors.
	AuthorityHints []string
	// Metadata is its metadata by entity type (federation_entity gets the fetch endpoint
	// added when it has subordinates).
	Metadata map[string]map[string]any
	// TrustMarks are published in its configuration.
	TrustMarks []oidcfed.TrustMarkRef
	// TrustMarkIssuers (anchors) lists who may issue each trust mark type.
	TrustMarkIssuers map[string][]string
	// Constraints (anchors) go in its configuration.
	Constraints *oidcfed.Constraints
	// Lifetime is the exp horizon of its statements (default 24 h).
	Lifetime time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu   sync.RWMutex
	subs map[string]Subordinate
}

// FetchPath is the fetch endpoint's path under the entity identifier.
const FetchPath = "/fetch"

func (e *Entity) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Entity) lifetime() time.Duration {
	if e.Lifetime != 0 {
		return e.Lifetime
	}
	return 24 * time.Hour
}

// Add states sub below e (or replaces what e states about it).
func (e *Entity) Add(id string, s Subordinate) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.subs == nil {
		e.subs = map[string]Subordinate{}
	}
	e.subs[id] = s
}

func (e *Entity) signer() (jose.Signer, error) { return oidcfed.NewStatementSigner(e.Key) }

// Configuration is e's signed entity configuration.
func (e *Entity) Configuration() (string, error) {
	now := e.now()
	jwks := e.JWKS
	if jwks == nil {
		jwks = Public(e.Key)
	}
	md := map[string]map[string]any{}
	for t, m := range e.Metadata {
		md[t] = m
	}
	e.mu.RLock()
	hasSubs := len(e.subs) > 0
	e.mu.RUnlock()
	if hasSubs {
		fed := map[string]any{}
		for k, v := range md[oidcfed.EntityFederated] {
			fed[k] = v
		}
		fed["federation_fetch_endpoint"] = e.ID + FetchPath
		md[oidcfed.EntityFederated] = fed
	}
	claims := map[string]any{"iss": e.ID, "sub": e.ID, "iat": now.Unix(), "exp": now.Add(e.lifetime()).Unix(),
		"jwks": jwks, "metadata": md}
	if len(e.AuthorityHints) > 0 {
		claims["authority_hints"] = e.AuthorityHints
	}
	if len(e.TrustMarks) > 0 {
		claims["trust_marks"] = e.TrustMarks
	}
	if e.TrustMarkIssuers != nil {
		claims["trust_mark_issuers"] = e.TrustMarkIssuers
	}
	if e.Constraints != nil {
		claims["constraints"] = e.Constraints
	}
	s, err := e.signer()
	if err != nil {
		return "", err
	}
	return oidcfed.SignJWT(s, claims)
}

// Statement is e's signed subordinate statement about sub.
func (e *Entity) Statement(sub string) (string, error) {
	e.mu.RLock()
	s, ok := e.subs[sub]
	e.mu.RUnlock()
	if !ok {
		return "", fmt.Errorf("%s states nothing about %s", e.ID, sub)
	}
	now := e.now()
	claims := map[string]any{"iss": e.ID, "sub": sub, "iat": now.Unix(), "exp": now.Add(e.lifetime()).Unix(), "jwks": s.JWKS}
	if s.Policy != nil {
		claims["metadata_policy"] = s.Policy
	}
	if s.Metadata != nil {
		claims["metadata"] = s.Metadata
	}
	if s.Constraints != nil {
		claims["constraints"] = s.Constraints
	}
	signer, err := e.signer()
	if err != nil {
		return "", err
	}
	return oidcfed.SignJWT(signer, claims)
}

// TrustMark is a trust mark of type typ about sub, issued by e.
func (e *Entity) TrustMark(typ, sub string) (string, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: e.Key}, (&jose.SignerOptions{}).WithType(oidcfed.TypeTrustMark))
	if err != nil {
		return "", err
	}
	now := e.now()
	return oidcfed.SignJWT(s, map[string]any{"iss": e.ID, "sub": sub, "trust_mark_type": typ, "id": typ,
		"iat": now.Unix(), "exp": now.Add(e.lifetime()).Unix()})
}

// path is the URL path of the entity identifier.
func (e *Entity) path() string {
	rest := e.ID[strings.Index(e.ID, "://")+3:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return ""
}

// ServeFederation answers e's entity configuration and fetch endpoint; it reports whether
// r was one of them.
func (e *Entity) ServeFederation(w http.ResponseWriter, r *http.Request) bool {
	var jwt string
	var err error
	switch r.URL.Path {
	case e.path() + oidcfed.WellKnown:
		jwt, err = e.Configuration()
	case e.path() + FetchPath:
		jwt, err = e.Statement(r.URL.Query().Get("sub"))
		if err != nil {
			http.Error(w, `{"error":"not_found","error_description":"unknown subordinate"}`, http.StatusNotFound)
			return true
		}
	default:
		return false
	}
	if err != nil {
		http.Error(w, "signing failed", http.StatusInternalServerError)
		return true
	}
	w.Header().Set("Content-Type", oidcfed.ContentTypeEntityStatement)
	_, _ = w.Write([]byte(jwt))
	return true
}

// ServeHTTP implements http.Handler with ServeFederation.
func (e *Entity) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !e.ServeFederation(w, r) {
		http.NotFound(w, r)
	}
}
