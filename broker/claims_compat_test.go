package broker

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inps/sportello/broker/claims"
	"github.com/inps/sportello/broker/grants"
	"github.com/inps/sportello/internal/loa"
	"github.com/inps/sportello/providers"
)

// The typed claims write the token contract exactly as the map-built claims they replaced:
// the same claim names with the same values, the same omissions, byte for byte. The builders the broker
// used before the switch are kept below as the reference.
func TestTypedClaimsMatchTheMapClaims(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	cl := tb.clientMap()["demo-rp"]
	now := time.Unix(1_760_000_000, 0)
	auth := now.Add(-time.Minute)
	full := &providers.Identity{FiscalNumber: "RSSMRA80A01H501U", GivenName: "Mario", FamilyName: "Rossi",
		Birthdate: "1980-01-01", Email: "m@example.it", PhoneNumber: "+39333", Method: "spid", ACR: loa.SpidL2,
		AMR: []string{"pwd", "mfa"}, AuthTime: auth, SPIDIdP: "https://idp.example"}
	bare := &providers.Identity{FiscalNumber: "FRRGNN55T50Z600A", Method: "pin", ACR: loa.SpidL1, AuthTime: auth,
		PINType: "ordinario", Entitlements: []string{"isee:consultazione"}}
	exp := now.Add(24 * time.Hour)
	choices := []*DelegationChoice{
		{ID: "d1", Type: "generale", ExpiresAt: &exp, DelegatorFiscalNumber: "VRDGPP40C15L219U", DelegatorGivenName: "Giuseppe"},
		{ID: "d2", Type: "specifica", DelegatorFiscalNumber: "VRDGPP40C15L219U"},
	}
	var cases []*grants.Grant
	for _, id := range []*providers.Identity{full, bare, nil} {
		for _, scopes := range []string{"openid", "openid fiscal_number profile email phone offline_access", ""} {
			g := &grants.Grant{ClientID: cl.id, Scopes: strings.Fields(scopes), Subject: "sub-x", Identity: id}
			cases = append(cases, g)
			if id != nil {
				extra := *g
				extra.Nonce, extra.SessionID = "n-1", "sid-1"
				extra.IDTokenClaims = []string{"given_name", "phone_number"}
				cases = append(cases, &extra)
			}
		}
	}
	for _, c := range choices {
		g := &grants.Grant{ClientID: cl.id, Scopes: []string{"openid", "fiscal_number", "profile"}, Subject: "sub-x", Identity: full}
		legacyAct := legacyDelegatedAct(g, c)
		tb.delegatedGrant(g, c)
		legacyActs[g] = legacyAct
		cases = append(cases, g)
	}
	for i, g := range cases {
		act := legacyActs[g]
		for _, family := range []string{"", "fam-1"} {
			want := legacyAccessClaims(tb, cl, g, act, now, now.Add(tb.cfg.Tokens.AccessTTL), "jti-1", family)
			got := tb.accessClaims(cl, g, now, now.Add(tb.cfg.Tokens.AccessTTL), "jti-1", family)
			sameJSON(t, "access token", i, want, got)
			// Introspection answered with the token's claims, active and token_type added.
			want["active"], want["token_type"] = true, "Bearer"
			sameJSON(t, "introspection", i, want, &introspection{Active: true, TokenType: "Bearer", Access: got})
			// Userinfo answered with the token's identity claims.
			ui := map[string]any{}
			for _, k := range []string{"sub", "fiscal_number", "given_name", "family_name", "birthdate", "email", "phone_number",
				"acr", "amr", "auth_method", "spid_idp", "cie_channel", "eidas_country", "pin_type", "entitlements", "act"} {
				if v, ok := want[k]; ok {
					ui[k] = v
				}
			}
			sameJSON(t, "userinfo", i, ui, &claims.UserInfo{Subject: got.Subject, Person: got.Person})
		}
		for _, at := range []string{"", "at-1"} {
			sameJSON(t, "ID token", i, legacyIDClaims(tb, cl, g, act, at, now), tb.idClaims(cl, g, at, now))
		}
	}
}

// legacyActs maps a delegated grant of the test to the act its former builder made.
var legacyActs = map[*grants.Grant]map[string]any{}

func sameJSON(t *testing.T, what string, i int, want map[string]any, got any) {
	t.Helper()
	wb, _ := json.Marshal(want)
	gb, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wb, gb) {
		t.Errorf("%s of case %d, not byte for byte the former payload:\n got %s\nwant %s", what, i, gb, wb)
	}
}

// The builders before the typed claims, verbatim but for the act, which the grant now holds
// typed: act is what delegatedGrant used to put there.

func legacyDelegatedAct(g *grants.Grant, c *DelegationChoice) map[string]any {
	d := map[string]any{"id": c.ID, "type": c.Type}
	if c.ExpiresAt != nil {
		d["expires_at"] = c.ExpiresAt.Unix()
	} else {
		d["expires_at"] = nil
	}
	return map[string]any{"sub": g.Subject, "fiscal_number": g.Identity.FiscalNumber, "delegation": d}
}

func legacyAccessClaims(b *testBroker, cl *Client, g *grants.Grant, act map[string]any, now, exp time.Time, jti, family string) map[string]any {
	claims := identityClaims(g, act, g.Scopes, nil)
	claims["iss"] = b.issuer
	claims["sub"] = g.Subject
	claims["aud"] = []string{b.accessAud}
	claims["client_id"] = cl.id
	claims["iat"] = now.Unix()
	claims["exp"] = exp.Unix()
	claims["jti"] = jti
	claims["scope"] = strings.Join(g.Scopes, " ")
	if g.Identity != nil {
		claims["auth_time"] = g.Identity.AuthTime.Unix()
	}
	if g.SessionID != "" {
		claims["sid"] = g.SessionID
	}
	if family != "" {
		claims["grant_id"] = family
	}
	return claims
}

func legacyIDClaims(b *testBroker, cl *Client, g *grants.Grant, act map[string]any, accessTok string, now time.Time) map[string]any {
	claims := identityClaims(g, act, g.Scopes, g.IDTokenClaims)
	claims["iss"] = b.issuer
	claims["sub"] = g.Subject
	claims["aud"] = []string{cl.id}
	claims["azp"] = cl.id
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(b.cfg.Tokens.IDTTL).Unix()
	if g.Identity != nil {
		claims["auth_time"] = g.Identity.AuthTime.Unix()
	}
	if g.Nonce != "" {
		claims["nonce"] = g.Nonce
	}
	if g.SessionID != "" {
		claims["sid"] = g.SessionID
	}
	if accessTok != "" {
		claims["at_hash"] = atHash(accessTok, cl.alg)
	}
	return claims
}

// identityClaims returns the token-contract claims of a grant for the given scopes.
func identityClaims(g *grants.Grant, act map[string]any, scopes []string, extra []string) map[string]any {
	c := map[string]any{}
	id := g.Identity
	if id == nil {
		return c
	}
	has := func(s string) bool { return slices.Contains(scopes, s) || slices.Contains(extra, s) }
	c["acr"] = id.ACR
	c["amr"] = id.AMR
	c["auth_method"] = id.Method
	if id.SPIDIdP != "" {
		c["spid_idp"] = id.SPIDIdP
	}
	if id.CIEChannel != "" {
		c["cie_channel"] = id.CIEChannel
	}
	if id.EIDASCountry != "" {
		c["eidas_country"] = id.EIDASCountry
	}
	if id.PINType != "" {
		c["pin_type"] = id.PINType
	}
	if len(id.Entitlements) > 0 {
		c["entitlements"] = id.Entitlements
	}
	if has("fiscal_number") {
		c["fiscal_number"] = id.FiscalNumber
	}
	if has("profile") || has("given_name") {
		setIf(c, "given_name", id.GivenName)
	}
	if has("profile") || has("family_name") {
		setIf(c, "family_name", id.FamilyName)
	}
	if has("profile") || has("birthdate") {
		setIf(c, "birthdate", id.Birthdate)
	}
	if has("email") {
		setIf(c, "email", id.Email)
	}
	if has("phone") || has("phone_number") {
		setIf(c, "phone_number", id.PhoneNumber)
	}
	if act != nil {
		c["act"] = act
	}
	return c
}

func setIf(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}
