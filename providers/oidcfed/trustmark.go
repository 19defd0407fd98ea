package oidcfed

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TypeTrustMark is the JOSE typ of a trust mark.
const TypeTrustMark = "trust-mark+jwt"

// TrustMarkClaims are a trust mark's claims.
type TrustMarkClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"trust_mark_type,omitempty"`
	IssuedAt int64  `json:"iat"`
	Expires  int64  `json:"exp,omitempty"`
}

// TypeID is the trust mark's type identifier.
func (t *TrustMarkClaims) TypeID() string {
	if t.Type != "" {
		return t.Type
	}
	return t.ID
}

// VerifyTrustMark checks raw as a trust mark about sub, signed by a key of issuerKeys, valid
// at now.
func VerifyTrustMark(raw, sub string, issuerKeys func(iss string) *jose.JSONWebKeySet, now time.Time) (*TrustMarkClaims, error) {
	jws, err := jose.ParseSignedCompact(raw, SignatureAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrTrustMark)
	}
	if typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string); typ != TypeTrustMark {
		return nil, fmt.Errorf("%w: typ %q, want %q", ErrTrustMark, typ, TypeTrustMark)
	}
	tm := &TrustMarkClaims{}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), tm); err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrTrustMark, err)
	}
	if tm.Subject != sub || tm.TypeID() == "" || tm.Issuer == "" {
		return nil, fmt.Errorf("%w: about %q (want %q), type %q, issuer %q", ErrTrustMark, tm.Subject, sub, tm.TypeID(), tm.Issuer)
	}
	if tm.Expires != 0 && !time.Unix(tm.Expires, 0).After(now) {
		return nil, fmt.Errorf("%w: %s expired", ErrTrustMark, tm.TypeID())
	}
	keys := issuerKeys(tm.Issuer)
	if keys == nil {
		return nil, fmt.Errorf("%w: %s issued by %s, not a trusted issuer of it", ErrTrustMark, tm.TypeID(), tm.Issuer)
	}
	kid := jws.Signatures[0].Protected.KeyID
	for _, k := range keys.Key(kid) {
		if _, err := jws.Verify(k); err == nil {
			return tm, nil
		}
	}
	return nil, fmt.Errorf("%w: %s does not verify with %s's keys", ErrTrustMark, tm.TypeID(), tm.Issuer)
}

// trustMarks returns the types of the leaf's trust marks that verify: issued by the anchor,
// or by a superior of the chain the anchor lists among the issuers of that type.
func (r *Resolver) trustMarks(leaf *Statement, links []link, top *Statement) []string {
	var ok []string
	for _, ref := range leaf.TrustMarks {
		typ := ref.TypeID()
		keys := func(iss string) *jose.JSONWebKeySet {
			if iss == top.Subject {
				return top.JWKS
			}
			if allowed, listed := top.TrustMarkIssuers[typ]; listed && !slices.Contains(allowed, iss) {
				return nil
			}
			for _, l := range links {
				if l.sup.Subject == iss {
					return l.sup.JWKS
				}
			}
			return nil
		}
		tm, err := VerifyTrustMark(ref.TrustMark, leaf.Subject, keys, r.now())
		if err != nil || (typ != "" && tm.TypeID() != typ) {
			r.log().Warn("federation: trust mark refused", "entity", leaf.Subject, "type", typ, "error", err)
			continue
		}
		ok = append(ok, tm.TypeID())
	}
	return ok
}
