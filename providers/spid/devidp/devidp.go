package devidp

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers/saml/samlx"
)

// Options configure one dev IdP.
type Options struct {
	// Name is the path segment: the IdP lives under /dev/spid/<Name>/.
	Name string
	// DisplayName is shown in the metadata and the chooser (default "Dev IdP <Name>").
	DisplayName string
	// BaseURL is the public base URL of the process serving it (the broker's).
	BaseURL string
	// KeyFile and CertFile hold the IdP signing key (default
	// testdata/spid/dev-idp-<Name>.key|.crt, relative to the working directory).
	KeyFile, CertFile string
	// Users are the people who can log in (default DefaultUsers).
	Users []User
	// SPMetadata returns the SP metadata (FetchURL for the broker's /spid/metadata). It is
	// called lazily, on the first request, and again when a signature fails to verify.
	SPMetadata func(ctx context.Context) ([]byte, error)
	Now        func() time.Time
	Rand       io.Reader
	Logger     *slog.Logger
	// UserLabel labels the username field (default "Codice fiscale").
	UserLabel string
	// Countries, when set, are offered in a "country" field before the username, as the eIDAS
	// node asks for the person's country: a username (PersonIdentifier) of another country is
	// refused. The field may be left out (automation skips the choice).
	Countries []string
	// Prefix is the path the IdP lives under, its entityID the base URL plus it (default
	// /dev/spid/<Name>; the dev CIE ID server is /dev/cieid).
	Prefix string
	// Federation names the federation on the login form (default "SPID").
	Federation string
	// ResponseIssuerWithoutFormat leaves Format off the Response's Issuer, as the CIE ID
	// server does.
	ResponseIssuerWithoutFormat bool
	// KeyInfo is what the Response and Assertion signatures carry in KeyInfo: the
	// certificate (the default), or, for tests of the SP, an empty X509Certificate as AgID's
	// validator signs, or no KeyInfo.
	KeyInfo samlx.KeyInfoShape
}

// IdP is one dev SPID identity provider; it is an http.Handler for /dev/spid/<name>/.
type IdP struct {
	opts     Options
	entityID string
	prefix   string
	keys     *samlx.KeyPair
	stateKey []byte
	sp       *spCache
	users    map[string]User
	mux      *http.ServeMux
}

// New builds a dev IdP.
func New(o Options) (*IdP, error) {
	if o.Name == "" || strings.ContainsAny(o.Name, "/?#") {
		return nil, errors.New("devidp: invalid name")
	}
	if o.BaseURL == "" || o.SPMetadata == nil {
		return nil, errors.New("devidp: BaseURL and SPMetadata are required")
	}
	if o.DisplayName == "" {
		o.DisplayName = "Dev IdP " + o.Name
	}
	if o.KeyFile == "" {
		o.KeyFile = "testdata/spid/dev-idp-" + o.Name + ".key"
	}
	if o.CertFile == "" {
		o.CertFile = "testdata/spid/dev-idp-" + o.Name + ".crt"
	}
	if o.Users == nil {
		o.Users = DefaultUsers()
	}
	if o.Prefix == "" {
		o.Prefix = "/dev/spid/" + o.Name
	}
	if o.UserLabel == "" {
		o.UserLabel = "Codice fiscale"
	}
	if o.Federation == "" {
		o.Federation = "SPID"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Logger = o.Logger.With("dev_idp", o.Name)
	kp, err := samlx.LoadKeyPair(o.KeyFile, o.CertFile)
	if err != nil {
		return nil, fmt.Errorf("devidp %s: %w", o.Name, err)
	}
	sk := sha256.Sum256(append([]byte("devidp-state\x00"), kp.Key.D.Bytes()...))
	d := &IdP{
		opts:     o,
		prefix:   strings.TrimRight(o.Prefix, "/"),
		entityID: strings.TrimRight(o.BaseURL, "/") + strings.TrimRight(o.Prefix, "/"),
		keys:     kp,
		stateKey: sk[:],
		sp:       &spCache{fetch: o.SPMetadata},
		users:    map[string]User{},
	}
	for _, u := range o.Users {
		d.users[strings.ToUpper(u.login())] = u
	}
	d.mux = http.NewServeMux()
	d.mux.HandleFunc("GET "+d.prefix+"/metadata", d.serveMetadata)
	d.mux.HandleFunc(d.prefix+"/sso", d.serveSSO)
	d.mux.HandleFunc("POST "+d.prefix+"/login", d.serveLogin)
	d.mux.HandleFunc(d.prefix+"/slo", d.serveSLO)
	return d, nil
}

// Name is the IdP's path name.
func (d *IdP) Name() string { return d.opts.Name }

// EntityID is the base URL plus the prefix: http(s)://<host>/dev/spid/<name>.
func (d *IdP) EntityID() string { return d.entityID }

// MetadataURL is where the IdP metadata is served.
func (d *IdP) MetadataURL() string { return d.entityID + "/metadata" }

// Route is the path prefix to mount the handler at.
func (d *IdP) Route() string { return d.prefix + "/" }

func (d *IdP) ssoURL() string { return d.entityID + "/sso" }
func (d *IdP) sloURL() string { return d.entityID + "/slo" }

// ServeHTTP serves metadata, SSO (both bindings), the login form post and SLO.
func (d *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.mux.ServeHTTP(w, r) }

// ListHandler serves GET /dev/spid/: [{"name","entity_id","metadata_url"}].
func ListHandler(idps []*IdP) http.Handler {
	type item struct {
		Name        string `json:"name"`
		EntityID    string `json:"entity_id"`
		MetadataURL string `json:"metadata_url"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := []item{}
		for _, d := range idps {
			out = append(out, item{d.Name(), d.EntityID(), d.MetadataURL()})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// pending is the AuthnRequest being answered, carried through the login form in a MAC'd
// hidden field so the IdP is stateless (and works behind several broker replicas).
type pending struct {
	RequestID  string `json:"id"`
	ACS        string `json:"acs"`
	SP         string `json:"sp"`
	Level      int    `json:"level"`
	AttrIndex  int    `json:"attrs"`
	RelayState string `json:"rs"`
	Expires    int64  `json:"exp"`
	// Country is the country the SP named beside the AuthnRequest (country, as an eIDAS
	// node takes it), one of Options.Countries: the form preselects it.
	Country string `json:"cc,omitempty"`
}

func (d *IdP) sealState(p pending) string {
	b, _ := json.Marshal(p)
	m := hmac.New(sha256.New, d.stateKey)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (d *IdP) openState(s string) (*pending, error) {
	body, mac, ok := strings.Cut(s, ".")
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	sig, err2 := base64.RawURLEncoding.DecodeString(mac)
	if !ok || err1 != nil || err2 != nil {
		return nil, errors.New("malformed state")
	}
	m := hmac.New(sha256.New, d.stateKey)
	m.Write(b)
	if !hmac.Equal(sig, m.Sum(nil)) {
		return nil, errors.New("state MAC mismatch")
	}
	var p pending
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if d.opts.Now().Unix() > p.Expires {
		return nil, errors.New("login form expired")
	}
	return &p, nil
}

// serveSSO receives an AuthnRequest on HTTP-Redirect (GET) or HTTP-POST and shows the form.
func (d *IdP) serveSSO(w http.ResponseWriter, r *http.Request) {
	p, err := d.readAuthnRequest(r)
	if err != nil {
		d.opts.Logger.Warn("dev idp: AuthnRequest refused", "err", err)
		http.Error(w, "invalid AuthnRequest: "+err.Error(), http.StatusBadRequest)
		return
	}
	// A country beside the request (query on HTTP-Redirect, form field on HTTP-POST: r.Form
	// holds both once readAuthnRequest parsed it) preselects the country choice when it is one
	// of the node's; any other value is ignored, as a hint outside the signature.
	_ = r.ParseForm()
	if cc := r.Form.Get("country"); slices.Contains(d.opts.Countries, cc) {
		p.Country = cc
	}
	d.renderForm(w, p, "")
}

func (d *IdP) readAuthnRequest(r *http.Request) (*pending, error) {
	ctx := r.Context()
	for attempt := 0; attempt < 2; attempt++ {
		sp, err := d.sp.get(ctx, attempt > 0)
		if err != nil {
			return nil, err
		}
		var raw []byte
		var relayState string
		if r.Method == http.MethodGet {
			raw, relayState, err = samlx.VerifyRedirectQuery(r.URL.RawQuery, "SAMLRequest", sp.Certs)
		} else if r.Method == http.MethodPost {
			if err = r.ParseForm(); err == nil {
				relayState = r.PostForm.Get("RelayState")
				raw, err = samlx.DecodePOST(r.PostForm.Get("SAMLRequest"))
			}
		} else {
			return nil, errors.New("method not allowed")
		}
		if err != nil {
			if attempt == 0 && r.Method == http.MethodGet {
				continue // the SP key may have changed: refetch its metadata once
			}
			return nil, err
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			return nil, err
		}
		el := doc.Root()
		if el == nil || el.Tag != "AuthnRequest" || el.NamespaceURI() != samlx.NSProtocol {
			return nil, errors.New("not an AuthnRequest")
		}
		if r.Method == http.MethodPost {
			if el, err = samlx.VerifyEnveloped(el, sp.Certs, d.opts.Now()); err != nil {
				if attempt == 0 {
					continue
				}
				return nil, err
			}
		}
		return d.checkAuthnRequest(el, sp, relayState)
	}
	return nil, errors.New("unreachable")
}

func (d *IdP) checkAuthnRequest(el *etree.Element, sp *serviceProvider, relayState string) (*pending, error) {
	id := el.SelectAttrValue("ID", "")
	if id == "" || el.SelectAttrValue("Version", "") != "2.0" {
		return nil, errors.New("missing ID or Version")
	}
	if dst := el.SelectAttrValue("Destination", ""); dst != d.ssoURL() {
		return nil, fmt.Errorf("Destination %q is not %q", dst, d.ssoURL())
	}
	iss := el.FindElement("./Issuer")
	if iss == nil || strings.TrimSpace(iss.Text()) != sp.EntityID {
		return nil, errors.New("Issuer is not the SP entityID")
	}
	idx, err := strconv.Atoi(el.SelectAttrValue("AssertionConsumerServiceIndex", "0"))
	if err != nil {
		return nil, errors.New("bad AssertionConsumerServiceIndex")
	}
	acs, ok := sp.ACS[idx]
	if u := el.SelectAttrValue("AssertionConsumerServiceURL", ""); u != "" {
		acs, ok = u, false
		for _, l := range sp.ACS {
			ok = ok || l == u
		}
	}
	if !ok {
		return nil, errors.New("ACS not in the SP metadata")
	}
	attrIdx, _ := strconv.Atoi(el.SelectAttrValue("AttributeConsumingServiceIndex", "0"))
	level := 2
	if ref := el.FindElement("./RequestedAuthnContext/AuthnContextClassRef"); ref != nil {
		level = levelOf(strings.TrimSpace(ref.Text()))
		if level == 0 {
			return nil, errors.New("unknown AuthnContextClassRef")
		}
	}
	if len(relayState) > 80 {
		return nil, errors.New("RelayState longer than 80 bytes")
	}
	return &pending{RequestID: id, ACS: acs, SP: sp.EntityID, Level: level, AttrIndex: attrIdx,
		RelayState: relayState, Expires: d.opts.Now().Add(15 * time.Minute).Unix()}, nil
}

func levelOf(acr string) int {
	switch acr {
	case "https://www.spid.gov.it/SpidL1":
		return 1
	case "https://www.spid.gov.it/SpidL2":
		return 2
	case "https://www.spid.gov.it/SpidL3":
		return 3
	}
	return 0
}

var loginForm = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="it"><head><meta charset="utf-8"><title>{{.Name}} - {{.Federation}} (dev)</title></head>
<body>
<h1>{{.Name}}</h1>
<p>Identity provider {{.Federation}} di sviluppo. Richiesta: SpidL{{.Level}}.</p>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="state" value="{{.State}}">
{{if .Countries}}<label>Paese / Country <select name="country"><option value="">—</option>{{range .Countries}}<option value="{{.}}"{{if eq . $.Country}} selected{{end}}>{{.}}</option>{{end}}</select></label>{{end}}
<label>{{.UserLabel}} <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<label>Livello <select name="level">
<option value="">(richiesto: {{.Level}})</option><option value="1">1</option><option value="2">2</option><option value="3">3</option>
</select></label>
<button type="submit" name="action" value="login">Entra</button>
<button type="submit" name="action" value="cancel">Annulla</button>
</form>
</body></html>
`))

func (d *IdP) renderForm(w http.ResponseWriter, p *pending, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = loginForm.Execute(w, map[string]any{
		"Name": d.opts.DisplayName, "Level": p.Level, "Error": msg, "Federation": d.opts.Federation,
		"UserLabel": d.opts.UserLabel, "Countries": d.opts.Countries, "Country": p.Country,
		"Action": d.prefix + "/login", "State": d.sealState(*p),
	})
}

// serveLogin checks the form and answers the SP with a signed Response.
func (d *IdP) serveLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	p, err := d.openState(r.PostForm.Get("state"))
	if err != nil {
		http.Error(w, "invalid login state: "+err.Error(), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	sp, err := d.sp.get(ctx, false)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	var resp []byte
	username := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("username")))
	user, known := d.users[username]
	switch {
	case r.PostForm.Get("action") == "cancel":
		resp, err = d.errorResponse(p, "nr25")
	case !known || r.PostForm.Get("password") != Password ||
		(r.PostForm.Get("country") != "" && !strings.HasPrefix(username, strings.ToUpper(r.PostForm.Get("country"))+"/")):
		resp, err = d.errorResponse(p, "nr19")
	default:
		level := p.Level
		if l, e := strconv.Atoi(r.PostForm.Get("level")); e == nil && l >= 1 && l <= 3 {
			level = l
		}
		resp, err = d.successResponse(p, sp, user, level)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	fields := map[string]string{"SAMLResponse": base64.StdEncoding.EncodeToString(resp)}
	if p.RelayState != "" {
		fields["RelayState"] = p.RelayState
	}
	_ = samlx.WritePOSTForm(w, p.ACS, fields)
}

// Certs returns the IdP's signing certificate (for tests that check signatures).
func (d *IdP) Certs() []*x509.Certificate { return []*x509.Certificate{d.keys.Cert} }
