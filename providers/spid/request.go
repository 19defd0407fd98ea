package spid

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/spid/internal/samlx"
)

// requestRecord is what the Store keeps between AuthnRequest and Response, under
// "spid:req:<RelayState>". The RelayState itself is an opaque random token.
type requestRecord struct {
	LoginID      string    `json:"login_id"`
	RequestID    string    `json:"request_id"`
	IdP          string    `json:"idp"`
	IssueInstant time.Time `json:"issue_instant"`
	Level        int       `json:"level"`
	Comparison   string    `json:"comparison"`
}

const requestKeyPrefix = "spid:req:"

// authnRequest describes one AuthnRequest to build.
type authnRequest struct {
	ID           string
	IssueInstant time.Time
	Destination  string
	Level        int
	Comparison   string
	ForceAuthn   bool
}

// buildAuthnRequest renders the AuthnRequest of the SPID technical rules (no AllowCreate, no
// IsPassive, AssertionConsumerServiceIndex 0, AttributeConsumingServiceIndex from the
// configuration).
// sign adds the enveloped XML signature (HTTP-POST binding).
func (p *Provider) buildAuthnRequest(ar authnRequest, sign bool) ([]byte, error) {
	doc := etree.NewDocument()
	el := doc.CreateElement("samlp:AuthnRequest")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", ar.ID)
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(ar.IssueInstant))
	el.CreateAttr("Destination", ar.Destination)
	if ar.ForceAuthn {
		el.CreateAttr("ForceAuthn", "true")
	}
	el.CreateAttr("AssertionConsumerServiceIndex", "0")
	el.CreateAttr("AttributeConsumingServiceIndex", strconv.Itoa(p.sp.Cfg.acsIndex()))
	iss := el.CreateElement("saml:Issuer")
	iss.CreateAttr("Format", samlx.NameIDEntity)
	iss.CreateAttr("NameQualifier", p.sp.EntityID)
	iss.SetText(p.sp.EntityID)
	el.CreateElement("samlp:NameIDPolicy").CreateAttr("Format", samlx.NameIDTransient)
	rac := el.CreateElement("samlp:RequestedAuthnContext")
	rac.CreateAttr("Comparison", ar.Comparison)
	rac.CreateElement("saml:AuthnContextClassRef").SetText(loa.ACRForLevel(ar.Level))
	if sign {
		if err := samlx.SignEnveloped(el, p.sp.Keys); err != nil {
			return nil, fmt.Errorf("authn request: %w", err)
		}
	}
	return doc.WriteToBytes()
}

// levelFor returns the level and comparison to ask: the higher of the login's ACR and the
// configured minimum.
func (p *Provider) levelFor(req *providers.LoginRequest) (int, string) {
	level := loa.LevelOf(req.ACR)
	if level < p.sp.Cfg.MinLevel {
		level = p.sp.Cfg.MinLevel
	}
	cmp := req.Comparison
	if cmp != loa.Minimum && cmp != loa.Exact {
		cmp = p.sp.Cfg.Comparison
	}
	return level, cmp
}

// Start sends the browser to the IdP named in req.Hint with a signed AuthnRequest. An empty
// or unknown hint returns a UserError (spid.choose_idp, spid.unknown_idp) for the broker to
// render; nothing is written then.
func (p *Provider) Start(w http.ResponseWriter, r *http.Request, req *providers.LoginRequest) error {
	ctx := r.Context()
	if req.Hint == "" {
		return &providers.UserError{Code: "spid.choose_idp", Err: fmt.Errorf("spid: no idp chosen")}
	}
	idp, ok := p.registry.Lookup(ctx, req.Hint)
	if !ok {
		return &providers.UserError{Code: "spid.unknown_idp",
			Err: fmt.Errorf("spid: unknown idp %q: %w", req.Hint, providers.ErrUnavailable)}
	}
	level, cmp := p.levelFor(req)
	id, err := samlx.NewID(p.deps.Rand)
	if err != nil {
		return err
	}
	relayState, err := randomToken(p.deps.Rand)
	if err != nil {
		return err
	}
	now := p.deps.Now().UTC()
	ar := authnRequest{
		ID: id, IssueInstant: now, Destination: idp.SSO[idp.Binding], Level: level,
		Comparison: cmp, ForceAuthn: level >= 2 || req.ForceAuthn,
	}
	post := idp.Binding == samlx.BindingPOST
	xml, err := p.buildAuthnRequest(ar, post)
	if err != nil {
		return err
	}
	rec, err := json.Marshal(requestRecord{LoginID: req.ID, RequestID: id, IdP: idp.EntityID,
		IssueInstant: now, Level: level, Comparison: cmp})
	if err != nil {
		return fmt.Errorf("spid: %w", err)
	}
	if err := p.deps.Store.Put(ctx, requestKeyPrefix+relayState, rec, p.sp.Cfg.RequestTTL); err != nil {
		return fmt.Errorf("spid: store request: %w: %w", providers.ErrUnavailable, err)
	}
	p.audit(ctx, "spid.authn_request", "", map[string]any{
		"login_id": req.ID, "request_id": id, "idp": idp.EntityID, "level": loa.ACRForLevel(level),
		"comparison": cmp, "binding": idp.Binding, "issue_instant": samlx.FormatTime(now), "xml": string(xml),
	})
	p.log.Info("spid: authn request", "login_id", req.ID, "request_id", id, "idp", idp.EntityID, "loa", level)
	if post {
		return p.deps.PostForm(w, r, ar.Destination, map[string]string{
			"SAMLRequest": base64.StdEncoding.EncodeToString(xml),
			"RelayState":  relayState,
		})
	}
	u, err := samlx.RedirectURL(ar.Destination, "SAMLRequest", xml, relayState, p.sp.Keys)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}

// randomToken returns 32 random bytes, base64url without padding: URL-safe and opaque.
func randomToken(r io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("spid: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// peekRequest reads the request record of relayState without using it up: the response is
// validated against it first, and only a response that validates consumes it (takeRequest).
// So a garbage POST carrying someone else's RelayState leaves their login as it was.
func (p *Provider) peekRequest(ctx context.Context, relayState string) (*requestRecord, error) {
	if relayState == "" || len(relayState) > 128 {
		return nil, fmt.Errorf("spid: missing or malformed RelayState: %w", providers.ErrLoginExpired)
	}
	b, err := p.deps.Store.Get(ctx, requestKeyPrefix+relayState)
	if store.IsOutage(err) {
		// The store failing says nothing about the request: "temporarily unavailable", never
		// "does not match a sign-in in progress".
		return nil, fmt.Errorf("spid: read request: %w: %w", providers.ErrUnavailable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("spid: unknown, expired or replayed request: %w: %w", providers.ErrLoginExpired, err)
	}
	var rec requestRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("spid: request record: %w", err)
	}
	return &rec, nil
}

// takeRequest uses up the request record of relayState (single use, atomic): of two
// deliveries of a valid response, one wins.
func (p *Provider) takeRequest(ctx context.Context, relayState string) error {
	_, err := p.deps.Store.Take(ctx, requestKeyPrefix+relayState)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("spid: request already answered: %w", providers.ErrLoginExpired)
	case err != nil:
		return fmt.Errorf("spid: take request: %w: %w", providers.ErrUnavailable, err)
	}
	return nil
}
