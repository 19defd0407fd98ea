package x509auth

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"time"

	"github.com/inps/sportello/internal/audit"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// CardDeps are the injected dependencies of a smart-card provider (CIE, CNS).
type CardDeps struct {
	// ID is the provider id in the configuration (default: the card type).
	ID string
	// Auditor records every attempt (required).
	Auditor audit.Auditor
	Logger  *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// HTTPClient fetches CRLs and OCSP responses (default: bounded client).
	HTTPClient *http.Client
	// Rand is the OCSP nonce source (default crypto/rand).
	Rand io.Reader
	// URLRewrite is merged over revocation.url_rewrite (dev mode points the dev PKI URLs at its
	// real --http address).
	URLRewrite map[string]string
	// OnRevocationCheck is told each revocation answer (see Policy.OnRevocationCheck).
	OnRevocationCheck func(source, result string)
}

// Card describes one kind of card for NewCard.
type Card struct {
	// Type is the provider type and default id ("cie", "cns").
	Type string
	// Method is the auth_method (providers.MethodCIE, providers.MethodCNS).
	Method string
	// Policies are the accepted certificate policy OIDs.
	Policies []string
	// Name and Description are shown by the chooser (it, en).
	Name, Description map[string]string
}

// NewCard builds the authenticator of a smart-card provider from its configuration section:
// the validator (trust anchors, policies, revocation) and the identity it returns.
func NewCard(sec *SectionConfig, card Card, deps CardDeps) (*Authenticator, error) {
	if deps.ID == "" {
		deps.ID = card.Type
	}
	pol, err := sec.Policy(card.Policies)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", card.Type, err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	logger := deps.Logger.With("provider", deps.ID)
	if len(deps.URLRewrite) > 0 {
		pol.Revocation.URLRewrite = maps.Clone(pol.Revocation.URLRewrite)
		if pol.Revocation.URLRewrite == nil {
			pol.Revocation.URLRewrite = map[string]string{}
		}
		maps.Copy(pol.Revocation.URLRewrite, deps.URLRewrite)
	}
	pol.Now, pol.HTTPClient, pol.Rand, pol.Logger = deps.Now, deps.HTTPClient, deps.Rand, logger
	pol.OnRevocationCheck = deps.OnRevocationCheck
	v, err := NewValidator(pol)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", card.Type, err)
	}
	acr := sec.ACR
	if acr == "" {
		acr = loa.SpidL3
	}
	auth, err := NewAuthenticator(Authenticator{
		ProviderInfo: providers.Info{ID: deps.ID, Method: card.Method, MaxACR: acr, Name: card.Name, Description: card.Description},
		ACR:          acr,
		Validator:    v,
		Auditor:      deps.Auditor,
		Logger:       logger,
		Now:          deps.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", card.Type, err)
	}
	return auth, nil
}
