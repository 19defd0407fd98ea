package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SPID levels of assurance, as the acr claim carries them. They are the token contract's acr
// values, copied here on purpose (the broker names them in its own level package): this
// module depends on nothing of sportello's, so a service takes it without the broker.
const (
	SpidL1 = "https://www.spid.gov.it/SpidL1"
	SpidL2 = "https://www.spid.gov.it/SpidL2"
	SpidL3 = "https://www.spid.gov.it/SpidL3"
)

// Assurance is how strongly the person who logged in proved who they are. For a delegated
// token it describes the delegate's own login.
type Assurance struct {
	// ACR is the level reached (SpidL1..SpidL3); empty for a service's own token.
	ACR string
	// Level is 1, 2 or 3 (0 when the token carries no acr).
	Level int
	// AMR lists RFC 8176 method references (pwd, mfa, sc, pin, hwk...).
	AMR []string
	// Method is spid, cie, cns or pin.
	Method string
	// SPIDIdP is the SPID identity provider's entityID, for SPID logins.
	SPIDIdP string
	// SPIDOP and CIEOP are the OpenID Provider's entity id of a SPID or CIE login over OpenID
	// Connect Federation (empty otherwise).
	SPIDOP, CIEOP string
	// PINType is ordinario or dispositivo, for PIN logins.
	PINType string
	// AuthTime is when the person authenticated (zero when unknown).
	AuthTime time.Time
}

// Actor is one entry of an act chain (RFC 8693 §4.1): a delegate acting for the citizen, or
// a service acting through token exchange.
type Actor struct {
	// Sub is the actor's subject: a person's pairwise-stable sub, or a client id.
	Sub string
	// FiscalNumber is the delegate's codice fiscale (empty for services).
	FiscalNumber string
	// ClientID is set when the actor is a service client.
	ClientID string
	// Delegation is set when the actor is a delegate acting under a delegation.
	Delegation *DelegationInfo
}

// DelegationInfo identifies the delegation under which a delegate acts.
type DelegationInfo struct {
	ID   string
	Type string
	// ExpiresAt is the delegation's end; zero means no end.
	ExpiresAt time.Time
}

// Delegation says that a delegate acts for the citizen named by the token's subject.
type Delegation struct {
	// Actor is the delegate.
	Actor Actor
	ID    string
	// Type is the delegation's kind (online, office_aa08, office_aa09, legal_aa10).
	Type string
	// ExpiresAt is the delegation's end; zero means no end.
	ExpiresAt time.Time
}

// Token is a verified access token.
type Token struct {
	// Subject is the citizen's sub (the delegator's, for a delegated token) or the client id
	// of a service's own token.
	Subject string
	// FiscalNumber is the citizen's codice fiscale, when the fiscal_number scope was granted.
	FiscalNumber string
	ClientID     string
	Audience     []string
	ID           string
	IssuedAt     time.Time
	ExpiresAt    time.Time
	Assurance    Assurance
	// Delegation is nil unless a delegate acts for the subject (anywhere in the act chain).
	Delegation   *Delegation
	Scopes       []string
	Entitlements []string
	// JKT is the thumbprint of the key a DPoP-bound token is bound to (cnf.jkt, RFC 9449
	// §6.1); empty for a bearer token.
	JKT string
	// X5TS256 is the thumbprint of the TLS client certificate a certificate-bound token is
	// bound to (cnf.x5t#S256, RFC 8705 §3.1); empty for a bearer token.
	X5TS256 string
	// Claims are all the claims, as decoded JSON (numbers as json.Number).
	Claims map[string]any

	chain []Actor
}

// ActorChain lists the actors, the current one first: for a delegated token exchanged by a
// service, the service, then the delegate. Empty when the subject acts for themselves.
func (t *Token) ActorChain() []Actor { return slices.Clone(t.chain) }

// HasScope reports whether the token grants scope.
func (t *Token) HasScope(scope string) bool { return slices.Contains(t.Scopes, scope) }

// HasEntitlement reports whether the official holds the authorisation e.
func (t *Token) HasEntitlement(e string) bool { return slices.Contains(t.Entitlements, e) }

// Delegated reports whether someone acts for the subject.
func (t *Token) Delegated() bool { return t.Delegation != nil }

// levelOf maps an acr to 1..3 (0 for anything else).
func levelOf(acr string) int {
	switch acr {
	case SpidL1:
		return 1
	case SpidL2:
		return 2
	case SpidL3:
		return 3
	}
	return 0
}

func str(c map[string]any, k string) string {
	s, _ := c[k].(string)
	return s
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// timeOf reads a NumericDate (seconds) or an RFC 3339 string.
func timeOf(v any) (time.Time, bool) {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			sec := int64(f)
			return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
		}
	case float64:
		return time.Unix(int64(x), 0).UTC(), true
	case string:
		if t, err := time.Parse(time.RFC3339, x); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// b64url is the base64url alphabet.
const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// errCnf refuses a cnf claim that is not an object or whose jkt or x5t#S256 is not a
// thumbprint.
var errCnf = fmt.Errorf("%w: malformed cnf", ErrMalformed)

// maxActDepth bounds the act chain a token may carry.
const maxActDepth = 8

// fill builds the typed view of the claims.
func (t *Token) fill(c map[string]any) error {
	t.Claims = c
	t.Subject = str(c, "sub")
	t.FiscalNumber = str(c, "fiscal_number")
	t.ClientID = str(c, "client_id")
	t.ID = str(c, "jti")
	t.Audience = strs(c["aud"])
	t.IssuedAt, _ = timeOf(c["iat"])
	t.ExpiresAt, _ = timeOf(c["exp"])
	t.Scopes = strings.Fields(str(c, "scope"))
	t.Entitlements = strs(c["entitlements"])
	if cnf, ok := c["cnf"]; ok {
		m, ok := cnf.(map[string]any)
		if !ok {
			return errCnf
		}
		if jkt, ok := m["jkt"]; ok {
			if t.JKT, _ = jkt.(string); t.JKT == "" {
				return errCnf
			}
		}
		if x5t, ok := m["x5t#S256"]; ok {
			// A SHA-256 thumbprint: 43 base64url characters.
			if t.X5TS256, _ = x5t.(string); len(t.X5TS256) != 43 || strings.Trim(t.X5TS256, b64url) != "" {
				return errCnf
			}
		}
	}
	a := &t.Assurance
	a.ACR = str(c, "acr")
	a.Level = levelOf(a.ACR)
	a.AMR = strs(c["amr"])
	a.Method = str(c, "auth_method")
	a.SPIDIdP = str(c, "spid_idp")
	a.SPIDOP, a.CIEOP = str(c, "spid_op"), str(c, "cie_op")
	a.PINType = str(c, "pin_type")
	a.AuthTime, _ = timeOf(c["auth_time"])
	act, _ := c["act"].(map[string]any)
	for depth := 0; act != nil && depth < maxActDepth; depth++ {
		actor := Actor{Sub: str(act, "sub"), FiscalNumber: str(act, "fiscal_number"), ClientID: str(act, "client_id")}
		if d, ok := act["delegation"].(map[string]any); ok {
			info := &DelegationInfo{ID: str(d, "id"), Type: str(d, "type")}
			info.ExpiresAt, _ = timeOf(d["expires_at"])
			actor.Delegation = info
			if t.Delegation == nil {
				t.Delegation = &Delegation{Actor: actor, ID: info.ID, Type: info.Type, ExpiresAt: info.ExpiresAt}
			}
		}
		t.chain = append(t.chain, actor)
		act, _ = act["act"].(map[string]any)
	}
	if act != nil {
		return errActDepth
	}
	return nil
}
