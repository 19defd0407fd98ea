package spid

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/beevik/etree"

	"github.com/inps/sportello/internal/store"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/spid/internal/samlx"
)

const sloKeyPrefix = "spid:slo:"

// sloRecord is kept between an SP-initiated LogoutRequest and the IdP's LogoutResponse.
type sloRecord struct {
	RequestID string `json:"request_id"`
	IdP       string `json:"idp"`
	ReturnTo  string `json:"return_to"`
}

// Logout starts SP-initiated single logout: a signed LogoutRequest for the identity's SPID
// session, sent on the IdP's SLO binding; the IdP's answer at /spid/slo redirects to returnTo.
func (p *Provider) Logout(w http.ResponseWriter, r *http.Request, id *providers.Identity, returnTo string) error {
	ctx := r.Context()
	if id == nil || id.Session["idp"] == "" || id.Session["name_id"] == "" {
		return errors.New("spid: identity carries no SPID session")
	}
	idp, ok := p.registry.Lookup(ctx, id.Session["idp"])
	if !ok {
		return fmt.Errorf("spid: unknown idp %q: %w", id.Session["idp"], providers.ErrUnavailable)
	}
	binding, dest := sloEndpoint(idp)
	if dest == "" {
		return fmt.Errorf("spid: idp %s has no SingleLogoutService: %w", idp.EntityID, providers.ErrUnavailable)
	}
	reqID, err := samlx.NewID(p.deps.Rand)
	if err != nil {
		return err
	}
	relayState, err := randomToken(p.deps.Rand)
	if err != nil {
		return err
	}
	doc := etree.NewDocument()
	el := doc.CreateElement("samlp:LogoutRequest")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", reqID)
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(p.deps.Now()))
	el.CreateAttr("Destination", dest)
	p.issuer(el)
	nid := el.CreateElement("saml:NameID")
	nid.CreateAttr("Format", samlx.NameIDTransient)
	nid.CreateAttr("NameQualifier", id.Session["name_qualifier"])
	nid.SetText(id.Session["name_id"])
	if si := id.Session["session_index"]; si != "" {
		el.CreateElement("samlp:SessionIndex").SetText(si)
	}
	rec, _ := json.Marshal(sloRecord{RequestID: reqID, IdP: idp.EntityID, ReturnTo: returnTo})
	if err := p.deps.Store.Put(ctx, sloKeyPrefix+relayState, rec, p.sp.Cfg.RequestTTL); err != nil {
		return fmt.Errorf("spid: store logout: %w: %w", providers.ErrUnavailable, err)
	}
	p.audit(ctx, "spid.logout_request", id.FiscalNumber, map[string]any{"request_id": reqID, "idp": idp.EntityID})
	return p.send(w, r, el, binding, dest, "SAMLRequest", relayState)
}

// sloEndpoint picks the IdP's SLO endpoint, preferring the binding used for logins.
func sloEndpoint(idp *IdP) (string, string) {
	if l := idp.SLO[idp.Binding]; l != "" {
		return idp.Binding, l
	}
	for _, b := range []string{samlx.BindingRedirect, samlx.BindingPOST} {
		if l := idp.SLO[b]; l != "" {
			return b, l
		}
	}
	return "", ""
}

func (p *Provider) issuer(el *etree.Element) {
	iss := el.CreateElement("saml:Issuer")
	iss.CreateAttr("Format", samlx.NameIDEntity)
	iss.CreateAttr("NameQualifier", p.sp.EntityID)
	iss.SetText(p.sp.EntityID)
}

// send delivers a SAML message: signed query on HTTP-Redirect, enveloped signature on POST.
func (p *Provider) send(w http.ResponseWriter, r *http.Request, el *etree.Element, binding, dest, param, relayState string) error {
	doc := etree.NewDocument()
	if binding == samlx.BindingPOST {
		if err := samlx.SignEnveloped(el, p.sp.Keys); err != nil {
			return err
		}
		doc.SetRoot(el)
		b, err := doc.WriteToBytes()
		if err != nil {
			return err
		}
		fields := map[string]string{param: base64.StdEncoding.EncodeToString(b)}
		if relayState != "" {
			fields["RelayState"] = relayState
		}
		return p.deps.PostForm(w, r, dest, fields)
	}
	doc.SetRoot(el)
	b, err := doc.WriteToBytes()
	if err != nil {
		return err
	}
	u, err := samlx.RedirectURL(dest, param, b, relayState, p.sp.Keys)
	if err != nil {
		return err
	}
	http.Redirect(w, r, u, http.StatusFound) //nolint:gosec // dest is the IdP's SLO location from its (verified) metadata
	return nil
}

// serveSLO handles LogoutRequests from IdPs and LogoutResponses to our own requests, on both
// bindings. Every message must be signed by the issuing IdP's metadata key.
func (p *Provider) serveSLO(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if rec := recover(); rec != nil {
			p.log.Error("spid: slo panic", "panic", fmt.Sprint(rec))
			http.Error(w, "invalid logout message", http.StatusBadRequest)
		}
	}()
	ctx := r.Context()
	msg, param, relayState, binding, err := p.readSLO(r)
	if err != nil {
		p.log.Warn("spid: slo refused", "err", err)
		http.Error(w, "invalid logout message", http.StatusBadRequest)
		return
	}
	switch param {
	case "SAMLRequest":
		err = p.answerLogoutRequest(ctx, w, r, msg, relayState, binding)
	default:
		err = p.finishLogout(ctx, w, r, msg, relayState)
	}
	switch {
	case errors.Is(err, providers.ErrUnavailable):
		p.log.Warn("spid: slo unavailable", "err", err)
		p.deps.Unavailable(w, r, err)
	case err != nil:
		p.log.Warn("spid: slo refused", "err", err)
		http.Error(w, "invalid logout message", http.StatusBadRequest)
	}
}

// sloMessage is a parsed logout message and its verified signer.
type sloMessage struct {
	el  *etree.Element
	idp *IdP
}

func (p *Provider) readSLO(r *http.Request) (msg *sloMessage, param, relayState, binding string, err error) {
	var raw []byte
	q := r.URL.Query()
	if r.Method == http.MethodGet {
		binding = samlx.BindingRedirect
		param = "SAMLRequest"
		if q.Get("SAMLResponse") != "" {
			param = "SAMLResponse"
		}
		// The issuer is only known after inflating; the signature is checked right after.
		if raw, err = samlx.InflateBase64(q.Get(param)); err != nil {
			return nil, "", "", "", err
		}
	} else {
		binding = samlx.BindingPOST
		r.Body = http.MaxBytesReader(nil, r.Body, 2*samlx.MaxMessageSize)
		if err = r.ParseForm(); err != nil {
			return nil, "", "", "", err
		}
		param = "SAMLRequest"
		if r.PostForm.Get("SAMLResponse") != "" {
			param = "SAMLResponse"
		}
		relayState = r.PostForm.Get("RelayState")
		if raw, err = samlx.DecodePOST(r.PostForm.Get(param)); err != nil {
			return nil, "", "", "", err
		}
	}
	doc, err := parseMessage(raw)
	if err != nil {
		return nil, "", "", "", err
	}
	root := doc.Root()
	want := "LogoutRequest"
	if param == "SAMLResponse" {
		want = "LogoutResponse"
	}
	if root == nil || !is(root, samlx.NSProtocol, want) {
		return nil, "", "", "", fmt.Errorf("expected %s", want)
	}
	if err := uniqueIDs(root, map[string]bool{}); err != nil {
		return nil, "", "", "", err
	}
	iss := childrenNamed(root, samlx.NSAssertion, "Issuer")
	if len(iss) != 1 {
		return nil, "", "", "", errors.New("logout message without one Issuer")
	}
	issuer, _ := text(iss[0])
	idp, ok := p.registry.Lookup(r.Context(), issuer)
	if !ok {
		return nil, "", "", "", fmt.Errorf("logout message from unknown idp %q", issuer)
	}
	if binding == samlx.BindingRedirect {
		if _, relayState, err = samlx.VerifyRedirectQuery(r.URL.RawQuery, param, idp.Certs); err != nil {
			return nil, "", "", "", err
		}
	} else {
		signed, err := samlx.VerifyEnveloped(root, idp.Certs, p.deps.Now())
		if err != nil {
			return nil, "", "", "", err
		}
		root = signed
	}
	if d := root.SelectAttrValue("Destination", ""); d != p.sp.SLOURL {
		return nil, "", "", "", fmt.Errorf("logout Destination %q is not the SLO URL", d)
	}
	return &sloMessage{el: root, idp: idp}, param, relayState, binding, nil
}

// answerLogoutRequest answers an IdP-initiated logout with a signed LogoutResponse: success
// even when the session is unknown or already closed, as the SPID technical rules require.
func (p *Provider) answerLogoutRequest(ctx context.Context, w http.ResponseWriter, r *http.Request, m *sloMessage, relayState, binding string) error {
	reqID := m.el.SelectAttrValue("ID", "")
	if reqID == "" {
		return errors.New("LogoutRequest without ID")
	}
	if p.deps.SessionEnder != nil {
		sess := map[string]string{"idp": m.idp.EntityID}
		if nid := childrenNamed(m.el, samlx.NSAssertion, "NameID"); len(nid) == 1 {
			sess["name_id"], _ = text(nid[0])
		}
		if si := childrenNamed(m.el, samlx.NSProtocol, "SessionIndex"); len(si) == 1 {
			sess["session_index"], _ = text(si[0])
		}
		if err := p.deps.SessionEnder(ctx, sess); err != nil {
			p.log.Warn("spid: ending broker session on idp logout", "err", err)
		}
	}
	dest := m.idp.SLO[binding]
	if dest == "" {
		binding, dest = sloEndpoint(m.idp)
	}
	if dest == "" {
		return fmt.Errorf("idp %s has no SingleLogoutService", m.idp.EntityID)
	}
	id, err := samlx.NewID(p.deps.Rand)
	if err != nil {
		return err
	}
	el := etree.NewElement("samlp:LogoutResponse")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", id)
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(p.deps.Now()))
	el.CreateAttr("Destination", dest)
	el.CreateAttr("InResponseTo", reqID)
	p.issuer(el)
	el.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", samlx.StatusSuccess)
	p.audit(ctx, "spid.logout_idp", "", map[string]any{"request_id": reqID, "response_id": id, "idp": m.idp.EntityID})
	return p.send(w, r, el, binding, dest, "SAMLResponse", relayState)
}

// finishLogout checks the IdP's LogoutResponse against our pending request and redirects.
func (p *Provider) finishLogout(ctx context.Context, w http.ResponseWriter, r *http.Request, m *sloMessage, relayState string) error {
	if relayState == "" {
		return fmt.Errorf("no logout RelayState: %w", providers.ErrLoginExpired)
	}
	b, err := p.deps.Store.Take(ctx, sloKeyPrefix+relayState)
	if store.IsOutage(err) {
		return fmt.Errorf("spid: take logout: %w: %w", providers.ErrUnavailable, err)
	}
	if err != nil {
		return fmt.Errorf("unknown logout RelayState: %w", providers.ErrLoginExpired)
	}
	var rec sloRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return err
	}
	if m.el.SelectAttrValue("InResponseTo", "") != rec.RequestID || m.idp.EntityID != rec.IdP {
		return errors.New("LogoutResponse does not answer our request")
	}
	status := ""
	if st := childrenNamed(m.el, samlx.NSProtocol, "Status"); len(st) == 1 {
		if sc := childrenNamed(st[0], samlx.NSProtocol, "StatusCode"); len(sc) == 1 {
			status = sc[0].SelectAttrValue("Value", "")
		}
	}
	if status != samlx.StatusSuccess {
		p.log.Warn("spid: idp logout not successful", "idp", rec.IdP, "status", status)
	}
	p.audit(ctx, "spid.logout_response", "", map[string]any{"request_id": rec.RequestID, "idp": rec.IdP, "status": status})
	target := rec.ReturnTo
	if u, err := url.Parse(target); err != nil || target == "" || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") {
		target = "/"
	}
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}
