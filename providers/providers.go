package providers

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"time"

	"github.com/inps/sportello/internal/loa"
)

// Authentication methods, as they appear in the auth_method claim.
const (
	MethodSPID = "spid"
	MethodCIE  = "cie"
	MethodCNS  = "cns"
	MethodPIN  = "pin"
	// MethodEIDAS is a citizen of another EU country with their own country's eID, through
	// the Italian eIDAS node (FICEP).
	MethodEIDAS = "eidas"
)

// Identity is what a credential proved about a person. Every provider returns one; the broker
// turns it into the subject and claims of the tokens.
type Identity struct {
	// FiscalNumber is the codice fiscale, upper case, without any TINIT- prefix, check letter
	// already validated by the provider. Empty only for a foreign eIDAS identity that no INPS
	// record links to one (then PersonIdentifier names the person).
	FiscalNumber string `json:"fiscal_number"`
	// PersonIdentifier is the eIDAS PersonIdentifier ("DE/IT/0123456789ABCDEF": the issuing
	// country, the receiving country, the identifier), for eIDAS logins. When FiscalNumber is
	// empty it is the basis of the sub, hashed apart from every fiscal-code subject (the
	// broker's subject derivation, "sportello/sub/eidas/v1:"); with a fiscal number (a linked
	// INPS record) the sub is the fiscal number's, as for every other credential.
	PersonIdentifier string `json:"person_identifier,omitempty"`
	GivenName        string `json:"given_name,omitempty"`
	FamilyName       string `json:"family_name,omitempty"`
	// Birthdate is an ISO 8601 date (YYYY-MM-DD) when known.
	Birthdate   string `json:"birthdate,omitempty"`
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phone_number,omitempty"`

	// Method is one of the Method constants.
	Method string `json:"auth_method"`
	// ACR is the level actually reached (SpidL1..SpidL3).
	ACR string `json:"acr"`
	// AMR lists RFC 8176 authentication method references.
	AMR []string `json:"amr"`
	// AuthTime is when the person authenticated.
	AuthTime time.Time `json:"auth_time"`

	// SPIDIdP is the entityID of the SPID identity provider, for SPID logins.
	SPIDIdP string `json:"spid_idp,omitempty"`
	// CIEChannel says how a CIE login used the card (the cie_channel claim): "certificate"
	// (the card's certificate over mutual TLS), "cieid" (the Ministry of the Interior's CIE
	// ID server, "Entra con CIE") or "oidcfed" (the CIE OP over OpenID Connect Federation). The person is the same either way, and so is the sub.
	CIEChannel string `json:"cie_channel,omitempty"`
	// EIDASCountry is the ISO 3166-1 alpha-2 country of the eID used, for eIDAS logins (the
	// eidas_country claim).
	EIDASCountry string `json:"eidas_country,omitempty"`
	// SPIDOP and CIEOP are the OpenID Provider's entity id of a SPID or a CIE login over
	// OpenID Connect Federation (a SPID OP's is in SPIDIdP too): set on those logins only, so a
	// relying party tells them from SAML and from the card.
	SPIDOP string `json:"spid_op,omitempty"`
	CIEOP  string `json:"cie_op,omitempty"`
	// CertAuthorities are the certification authorities of a certificate login (CIE, CNS):
	// the lower-case hexadecimal SHA-256 of each CA certificate on the verified chain, the
	// card's issuer first, the trust anchor last — the ids of the console's CA entries, whose
	// switches the broker checks when the identity comes back. Never a claim.
	CertAuthorities []string `json:"cert_authorities,omitempty"`
	// PINType is "ordinario" or "dispositivo", for PIN logins.
	PINType string `json:"pin_type,omitempty"`
	// Entitlements are an official's authorisations.
	Entitlements []string `json:"entitlements,omitempty"`

	// Session carries what the provider needs later to end the upstream session (for SAML:
	// NameID, NameQualifier, SessionIndex). Opaque to the broker.
	Session map[string]string `json:"session,omitempty"`
	// Attributes holds further provider attributes (SPID attribute names) for auditing and for
	// claims a later issue may expose.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Validate reports whether the identity carries the fields every token needs.
func (id *Identity) Validate() error {
	switch {
	case id == nil:
		return errors.New("identity: nil")
	case id.FiscalNumber == "" && id.PersonIdentifier == "":
		return errors.New("identity: missing fiscal number")
	case loa.LevelOf(id.ACR) == 0:
		return errors.New("identity: missing or unknown acr")
	case id.Method == "":
		return errors.New("identity: missing method")
	case id.AuthTime.IsZero():
		return errors.New("identity: missing auth time")
	}
	return nil
}

// Info describes a provider to the login page.
type Info struct {
	// ID is the provider's key in the configuration and in URLs (/login/<id>/...).
	ID string
	// Method is one of the Method constants.
	Method string
	// Entry names the provider's chooser entry when it is not its Method's: the catalogue keys
	// of its heading, button and line (chooser.name.<Entry>, chooser.button.<Entry>,
	// chooser.who.<Entry>) and the button's style. CIE ID is Method cie, Entry cieid, beside
	// the card's certificate (Method and entry cie). Empty: Method.
	Entry string
	// MaxACR is the highest level this provider can reach; the chooser hides providers that
	// cannot satisfy the level asked.
	MaxACR string
	// Name and Description are keyed by language tag ("it", "en").
	Name        map[string]string
	Description map[string]string
}

// Provider is the contract every credential implements.
type Provider interface {
	Info() Info
}

// Option is one choice inside a provider (for SPID: one identity provider), listed by the
// chooser and selectable with the idp= hint of /authorize.
type Option struct {
	// Hint is the value of idp= that selects it (for SPID: the IdP entityID).
	Hint string
	// Alias, when set, selects it on idp= as well (for SPID: the IdP's configured short
	// name); the provider is still given Hint.
	Alias   string
	Name    string
	LogoURL string
	// Entry, when set, lists the option in a chooser entry of that kind apart from the
	// provider's (its catalogue keys and style, as Info.Entry): the federation's SPID OPs in a
	// spid entry, its CIE OP in a cieid one. An entry with one option is its button.
	Entry string
}

// OptionLister is implemented by providers with several choices (SPID lists its IdPs).
type OptionLister interface {
	Options() []Option
}

// Hinter is a provider that takes login hints of its own on /authorize beside idp=: for
// eIDAS, eidas_country names the person's country so that the node skips its country choice.
// The broker reads the parameters the provider names (once each: RFC 6749 §3.1), has the
// provider check every value given, refuses the request with invalid_request and the
// provider's reason when one is not valid, and keeps the values with the pending login for
// LoginRequest.Hints, whichever credential the person then picks.
type Hinter interface {
	// HintParams names the /authorize parameters the provider reads; no other provider and
	// no OpenID Connect or OAuth parameter has these names.
	HintParams() []string
	// CheckHint reports why value is not a valid value of the parameter name; the error's
	// text is the error_description the relying party gets.
	CheckHint(name, value string) error
}

// LoginRequest is what the broker tells a provider about the login in progress.
type LoginRequest struct {
	// ID identifies the pending authorisation; providers hand it back to Finisher.
	ID string
	// ACR is the minimum level asked (SpidLx).
	ACR string
	// Comparison is loa.Minimum (the default) or loa.Exact.
	Comparison string
	// ForceAuthn asks the upstream to re-authenticate (prompt=login, max_age, step-up).
	ForceAuthn bool
	// Hint is a provider-specific hint (for SPID: the IdP entityID chosen).
	Hint string
	// Hints are the login hints of the providers' own /authorize parameters (Hinter) that the
	// relying party gave, by parameter name, each already checked by the provider that names
	// it (for eIDAS: eidas_country). A provider reads only its own names.
	Hints map[string]string
	// Lang is the user's language ("it" or "en").
	Lang string
}

// Finisher is implemented by the broker. Providers call it once a login ends.
type Finisher interface {
	// Finish completes the pending login id with a verified identity and writes the response
	// (a redirect back to the relying party, or the delegation question).
	Finish(w http.ResponseWriter, r *http.Request, loginID string, id *Identity)
	// Fail ends the pending login id with an error. The broker maps the error (see the Err*
	// sentinels) to a page for the person and an OAuth error for the relying party.
	Fail(w http.ResponseWriter, r *http.Request, loginID string, err error)
	// LoginRequest returns the pending login, or an error wrapping ErrLoginExpired.
	LoginRequest(ctx context.Context, loginID string) (*LoginRequest, error)
}

// RouteProvider serves its own endpoints (SAML ACS, SLO and metadata; the PIN pages and
// operators' API), mounted by the broker at the path prefixes it reports in Routes.
type RouteProvider interface {
	Provider
	// Handler serves the provider's endpoints; it calls f when a login ends.
	Handler(f Finisher) http.Handler
	// Routes lists the path prefixes Handler serves (for example "/spid/").
	Routes() []string
}

// RedirectProvider is a login that starts by sending the browser elsewhere (the SAML IdP, the
// provider's own form) and ends on one of its routes.
type RedirectProvider interface {
	RouteProvider
	// Start sends the browser to the provider's first step for the pending login.
	Start(w http.ResponseWriter, r *http.Request, req *LoginRequest) error
}

// CertificateAuthenticator verifies a TLS client certificate chain (CIE, CNS). The broker
// owns the mutual-TLS listener and the reverse proxy's certificate header (ParseEscapedPEM);
// the provider validates the chain as presented.
type CertificateAuthenticator interface {
	Provider
	// AuthenticateCertificate validates the chain the client presented (leaf first) and returns
	// the identity. A refused certificate returns an error wrapping ErrCredentialRejected.
	AuthenticateCertificate(ctx context.Context, chain []*x509.Certificate) (*Identity, error)
}

// Refresher loads what a provider fetches from elsewhere (SPID: the IdP metadata). serve
// calls it once the listeners are bound, before the start-up checks.
type Refresher interface {
	Refresh(ctx context.Context) error
}

// Runner does a provider's background work (periodic refreshes) until ctx ends; serve starts
// it once.
type Runner interface {
	Run(ctx context.Context)
}

// Logouter ends an upstream session when the relying party ends the broker session.
type Logouter interface {
	// Logout starts the upstream logout for the identity's session and, when done, redirects
	// the browser to returnTo. Providers with no upstream session do not implement it.
	Logout(w http.ResponseWriter, r *http.Request, id *Identity, returnTo string) error
}
