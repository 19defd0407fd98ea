package saml

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml/samlx"
)

// Request is what the Store keeps between AuthnRequest and Response, under
// "<profile>:req:<RelayState>". The RelayState itself is an opaque random token.
type Request struct {
	LoginID      string    `json:"login_id"`
	RequestID    string    `json:"request_id"`
	IdP          string    `json:"idp"`
	IssueInstant time.Time `json:"issue_instant"`
	Level        int       `json:"level"`
	Comparison   string    `json:"comparison"`
}

// AuthnRequest is one login to send to an identity provider.
type AuthnRequest struct {
	// LoginID is the broker's pending login, handed back with the Request record.
	LoginID string
	IdP     *IdP
	// Level (1-based, Profile.LevelURIs) and Comparison (one of Profile.Comparisons) are
	// what the RequestedAuthnContext asks.
	Level      int
	Comparison string
	// ForceAuthn is the login's own demand; the profile may force authentication anyway.
	ForceAuthn bool
	// AttributeService, when set, is the AttributeConsumingServiceIndex to ask (one of
	// Config.AttributeServices: eIDAS asks its minimum or its extended data set per login);
	// nil asks Config.AttributeServiceIndex.
	AttributeService *int
	// Params are further parameters sent beside SAMLRequest and RelayState (query
	// parameters on HTTP-Redirect, form fields on HTTP-POST) for the IdP's own use, outside
	// the signature (SAML Bindings §3.4.4.1 signs SAMLRequest, RelayState and SigAlg only; on
	// POST the signature is the document's): a hint, never something the IdP may trust. For
	// eIDAS: country, the person's country, as the eIDAS-Node's Connector takes it beside the
	// SAMLRequest. Names of the binding's own parameters are refused.
	Params map[string]string
}

// Sent describes an AuthnRequest that went out.
type Sent struct {
	ID           string
	IssueInstant time.Time
	// Binding is the one used: samlx.BindingRedirect or samlx.BindingPOST.
	Binding string
}

// buildAuthnRequest renders the AuthnRequest (no AllowCreate, no IsPassive,
// AssertionConsumerServiceIndex 0, the configured AttributeConsumingServiceIndex, an Issuer
// of the entity format with its NameQualifier). sign adds the enveloped XML signature
// (HTTP-POST binding).
func (s *SP) buildAuthnRequest(id string, now time.Time, dest string, ar *AuthnRequest, sign bool) ([]byte, error) {
	doc := etree.NewDocument()
	el := doc.CreateElement("samlp:AuthnRequest")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", id)
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(now))
	el.CreateAttr("Destination", dest)
	if s.prof.forceAuthn(ar.Level, ar.ForceAuthn) {
		el.CreateAttr("ForceAuthn", "true")
	}
	el.CreateAttr("AssertionConsumerServiceIndex", "0")
	acs := s.cfg.AttributeServiceIndex
	if ar.AttributeService != nil {
		acs = *ar.AttributeService
	}
	el.CreateAttr("AttributeConsumingServiceIndex", strconv.Itoa(acs))
	s.issuer(el)
	el.CreateElement("samlp:NameIDPolicy").CreateAttr("Format", samlx.NameIDTransient)
	rac := el.CreateElement("samlp:RequestedAuthnContext")
	rac.CreateAttr("Comparison", ar.Comparison)
	rac.CreateElement("saml:AuthnContextClassRef").SetText(s.prof.LevelURI(ar.Level))
	if sign {
		if err := samlx.SignEnveloped(el, s.cfg.Keys); err != nil {
			return nil, fmt.Errorf("authn request: %w", err)
		}
	}
	return doc.WriteToBytes()
}

// issuer appends the SP's Issuer: entity format, NameQualifier = entityID.
func (s *SP) issuer(el *etree.Element) {
	iss := el.CreateElement("saml:Issuer")
	iss.CreateAttr("Format", samlx.NameIDEntity)
	iss.CreateAttr("NameQualifier", s.cfg.EntityID)
	iss.SetText(s.cfg.EntityID)
}

// SendAuthnRequest sends the browser to the IdP with a signed AuthnRequest on the IdP's
// configured binding: a signed query on HTTP-Redirect, a signed document in an
// auto-submitting form on HTTP-POST. The request is recorded in the Store (RequestTTL) under a
// fresh RelayState before anything is written, and audited whole.
func (s *SP) SendAuthnRequest(w http.ResponseWriter, r *http.Request, ar AuthnRequest) (*Sent, error) {
	ctx := r.Context()
	if ar.IdP == nil {
		return nil, s.errorf("no identity provider")
	}
	if s.prof.LevelURI(ar.Level) == "" || !slices.Contains(s.prof.Comparisons, ar.Comparison) {
		return nil, s.errorf("level %d with comparison %q is not a request of this profile", ar.Level, ar.Comparison)
	}
	if ar.AttributeService != nil && !slices.ContainsFunc(s.cfg.AttributeServices, func(as AttributeService) bool {
		return as.Index == *ar.AttributeService
	}) {
		return nil, s.errorf("no attribute consuming service with index %d", *ar.AttributeService)
	}
	for name := range ar.Params {
		switch name {
		case "", "SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature":
			return nil, s.errorf("parameter %q cannot go beside the AuthnRequest", name)
		}
	}
	id, err := samlx.NewID(s.deps.Rand)
	if err != nil {
		return nil, err
	}
	relayState, err := s.randomToken()
	if err != nil {
		return nil, err
	}
	now := s.deps.Now().UTC()
	dest := ar.IdP.SSO[ar.IdP.Binding]
	post := ar.IdP.Binding == samlx.BindingPOST
	xml, err := s.buildAuthnRequest(id, now, dest, &ar, post)
	if err != nil {
		return nil, err
	}
	rec, err := json.Marshal(Request{LoginID: ar.LoginID, RequestID: id, IdP: ar.IdP.EntityID,
		IssueInstant: now, Level: ar.Level, Comparison: ar.Comparison})
	if err != nil {
		return nil, s.errorf("%w", err)
	}
	if err := s.deps.Store.Put(ctx, s.storeKey("req", relayState), rec, s.cfg.RequestTTL); err != nil {
		return nil, s.errorf("store request: %w: %w", providers.ErrUnavailable, err)
	}
	s.audit(ctx, "authn_request", "", map[string]any{
		"login_id": ar.LoginID, "request_id": id, "idp": ar.IdP.EntityID, "level": s.prof.LevelURI(ar.Level),
		"comparison": ar.Comparison, "binding": ar.IdP.Binding, "issue_instant": samlx.FormatTime(now), "xml": string(xml),
	})
	sent := &Sent{ID: id, IssueInstant: now, Binding: ar.IdP.Binding}
	if post {
		fields := map[string]string{
			"SAMLRequest": base64.StdEncoding.EncodeToString(xml),
			"RelayState":  relayState,
		}
		maps.Copy(fields, ar.Params)
		return sent, s.deps.PostForm(w, r, dest, fields)
	}
	u, err := samlx.RedirectURL(dest, "SAMLRequest", xml, relayState, s.cfg.Keys)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(ar.Params)) {
		u += "&" + url.QueryEscape(name) + "=" + url.QueryEscape(ar.Params[name])
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
	return sent, nil
}

// randomToken returns 32 random bytes, base64url without padding: URL-safe and opaque.
func (s *SP) randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.deps.Rand, b); err != nil {
		return "", s.errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// PeekRequest reads the request record of relayState without using it up: the response is
// validated against it first, and only a response that validates consumes it (Consume). So a
// garbage POST carrying someone else's RelayState leaves their login as it was. A store
// outage is providers.ErrUnavailable, never ErrLoginExpired: it says nothing about the request.
func (s *SP) PeekRequest(ctx context.Context, relayState string) (*Request, error) {
	if relayState == "" || len(relayState) > 128 {
		return nil, s.errorf("missing or malformed RelayState: %w", providers.ErrLoginExpired)
	}
	b, err := s.deps.Store.Get(ctx, s.storeKey("req", relayState))
	if store.IsOutage(err) {
		// The store failing says nothing about the request: "temporarily unavailable", never
		// "does not match a sign-in in progress".
		return nil, s.errorf("read request: %w: %w", providers.ErrUnavailable, err)
	}
	if err != nil {
		return nil, s.errorf("unknown, expired or replayed request: %w: %w", providers.ErrLoginExpired, err)
	}
	var rec Request
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, s.errorf("request record: %w", err)
	}
	return &rec, nil
}

// takeRequest uses up the request record of relayState (single use, atomic): of two
// deliveries of a valid response, one wins.
func (s *SP) takeRequest(ctx context.Context, relayState string) error {
	_, err := s.deps.Store.Take(ctx, s.storeKey("req", relayState))
	switch {
	case errors.Is(err, store.ErrNotFound):
		return s.errorf("request already answered: %w", providers.ErrLoginExpired)
	case err != nil:
		return s.errorf("take request: %w: %w", providers.ErrUnavailable, err)
	}
	return nil
}
