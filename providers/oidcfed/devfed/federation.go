package devfed

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/providers/oidcfed"
	"github.com/inps/sportello/providers/spid/devidp"
)

// Route is where the dev federation is mounted.
const Route = "/dev/oidcfed/"

// Trust mark types the dev trust anchor issues.
const (
	MarkOP = "/openid_provider/public"
	MarkRP = "/openid_relying_party/public"
)

// Federation is the dev trust anchor, intermediate and OPs.
type Federation struct {
	TA, Intermediate *Entity
	OPs              []*OP
}

// Options are the dev federation's settings.
type Options struct {
	// Client is what the OPs fetch the relying parties' statements with (default: 10 s).
	Client *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Bits is the RSA key size (default 2048).
	Bits int
}

// rpPolicy is the trust anchor's policy for relying parties, as the SPID/CIE federation
// rules state it.
var rpPolicy = oidcfed.Policy{oidcfed.EntityRP: {
	"client_registration_types":  {"subset_of": []any{"automatic"}, "essential": true},
	"grant_types":                {"subset_of": []any{"authorization_code", "refresh_token"}, "superset_of": []any{"authorization_code"}},
	"token_endpoint_auth_method": {"one_of": []any{"private_key_jwt"}, "essential": true},
	"response_types":             {"value": []any{"code"}},
	"redirect_uris":              {"essential": true},
	"jwks":                       {"essential": true},
}}

// opPolicy is its policy for OpenID Providers.
var opPolicy = oidcfed.Policy{oidcfed.EntityOP: {
	"code_challenge_methods_supported":      {"subset_of": []any{"S256"}, "essential": true},
	"token_endpoint_auth_methods_supported": {"subset_of": []any{"private_key_jwt"}, "essential": true},
	"client_registration_types_supported":   {"subset_of": []any{"automatic"}},
}}

// New builds the dev federation of a broker at issuer: entity identifiers under
// issuer/dev/oidcfed/, the SPID OP below the intermediate, the CIE OP below the anchor.
func New(issuer string, o Options) (*Federation, error) {
	base := strings.TrimRight(issuer, "/") + strings.TrimRight(Route, "/")
	bits := o.Bits
	if bits == 0 {
		bits = 2048
	}
	taKey, err := Key(bits)
	if err != nil {
		return nil, err
	}
	midKey, err := Key(bits)
	if err != nil {
		return nil, err
	}
	ta := &Entity{ID: base + "/ta", Key: taKey, Now: o.Now,
		Metadata:         map[string]map[string]any{oidcfed.EntityFederated: {"organization_name": "Trust anchor (dev)"}},
		TrustMarkIssuers: map[string][]string{base + "/ta" + MarkOP: {base + "/ta"}, base + "/ta" + MarkRP: {base + "/ta"}}}
	mid := &Entity{ID: base + "/intermediate", Key: midKey, Now: o.Now, AuthorityHints: []string{ta.ID},
		Metadata: map[string]map[string]any{oidcfed.EntityFederated: {"organization_name": "Intermediate (dev)"}}}
	ta.Add(mid.ID, Subordinate{JWKS: Public(mid.Key), Policy: merge(rpPolicy, opPolicy)})
	f := &Federation{TA: ta, Intermediate: mid}
	users := map[string]devidp.User{}
	for _, u := range devidp.DefaultUsers() {
		users[u.FiscalCode] = u
	}
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	for _, spec := range []struct{ name, display, profile string }{
		{"spid-op", "SPID OIDC (dev)", oidcfed.ProfileSPID}, {"cie-op", "CIE OIDC (dev)", oidcfed.ProfileCIE},
	} {
		fedKey, err := Key(bits)
		if err != nil {
			return nil, err
		}
		core, err := Key(bits)
		if err != nil {
			return nil, err
		}
		op := &OP{Name: spec.display, Profile: spec.profile, Core: core, users: users, now: now,
			pending: map[string]*authRequest{}, codes: map[string]*grant{}, tokens: map[string]*grant{},
			resolver: &oidcfed.Resolver{Anchors: []oidcfed.Anchor{{EntityID: ta.ID, JWKS: Public(ta.Key)}}, Client: client, Now: o.Now}}
		superior := mid
		if spec.profile == oidcfed.ProfileCIE {
			superior = ta
		}
		op.Entity = &Entity{ID: base + "/" + spec.name, Key: fedKey, Now: o.Now, AuthorityHints: []string{superior.ID}}
		op.Entity.Metadata = map[string]map[string]any{oidcfed.EntityOP: op.metadata(),
			oidcfed.EntityFederated: {"organization_name": spec.display}}
		tm, err := ta.TrustMark(ta.ID+MarkOP, op.Entity.ID)
		if err != nil {
			return nil, err
		}
		op.Entity.TrustMarks = []oidcfed.TrustMarkRef{{ID: ta.ID + MarkOP, TrustMark: tm}}
		sub := Subordinate{JWKS: Public(op.Entity.Key)}
		if superior == ta {
			sub.Policy = opPolicy
		}
		superior.Add(op.Entity.ID, sub)
		f.OPs = append(f.OPs, op)
	}
	return f, nil
}

func merge(ps ...oidcfed.Policy) oidcfed.Policy {
	out := oidcfed.Policy{}
	for _, p := range ps {
		for k, v := range p {
			out[k] = v
		}
	}
	return out
}

// Anchor is the trust anchor as a relying party configures it.
func (f *Federation) Anchor() oidcfed.Anchor {
	return oidcfed.Anchor{EntityID: f.TA.ID, JWKS: Public(f.TA.Key)}
}

// Enroll registers a relying party directly below the trust anchor, with the anchor's RP
// policy, and returns the anchor's trust mark for it.
func (f *Federation) Enroll(entityID string, jwks *jose.JSONWebKeySet) (string, error) {
	f.TA.Add(entityID, Subordinate{JWKS: jwks, Policy: rpPolicy})
	return f.TA.TrustMark(f.TA.ID+MarkRP, entityID)
}

// Listed is one dev OP in the JSON list of GET /dev/oidcfed/.
type Listed struct {
	Name     string `json:"name"`
	EntityID string `json:"entity_id"`
	Profile  string `json:"profile"`
}

// List is the dev OPs.
func (f *Federation) List() []Listed {
	var out []Listed
	for _, op := range f.OPs {
		out = append(out, Listed{Name: op.Name, EntityID: op.Entity.ID, Profile: op.Profile})
	}
	return out
}

// Handler serves the dev federation; mount it at Route.
func (f *Federation) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == Route {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(f.List())
			return
		}
		for _, e := range []*Entity{f.TA, f.Intermediate} {
			if e.ServeFederation(w, r) {
				return
			}
		}
		for _, op := range f.OPs {
			if strings.HasPrefix(r.URL.Path, op.Entity.path()+"/") {
				op.ServeHTTP(w, r)
				return
			}
		}
		http.NotFound(w, r)
	})
}

// RPConfig is the configuration of a broker federated below this dev trust anchor: the anchor
// configured with its keys, both dev OPs offered (each with the anchor's trust mark), every
// SPID level allowed, keys generated in keysDir.
func (f *Federation) RPConfig(keysDir string) *oidcfed.Config {
	c := &oidcfed.Config{AuthorityHints: []string{f.TA.ID}, KeysDir: keysDir, MinLevel: 1,
		OrganizationName: "sportello (dev)", Contacts: []string{"dev@sportello.invalid"}}
	for _, op := range f.OPs {
		c.OpenIDProviders = append(c.OpenIDProviders, oidcfed.OPConfig{EntityID: op.Entity.ID, Profile: op.Profile,
			TrustMarks: []string{f.TA.ID + MarkOP}})
	}
	c.ApplyDefaults()
	a := f.Anchor()
	c.WithAnchor(a.EntityID, a.JWKS)
	c.WithKeys(&oidcfed.FileKeySource{Dir: keysDir, Generate: true, Bits: 2048})
	return c
}
