package devidp

import (
	"encoding/base64"
	"net/http"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers/saml/samlx"
)

// serveMetadata serves the signed IdP metadata.
func (d *IdP) serveMetadata(w http.ResponseWriter, r *http.Request) {
	b, err := d.Metadata()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}

// Metadata renders the signed IdP metadata (both SSO bindings, SLO, the signing key).
func (d *IdP) Metadata() ([]byte, error) {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", samlx.NSMetadata)
	ed.CreateAttr("xmlns:ds", samlx.NSDSig)
	ed.CreateAttr("ID", "_devidp-"+d.opts.Name)
	ed.CreateAttr("entityID", d.entityID)
	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("protocolSupportEnumeration", samlx.NSProtocol)
	idp.CreateAttr("WantAuthnRequestsSigned", "true")
	kd := idp.CreateElement("md:KeyDescriptor")
	kd.CreateAttr("use", "signing")
	kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
		SetText(base64.StdEncoding.EncodeToString(d.keys.Cert.Raw))
	for _, b := range []string{samlx.BindingPOST, samlx.BindingRedirect} {
		s := idp.CreateElement("md:SingleLogoutService")
		s.CreateAttr("Binding", b)
		s.CreateAttr("Location", d.sloURL())
	}
	idp.CreateElement("md:NameIDFormat").SetText(samlx.NameIDTransient)
	for _, b := range []string{samlx.BindingPOST, samlx.BindingRedirect} {
		s := idp.CreateElement("md:SingleSignOnService")
		s.CreateAttr("Binding", b)
		s.CreateAttr("Location", d.ssoURL())
	}
	org := ed.CreateElement("md:Organization")
	for _, t := range []string{"md:OrganizationName", "md:OrganizationDisplayName"} {
		e := org.CreateElement(t)
		e.CreateAttr("xml:lang", "it")
		e.SetText(d.opts.DisplayName)
	}
	u := org.CreateElement("md:OrganizationURL")
	u.CreateAttr("xml:lang", "it")
	u.SetText(d.entityID)
	doc.Indent(2)
	if err := samlx.SignEnveloped(ed, d.keys); err != nil {
		return nil, err
	}
	return doc.WriteToBytes()
}

func (d *IdP) newID() string {
	id, err := samlx.NewID(d.opts.Rand)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return id
}

// errorResponse is a signed Response carrying a SPID error code (nr19, nr25...).
func (d *IdP) errorResponse(p *pending, nr string) ([]byte, error) {
	sub := samlx.StatusAuthnFailed
	resp, _ := samlx.BuildResponse(samlx.ResponseParams{
		IdP: d.entityID, ACS: p.ACS, InResponseTo: p.RequestID, Audience: p.SP, Now: d.opts.Now(),
		ResponseID: d.newID(), StatusCode: samlx.StatusResponder, SubStatus: sub,
		StatusMessage: "ErrorCode " + nr, ResponseIssuerWithoutFormat: d.opts.ResponseIssuerWithoutFormat,
	})
	return samlx.Assemble(resp, nil, d.keys, false, true, samlx.WithKeyInfo(d.opts.KeyInfo))
}

// successResponse is a signed Response with a signed Assertion for user at level.
func (d *IdP) successResponse(p *pending, sp *serviceProvider, user User, level int) ([]byte, error) {
	want := sp.Attributes[p.AttrIndex]
	if want == nil {
		want = []string{"spidCode", "name", "familyName", "fiscalNumber", "email", "mobilePhone", "dateOfBirth"}
	}
	var attrs [][2]string
	for _, name := range want {
		if name == "fiscalNumber" && user.FiscalCode != "" {
			attrs = append(attrs, [2]string{name, "TINIT-" + user.FiscalCode})
		} else if v, ok := user.Attributes[name]; ok {
			attrs = append(attrs, [2]string{name, v})
		}
	}
	resp, a := samlx.BuildResponse(samlx.ResponseParams{
		IdP: d.entityID, ACS: p.ACS, InResponseTo: p.RequestID, Audience: p.SP, Now: d.opts.Now(),
		ResponseID: d.newID(), AssertionID: d.newID(), NameID: d.newID(), SessionIndex: d.newID(),
		Level: level, Attributes: attrs, ResponseIssuerWithoutFormat: d.opts.ResponseIssuerWithoutFormat,
	})
	return samlx.Assemble(resp, a, d.keys, true, true, samlx.WithKeyInfo(d.opts.KeyInfo))
}

// serveSLO answers an SP's LogoutRequest (either binding) with a signed LogoutResponse on
// the SP's HTTP-Redirect SLO endpoint. The dev IdP keeps no sessions, so it always succeeds.
func (d *IdP) serveSLO(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sp, err := d.sp.get(ctx, false)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	var raw []byte
	var relayState string
	if r.Method == http.MethodGet {
		raw, relayState, err = samlx.VerifyRedirectQuery(r.URL.RawQuery, "SAMLRequest", sp.Certs)
	} else {
		if err = r.ParseForm(); err == nil {
			relayState = r.PostForm.Get("RelayState")
			raw, err = samlx.DecodePOST(r.PostForm.Get("SAMLRequest"))
		}
	}
	if err != nil {
		http.Error(w, "invalid LogoutRequest: "+err.Error(), http.StatusBadRequest)
		return
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil || doc.Root().Tag != "LogoutRequest" {
		http.Error(w, "invalid LogoutRequest", http.StatusBadRequest)
		return
	}
	req := doc.Root()
	if r.Method != http.MethodGet {
		if req, err = samlx.VerifyEnveloped(req, sp.Certs, d.opts.Now()); err != nil {
			http.Error(w, "invalid LogoutRequest signature", http.StatusBadRequest)
			return
		}
	}
	dest := sp.SLO[samlx.BindingRedirect]
	if dest == "" {
		http.Error(w, "SP has no HTTP-Redirect SLO", http.StatusBadRequest)
		return
	}
	el := etree.NewElement("samlp:LogoutResponse")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", d.newID())
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(d.opts.Now()))
	el.CreateAttr("Destination", dest)
	el.CreateAttr("InResponseTo", req.SelectAttrValue("ID", ""))
	iss := el.CreateElement("saml:Issuer")
	iss.CreateAttr("Format", samlx.NameIDEntity)
	iss.SetText(d.entityID)
	el.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", samlx.StatusSuccess)
	out := etree.NewDocument()
	out.SetRoot(el)
	b, err := out.WriteToBytes()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	u, err := samlx.RedirectURL(dest, "SAMLResponse", b, relayState, d.keys)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, u, http.StatusFound) //nolint:gosec // the SP's location from its metadata (dev IdP)
}
