package saml

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers/saml/samlx"
)

// Config is one Service Provider: its entity, endpoints and key, what its metadata says, its
// identity providers, and the time limits of a login. The provider package resolves it from
// its own configuration section.
type Config struct {
	// EntityID, ACSURL (HTTP-POST, index 0) and SLOURL (HTTP-Redirect and HTTP-POST).
	EntityID, ACSURL, SLOURL string
	// Keys sign the metadata, the AuthnRequests and the logout messages.
	Keys *samlx.KeyPair
	// Organization and AttributeServices go into the metadata as they are.
	Organization      Organization
	AttributeServices []AttributeService
	// AttributeServiceIndex is the AttributeConsumingServiceIndex of every AuthnRequest.
	AttributeServiceIndex int
	// MetadataValidity is the validUntil horizon of the metadata (0 omits it); the served
	// copy is regenerated when half of it has passed.
	MetadataValidity time.Duration
	// IdPs are the metadata sources, reloaded every MetadataRefresh.
	IdPs            []IdPConfig
	MetadataRefresh time.Duration
	// ClockSkew is tolerated on every instant and validity window.
	ClockSkew time.Duration
	// RequestTTL bounds the time between an AuthnRequest (or LogoutRequest) and its answer.
	RequestTTL time.Duration
}

// Deps are the engine's collaborators; only Store is required.
type Deps struct {
	// Store keeps the request records and the assertion replay cache (shared by all replicas).
	Store store.Store
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand is the random source of IDs and RelayState (default crypto/rand).
	Rand io.Reader
	// HTTPClient fetches IdP metadata (default: a client with a 10s timeout).
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Audit records one event of the federation's trace ("<profile>.authn_request",
	// "<profile>.logout_request", ...), whole messages included. Optional.
	Audit func(ctx context.Context, typ, actor string, fields map[string]any)
	// PostForm writes the auto-submitting form of the HTTP-POST binding (default
	// samlx.WritePOSTForm).
	PostForm func(w http.ResponseWriter, r *http.Request, action string, fields map[string]string) error
	// SessionEnder, when set, is called on an IdP-initiated LogoutRequest with the session
	// (idp, name_id, session_index) so the broker can end its own. Optional.
	SessionEnder func(ctx context.Context, session map[string]string) error
	// Unavailable answers a logout message that the store could not serve: 503, Retry-After
	// and a page saying the service is temporarily unavailable. Default: the same in plain
	// bilingual text.
	Unavailable func(w http.ResponseWriter, r *http.Request, err error)
}

// SP is the SAML 2.0 Service Provider engine under one Profile: it sends AuthnRequests and
// tracks them in the Store, validates Responses, keeps the replay cache, runs single logout,
// serves the signed metadata and holds the IdP registry. It writes no user-facing page: its
// errors (RejectError, StatusError, LevelError, and the providers sentinels they wrap) are
// for the provider package to map.
type SP struct {
	prof     *Profile
	cfg      Config
	deps     Deps
	log      *slog.Logger
	registry *Registry

	mdMu   sync.Mutex
	mdXML  []byte
	mdTime time.Time
}

// New builds the engine. IdP metadata is not fetched here: call Registry().Run or Refresh,
// or let the first lookup load it lazily.
func New(prof Profile, cfg Config, deps Deps) (*SP, error) {
	if err := prof.Validate(); err != nil {
		return nil, err
	}
	if deps.Store == nil {
		return nil, errors.New("saml: a Store is required")
	}
	if cfg.Keys == nil || cfg.EntityID == "" || cfg.ACSURL == "" || cfg.SLOURL == "" {
		return nil, errors.New("saml: the entity ID, the ACS and SLO URLs and the keys are required")
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Rand == nil {
		deps.Rand = rand.Reader
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.HTTPClient == nil {
		deps.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if deps.PostForm == nil {
		deps.PostForm = func(w http.ResponseWriter, _ *http.Request, action string, fields map[string]string) error {
			return samlx.WritePOSTForm(w, action, fields)
		}
	}
	if deps.Unavailable == nil {
		deps.Unavailable = func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.Header().Set("Retry-After", strconv.Itoa(int(store.OutageRetryAfter/time.Second)))
			http.Error(w, "Servizio temporaneamente non disponibile: riprova tra poco. / "+
				"The service is temporarily unavailable: please try again shortly.", http.StatusServiceUnavailable)
		}
	}
	reg, err := NewRegistry(cfg.IdPs, deps.HTTPClient, deps.Now, deps.Logger, cfg.MetadataRefresh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prof.Name, err)
	}
	reg.name = prof.Name
	return &SP{prof: &prof, cfg: cfg, deps: deps, log: deps.Logger, registry: reg}, nil
}

// Registry is the identity-provider registry.
func (s *SP) Registry() *Registry { return s.registry }

// Profile is the profile the engine runs (not to be changed).
func (s *SP) Profile() *Profile { return s.prof }

// errorf prefixes an error with the profile's name.
func (s *SP) errorf(format string, a ...any) error {
	return fmt.Errorf(s.prof.Name+": "+format, a...)
}

// audit hands one event to Deps.Audit, typed "<profile>.<event>".
func (s *SP) audit(ctx context.Context, event, actor string, fields map[string]any) {
	if s.deps.Audit != nil {
		s.deps.Audit(ctx, s.prof.Name+"."+event, actor, fields)
	}
}

// storeKey is the Store key of kind ("req", "slo", "assertion") and id, in the profile's
// namespace.
func (s *SP) storeKey(kind, id string) string { return s.prof.Name + ":" + kind + ":" + id }

// Metadata returns the signed SP metadata, regenerated when half its validity has passed.
func (s *SP) Metadata() ([]byte, error) {
	s.mdMu.Lock()
	defer s.mdMu.Unlock()
	now := s.deps.Now()
	if s.mdXML != nil && now.Sub(s.mdTime) < s.cfg.MetadataValidity/2 {
		return s.mdXML, nil
	}
	b, err := BuildMetadata(s.prof, &s.cfg, now)
	if err != nil {
		return nil, err
	}
	s.mdXML, s.mdTime = b, now
	return b, nil
}
