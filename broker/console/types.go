package console

import (
	"context"
	"errors"
	"time"

	"github.com/inps/sportello/internal/heartbeat"
	"github.com/inps/sportello/internal/switches"
)

// Errors an Actions or Sources implementation returns to say what went wrong; the API maps
// them to 404 and 400. Any other error of an action is a dependency being unavailable (the
// Store, an IdP's metadata server): 503, and the detail goes to the log only.
var (
	ErrNotFound = errors.New("console: not found")
	ErrInvalid  = errors.New("console: invalid request")
)

// Provider is one upstream as the console shows it: a provider (kind "provider": spid, cie,
// cns, pin, ...) or one identity provider behind it (kind "idp": a SPID IdP, id its entityID;
// a CIE/CNS trust anchor).
type Provider struct {
	Kind switches.Kind `json:"kind"`
	ID   string        `json:"id"`
	// Name is what a person sees; Type the provider type (spid, cie, cns, pin, oidcfed...).
	Name string `json:"name"`
	Type string `json:"type"`
	// Parent is, for an idp, the id of its provider.
	Parent string `json:"parent,omitempty"`
	// Metadata tells where the upstream's metadata comes from and when it was last read.
	Metadata *Metadata `json:"metadata,omitempty"`
	// Certificates are the upstream's signing certificates (or a CA's certificate).
	Certificates []Certificate `json:"certificates"`
	// Revocation is, for a certification authority (a CIE or CNS CA), the health of its
	// revocation sources.
	Revocation *Revocation `json:"revocation,omitempty"`
	// LastError is the last failure seen with this upstream ("" when none).
	LastError string `json:"last_error,omitempty"`
	// LoginsLastHour counts the logins of the last hour on every replica by outcome (see
	// LoginOutcomes); nil when they could not be read.
	LoginsLastHour map[string]int64 `json:"logins_last_hour,omitempty"`
	// Enabled is false when a switch is in force; Switch then describes it (filled by the
	// console from the switches).
	Enabled bool             `json:"enabled"`
	Switch  *switches.Switch `json:"switch,omitempty"`
}

// LoginOutcomes are the keys of Provider.LoginsLastHour: logins started (a provider's first
// step shown), completed (ok), refused (failed), cancelled by the person, and failed because
// the Store, the provider or the IdP could not answer (unavailable).
var LoginOutcomes = []string{"started", "ok", "failed", "cancelled", "unavailable"}

// Metadata describes an upstream's metadata source: for a provider a summary of its
// sources, for an IdP the source (URL or file) that lists it.
type Metadata struct {
	Source string `json:"source"`
	// SourceType is "url" or "file" ("" for a provider's summary).
	SourceType string `json:"source_type,omitempty"`
	// LastRefresh is the last successful load (the copy in use); LastAttempt the last try.
	LastRefresh *time.Time `json:"last_refresh,omitempty"`
	LastAttempt *time.Time `json:"last_attempt,omitempty"`
	// Stale is set when the last attempt failed and the copy of LastRefresh is still in use
	// (the Provider's LastError says why).
	Stale bool `json:"stale,omitempty"`
	// Sources, Unloaded and StaleSources summarise a provider's sources (nil for an IdP):
	// how many, how many never loaded, how many stale; Source says the same in English.
	Sources      *int `json:"sources,omitempty"`
	Unloaded     *int `json:"unloaded,omitempty"`
	StaleSources *int `json:"stale_sources,omitempty"`
}

// Revocation is what the revocation checks saw of a CA's CRLs and OCSP responders; a source
// appears once a certificate the CA issued was checked on this replica.
type Revocation struct {
	CRLs []CRLState  `json:"crls"`
	OCSP []OCSPState `json:"ocsp"`
}

// CRLState is one CRL of a CA.
type CRLState struct {
	Source string `json:"source"`
	// LastFetch is the last download attempt, LastSuccess the last CRL that verified,
	// NextUpdate its nextUpdate.
	LastFetch   *time.Time `json:"last_fetch,omitempty"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
	NextUpdate  *time.Time `json:"next_update,omitempty"`
	// Stale: the last download failed or the CRL is past its nextUpdate.
	Stale     bool   `json:"stale"`
	LastError string `json:"last_error,omitempty"`
}

// OCSPState is one OCSP responder of a CA.
type OCSPState struct {
	Responder   string     `json:"responder"`
	LastSuccess *time.Time `json:"last_success,omitempty"`
	LastFailure *time.Time `json:"last_failure,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
}

// Certificate is a certificate summary: never the certificate itself.
type Certificate struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SHA256    string    `json:"sha256"`
	// Expired is set by the console from NotAfter.
	Expired bool `json:"expired"`
}

// Client is a relying party and its policy.
type Client struct {
	ID           string   `json:"id"`
	Name         string   `json:"name,omitempty"`
	Public       bool     `json:"public"`
	Grants       []string `json:"grants"`
	Scopes       []string `json:"scopes"`
	RedirectURIs []string `json:"redirect_uris"`
	// MinLevel is the minimum acr the client accepts ("" when none).
	MinLevel string `json:"min_level,omitempty"`
	// Exchange lists the audiences the client may exchange tokens for.
	Exchange []string         `json:"exchange,omitempty"`
	Enabled  bool             `json:"enabled"`
	Switch   *switches.Switch `json:"switch,omitempty"`
}

// Key is a signing key's public summary.
type Key struct {
	KID   string `json:"kid"`
	Alg   string `json:"alg"`
	Use   string `json:"use,omitempty"`
	State string `json:"state"` // active, next or retired
	// Created is when the key was made (zero when unknown); AgeSeconds is filled by the console.
	Created    *time.Time `json:"created,omitempty"`
	AgeSeconds *int64     `json:"age_seconds,omitempty"`
}

// Sources is what the broker and cmd/sportello show: the configured upstreams, clients and
// keys with their live state.
type Sources interface {
	Providers(ctx context.Context) ([]Provider, error)
	Clients(ctx context.Context) ([]Client, error)
	Keys(ctx context.Context) ([]Key, error)
}

// AuditQuery selects audit records; empty fields select everything.
type AuditQuery struct {
	Person, Client, Type string
	Since, Until         time.Time
	// Limit bounds the answer (the newest records first).
	Limit int
}

// AuditRecord is one record of the trail.
type AuditRecord struct {
	Seq    uint64         `json:"seq"`
	Time   time.Time      `json:"time"`
	Type   string         `json:"type"`
	Actor  string         `json:"actor,omitempty"`
	Fields map[string]any `json:"fields,omitempty"`
}

// AuditChain is the result of verifying the trail's hash chain.
type AuditChain struct {
	Verified          bool   `json:"verified"`
	Records           int    `json:"records"`
	LastSeq           uint64 `json:"last_seq"`
	SignaturesChecked bool   `json:"signatures_checked"`
	// Problem names the first bad record when Verified is false.
	Problem string `json:"problem,omitempty"`
}

// AuditLog searches and verifies the audit trail.
type AuditLog interface {
	Search(ctx context.Context, q AuditQuery) ([]AuditRecord, error)
	Verify(ctx context.Context) (AuditChain, error)
}

// Actions are the console's operations. A nil func answers 501: that broker has no such
// operation.
type Actions struct {
	// RefreshMetadata reloads a provider's (or one IdP's) metadata now.
	RefreshMetadata func(ctx context.Context, provider string) error
	// RotateKeys makes the next signing key active and publishes a new next key.
	RotateKeys func(ctx context.Context) error
	// UnlockPIN lifts a PIN lockout of the person with this fiscal code; operator (the
	// subject of the console token) is the actor of the PIN service's own audit record.
	UnlockPIN func(ctx context.Context, operator, fiscalCode string) error
	// RevokePerson ends the person's sessions and revokes their refresh tokens; it returns
	// how many it revoked.
	RevokePerson func(ctx context.Context, fiscalCode string) (int, error)
}

// Replicas lists the replicas seen recently (heartbeat.List over the Store).
type Replicas func(ctx context.Context) ([]heartbeat.Replica, error)
