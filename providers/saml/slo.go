package saml

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
	"github.com/inps/sportello/providers/saml/samlx"
)

// sloRecord is kept between an SP-initiated LogoutRequest and the IdP's LogoutResponse.
type sloRecord struct {
	RequestID string `json:"request_id"`
	IdP       string `json:"idp"`
	ReturnTo  string `json:"return_to"`
}

// Logout starts SP-initiated single logout: a signed LogoutRequest for session (the
// Identity.Session of a login through this engine: idp, name_id, name_qualifier,
// session_index), sent on the IdP's SLO binding; the IdP's answer at the SLO URL redirects to
// returnTo. actor names the person in the audit trail.
func (s *SP) Logout(w http.ResponseWriter, r *http.Request, session map[string]string, actor, returnTo string) error {
	ctx := r.Context()
	idp, ok := s.registry.Lookup(ctx, session["idp"])
	if !ok {
		return s.errorf("unknown idp %q: %w", session["idp"], providers.ErrUnavailable)
	}
	binding, dest := sloEndpoint(idp)
	if dest == "" {
		return s.errorf("idp %s has no SingleLogoutService: %w", idp.EntityID, providers.ErrUnavailable)
	}
	reqID, err := samlx.NewID(s.deps.Rand)
	if err != nil {
		return err
	}
	relayState, err := s.randomToken()
	if err != nil {
		return err
	}
	doc := etree.NewDocument()
	el := doc.CreateElement("samlp:LogoutRequest")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", reqID)
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(s.deps.Now()))
	el.CreateAttr("Destination", dest)
	s.issuer(el)
	nid := el.CreateElement("saml:NameID")
	nid.CreateAttr("Format", samlx.NameIDTransient)
	nid.CreateAttr("NameQualifier", session["name_qualifier"])
	nid.SetText(session["name_id"])
	if si := session["session_index"]; si != "" {
		el.CreateElement("samlp:SessionIndex").SetText(si)
	}
	rec, _ := json.Marshal(sloRecord{RequestID: reqID, IdP: idp.EntityID, ReturnTo: returnTo})
	if err := s.deps.Store.Put(ctx, s.storeKey("slo", relayState), rec, s.cfg.RequestTTL); err != nil {
		return s.errorf("store logout: %w: %w", providers.ErrUnavailable, err)
	}
	s.audit(ctx, "logout_request", actor, map[string]any{"request_id": reqID, "idp": idp.EntityID})
	return s.send(w, r, el, binding, dest, "SAMLRequest", relayState)
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

// send delivers a SAML message: signed query on HTTP-Redirect, enveloped signature on POST.
func (s *SP) send(w http.ResponseWriter, r *http.Request, el *etree.Element, binding, dest, param, relayState string) error {
	doc := etree.NewDocument()
	if binding == samlx.BindingPOST {
		if err := samlx.SignEnveloped(el, s.cfg.Keys); err != nil {
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
		return s.deps.PostForm(w, r, dest, fields)
	}
	doc.SetRoot(el)
	b, err := doc.WriteToBytes()
	if err != nil {
		return err
	}
	u, err := samlx.RedirectURL(dest, param, b, relayState, s.cfg.Keys)
	if err != nil {
		return err
	}
	http.Redirect(w, r, u, http.StatusFound) //nolint:gosec // dest is the IdP's SLO location from its (verified) metadata
	return nil
}

// ServeSLO is the single logout service: LogoutRequests from IdPs and LogoutResponses to our
// own requests, on both bindings. Every message must be signed by the issuing IdP's metadata
// key; anything else is a 400 and a log line. A store outage while finishing a logout is
// Deps.Unavailable (503, Retry-After) and uses nothing up, so the same message completes the
// logout once the store answers.
func (s *SP) ServeSLO(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if rec := recover(); rec != nil {
			s.log.Error(s.prof.Name+": slo panic", "panic", fmt.Sprint(rec))
			http.Error(w, "invalid logout message", http.StatusBadRequest)
		}
	}()
	ctx := r.Context()
	msg, err := s.ReadLogout(r)
	if err != nil {
		s.log.Warn(s.prof.Name+": slo refused", "err", err)
		http.Error(w, "invalid logout message", http.StatusBadRequest)
		return
	}
	if msg.Response {
		err = s.finishLogout(ctx, w, r, msg)
	} else {
		err = s.answerLogoutRequest(ctx, w, r, msg)
	}
	switch {
	case errors.Is(err, providers.ErrUnavailable):
		s.log.Warn(s.prof.Name+": slo unavailable", "err", err)
		s.deps.Unavailable(w, r, err)
	case err != nil:
		s.log.Warn(s.prof.Name+": slo refused", "err", err)
		http.Error(w, "invalid logout message", http.StatusBadRequest)
	}
}

// LogoutMessage is a logout message as ReadLogout accepted it.
type LogoutMessage struct {
	// Element is the LogoutRequest or LogoutResponse as signed.
	Element *etree.Element
	// IdP is its verified issuer.
	IdP *IdP
	// Response is true for a LogoutResponse (SAMLResponse), false for a LogoutRequest.
	Response   bool
	RelayState string
	// Binding is the binding it came on: samlx.BindingRedirect or samlx.BindingPOST.
	Binding string
}

// ReadLogout reads the logout message of r (GET: HTTP-Redirect, else HTTP-POST) with the
// strict parser, and accepts it only signed by its issuer's metadata key (the query signature
// on HTTP-Redirect, the enveloped one on HTTP-POST, whatever KeyInfo holds) and addressed to
// the SLO URL.
func (s *SP) ReadLogout(r *http.Request) (*LogoutMessage, error) {
	msg, param, relayState, binding, err := s.readSLO(r)
	if err != nil {
		return nil, err
	}
	msg.Response, msg.RelayState, msg.Binding = param == "SAMLResponse", relayState, binding
	return msg, nil
}

func (s *SP) readSLO(r *http.Request) (msg *LogoutMessage, param, relayState, binding string, err error) {
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
	idp, ok := s.registry.Lookup(r.Context(), issuer)
	if !ok {
		return nil, "", "", "", fmt.Errorf("logout message from unknown idp %q", issuer)
	}
	if binding == samlx.BindingRedirect {
		if _, relayState, err = samlx.VerifyRedirectQuery(r.URL.RawQuery, param, idp.Certs); err != nil {
			return nil, "", "", "", err
		}
	} else {
		signed, err := samlx.VerifyEnveloped(root, idp.Certs, s.deps.Now())
		if err != nil {
			return nil, "", "", "", err
		}
		root = signed
	}
	if d := root.SelectAttrValue("Destination", ""); d != s.cfg.SLOURL {
		return nil, "", "", "", fmt.Errorf("logout Destination %q is not the SLO URL", d)
	}
	return &LogoutMessage{Element: root, IdP: idp}, param, relayState, binding, nil
}

// answerLogoutRequest answers an IdP-initiated logout with a signed LogoutResponse: success
// even when the session is unknown or already closed.
func (s *SP) answerLogoutRequest(ctx context.Context, w http.ResponseWriter, r *http.Request, m *LogoutMessage) error {
	relayState, binding := m.RelayState, m.Binding
	reqID := m.Element.SelectAttrValue("ID", "")
	if reqID == "" {
		return errors.New("LogoutRequest without ID")
	}
	if s.deps.SessionEnder != nil {
		sess := map[string]string{"idp": m.IdP.EntityID}
		if nid := childrenNamed(m.Element, samlx.NSAssertion, "NameID"); len(nid) == 1 {
			sess["name_id"], _ = text(nid[0])
		}
		if si := childrenNamed(m.Element, samlx.NSProtocol, "SessionIndex"); len(si) == 1 {
			sess["session_index"], _ = text(si[0])
		}
		if err := s.deps.SessionEnder(ctx, sess); err != nil {
			s.log.Warn(s.prof.Name+": ending broker session on idp logout", "err", err)
		}
	}
	dest := m.IdP.SLO[binding]
	if dest == "" {
		binding, dest = sloEndpoint(m.IdP)
	}
	if dest == "" {
		return fmt.Errorf("idp %s has no SingleLogoutService", m.IdP.EntityID)
	}
	id, err := samlx.NewID(s.deps.Rand)
	if err != nil {
		return err
	}
	el := etree.NewElement("samlp:LogoutResponse")
	el.CreateAttr("xmlns:samlp", samlx.NSProtocol)
	el.CreateAttr("xmlns:saml", samlx.NSAssertion)
	el.CreateAttr("ID", id)
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", samlx.FormatTime(s.deps.Now()))
	el.CreateAttr("Destination", dest)
	el.CreateAttr("InResponseTo", reqID)
	s.issuer(el)
	el.CreateElement("samlp:Status").CreateElement("samlp:StatusCode").CreateAttr("Value", samlx.StatusSuccess)
	s.audit(ctx, "logout_idp", "", map[string]any{"request_id": reqID, "response_id": id, "idp": m.IdP.EntityID})
	return s.send(w, r, el, binding, dest, "SAMLResponse", relayState)
}

// finishLogout checks the IdP's LogoutResponse against our pending request and redirects.
func (s *SP) finishLogout(ctx context.Context, w http.ResponseWriter, r *http.Request, m *LogoutMessage) error {
	relayState := m.RelayState
	if relayState == "" {
		return fmt.Errorf("no logout RelayState: %w", providers.ErrLoginExpired)
	}
	b, err := s.deps.Store.Take(ctx, s.storeKey("slo", relayState))
	if store.IsOutage(err) {
		return s.errorf("take logout: %w: %w", providers.ErrUnavailable, err)
	}
	if err != nil {
		return fmt.Errorf("unknown logout RelayState: %w", providers.ErrLoginExpired)
	}
	var rec sloRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return err
	}
	if m.Element.SelectAttrValue("InResponseTo", "") != rec.RequestID || m.IdP.EntityID != rec.IdP {
		return errors.New("LogoutResponse does not answer our request")
	}
	status := ""
	if st := childrenNamed(m.Element, samlx.NSProtocol, "Status"); len(st) == 1 {
		if sc := childrenNamed(st[0], samlx.NSProtocol, "StatusCode"); len(sc) == 1 {
			status = sc[0].SelectAttrValue("Value", "")
		}
	}
	if status != samlx.StatusSuccess {
		s.log.Warn(s.prof.Name+": idp logout not successful", "idp", rec.IdP, "status", status)
	}
	s.audit(ctx, "logout_response", "", map[string]any{"request_id": rec.RequestID, "idp": rec.IdP, "status": status})
	target := rec.ReturnTo
	if u, err := url.Parse(target); err != nil || target == "" || (u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https") {
		target = "/"
	}
	http.Redirect(w, r, target, http.StatusFound)
	return nil
}
