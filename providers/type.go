package providers

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/notify"
	"github.com/inps/sportello/internal/store"
)

// Type is one kind of credential built into the binary. Each provider package exports its
// Type values; cmd/sportello lists them once, and that list is the whole registry: config
// validation, chooser order, construction and the page catalogue all come from it.
type Type struct {
	// Name is the provider type in the configuration (providers.<id>.type).
	Name string
	// Order places the type's providers in the chooser (lower first; ties by provider id).
	Order int
	// Decode strictly decodes and validates the section of provider id (dev: dev mode is on),
	// resolving relative paths like the configuration file's. Its errors are
	// *config.FieldError with full paths ("providers.<id>....") and lines; the result is
	// what Open is given.
	Decode func(id string, p *config.Provider, dev bool) (any, []error)
	// Open builds the provider from Decode's result with what the broker gives it.
	Open func(h Host, cfg any) (Provider, error)
	// Messages is the type's page catalogue (message key → language → text), nil when none.
	Messages map[string]map[string]string
}

// Host is what a provider is given at Open: its id, the broker's public base URL, the shared
// infrastructure, and the running broker's services.
type Host struct {
	// ID is the provider's key in the configuration and in URLs.
	ID string
	// Issuer is the broker's public base URL, e.g. https://login.inps.it.
	Issuer string
	// Dev is true in dev mode (dev fixtures may be seeded).
	Dev bool
	// Store is the shared store: everything that crosses requests lives there.
	Store store.Store
	// SealKey, when set, is the crypto key the broker seals its own signing keys in Store with
	// (the Redis store): a provider with keys of its own keeps them there too, sealed with it
	// (internal/store/seal), so replicas share them. Nil: they stay in the provider's files.
	SealKey []byte
	// Auditor is the audit trail.
	Auditor audit.Auditor
	// Notifier delivers messages to people (e-mail, PEC, SMS, post).
	Notifier notify.Notifier
	// Logger is the structured log.
	Logger *slog.Logger
	// Broker is the running broker's services (forms, language, session, pages).
	Broker Services
	// URLRewrite points outside URLs elsewhere (dev mode: the dev PKI's CRL and OCSP URLs at
	// the real dev listener); nil in production.
	URLRewrite map[string]string
	// OnRevocationCheck is told each CRL or OCSP answer (source, result) for the metrics;
	// nil when not counted.
	OnRevocationCheck func(source, result string)
	// OnChainResolution is told each federation trust chain resolution (entity type,
	// outcome) for the metrics; nil when not counted.
	OnChainResolution func(entityType, outcome string)
}

// Services are what the broker does for a provider's own pages and endpoints.
type Services interface {
	// CSRFToken is the form token bound to the browser of r; CheckCSRF verifies a POST's.
	CSRFToken(r *http.Request) string
	CheckCSRF(r *http.Request) bool
	// Lang is the person's language, "it" or "en".
	Lang(r *http.Request) string
	// SessionIdentity is the identity of the broker session of r: nil without one, an error
	// wrapping ErrUnavailable when the store could not say.
	SessionIdentity(r *http.Request) (*Identity, error)
	// AuthorizeBearer checks an operator's bearer token for scope and names the operator.
	AuthorizeBearer(r *http.Request, scope string) (operator string, ok bool)
	// WritePostForm writes the auto-submitting form of an HTTP-POST binding in the broker's
	// page layout.
	WritePostForm(w http.ResponseWriter, r *http.Request, action string, fields map[string]string) error
	// WriteUnavailable answers 503 with the broker's service-unavailable page.
	WriteUnavailable(w http.ResponseWriter, r *http.Request, err error)
	// EndUpstreamSession ends the broker sessions opened with the upstream session s (an
	// IdP-initiated logout).
	EndUpstreamSession(ctx context.Context, s map[string]string) error
	// SignInURL is the broker's own sign-in coming back to next; ChooserURL the credential
	// chooser of a pending login.
	SignInURL(next string) string
	ChooserURL(loginID string) string
}

// Entitler is a provider that knows officials' authorisations (the PIN's officials
// registry); the broker adds them to the tokens of every login.
type Entitler interface {
	Entitlements(ctx context.Context, fiscalNumber string) ([]string, error)
}
