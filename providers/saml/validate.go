package saml

import (
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers/saml/samlx"
)

// expectation is what a Response must match: the profile, the stored request and the
// configuration.
type expectation struct {
	Profile       *Profile
	RequestID     string
	RequestIssued time.Time
	IdP           *IdP
	ACSURL        string
	SPEntityID    string
	Level         int
	Comparison    string
	Now           time.Time
	Skew          time.Duration
}

// Assertion is what a valid Response proves: its identifiers, the level reached, the subject
// and its session at the IdP, and the attributes (name to value, as sent).
type Assertion struct {
	ResponseID    string
	AssertionID   string
	IssueInstant  time.Time
	Level         int
	NameID        string
	NameQualifier string
	SessionIndex  string
	AuthnInstant  time.Time
	NotOnOrAfter  time.Time
	Attributes    map[string]string
}

// validateResponse applies every Response and Assertion rule to the raw XML, with the
// profile's knobs. It never panics: anything unexpected is a refusal.
func validateResponse(raw []byte, ex *expectation) (res *Assertion, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, reject("internal", "validator panic: %v", r)
		}
		if err != nil {
			err = withProfile(err, ex.Profile.Name)
		}
	}()
	if len(raw) == 0 || len(raw) > samlx.MaxMessageSize {
		return nil, reject("size", "%d bytes", len(raw))
	}
	doc, err := parseMessage(raw)
	if err != nil {
		return nil, err
	}
	root := doc.Root()
	if root == nil || !is(root, samlx.NSProtocol, "Response") {
		return nil, reject("response.root", "root is not samlp:Response")
	}
	if err := uniqueIDs(root, map[string]bool{}); err != nil {
		return nil, err
	}
	if err := checkAssertionPlacement(root); err != nil {
		return nil, err
	}
	res = &Assertion{}
	// Response attributes.
	if res.ResponseID = root.SelectAttrValue("ID", ""); res.ResponseID == "" {
		return nil, reject("response.id", "missing")
	}
	if v := root.SelectAttrValue("Version", ""); v != "2.0" {
		return nil, reject("response.version", "%q", v)
	}
	if res.IssueInstant, err = checkIssueInstant("response.issue_instant", root, ex); err != nil {
		return nil, err
	}
	if v := root.SelectAttrValue("InResponseTo", ""); v == "" || v != ex.RequestID {
		return nil, reject("response.in_response_to", "%q is not the request %q", v, ex.RequestID)
	}
	if v := root.SelectAttrValue("Destination", ""); v != ex.ACSURL {
		return nil, reject("response.destination", "%q is not the ACS %q", v, ex.ACSURL)
	}
	// Response children, strictly in schema order.
	kids, err := children(root, "response.children",
		child{samlx.NSAssertion, "Issuer", 1, 1},
		child{samlx.NSDSig, "Signature", 0, 1},
		child{samlx.NSProtocol, "Extensions", 0, 1},
		child{samlx.NSProtocol, "Status", 1, 1},
		child{samlx.NSAssertion, "Assertion", 0, 1})
	if err != nil {
		return nil, err
	}
	issuer := kids["Issuer"][0]
	if err := checkIssuer("response.issuer", issuer, ex.IdP.EntityID, ex.Profile.ResponseIssuer); err != nil {
		return nil, err
	}
	if len(kids["Signature"]) == 1 {
		if _, err := samlx.VerifyEnveloped(root, ex.IdP.Certs, ex.Now); err != nil {
			return nil, signatureReject("response.signature", err)
		}
	}
	if err := checkStatus(kids["Status"][0], ex.Profile); err != nil {
		return nil, err
	}
	if len(kids["Assertion"]) != 1 {
		return nil, reject("assertion.missing", "success without exactly one Assertion")
	}
	return validateAssertion(kids["Assertion"][0], ex, res)
}

func validateAssertion(a *etree.Element, ex *expectation, res *Assertion) (*Assertion, error) {
	if n := len(samlx.SignatureChild(a)); n != 1 {
		return nil, signatureReject("assertion.signature",
			fmt.Errorf("%w: the Assertion carries %d enveloped signatures, want 1", samlx.ErrSignatureMissing, n))
	}
	if n := countDescendants(a, samlx.NSDSig, "Signature"); n != 1 {
		return nil, signatureReject("assertion.signature",
			fmt.Errorf("%w: %d signatures inside the Assertion", samlx.ErrSignatureShape, n))
	}
	signed, err := samlx.VerifyEnveloped(a, ex.IdP.Certs, ex.Now)
	if err != nil {
		return nil, signatureReject("assertion.signature", err)
	}
	// From here on only the element as signed is read.
	a = signed
	if res.AssertionID = a.SelectAttrValue("ID", ""); res.AssertionID == "" {
		return nil, reject("assertion.id", "missing")
	}
	if v := a.SelectAttrValue("Version", ""); v != "2.0" {
		return nil, reject("assertion.version", "%q", v)
	}
	if _, err := checkIssueInstant("assertion.issue_instant", a, ex); err != nil {
		return nil, err
	}
	kids, err := children(a, "assertion.children",
		child{samlx.NSAssertion, "Issuer", 1, 1},
		child{samlx.NSAssertion, "Subject", 1, 1},
		child{samlx.NSAssertion, "Conditions", 1, 1},
		child{samlx.NSAssertion, "AuthnStatement", 1, 1},
		child{samlx.NSAssertion, "AttributeStatement", 0, 1})
	if err != nil {
		return nil, err
	}
	if err := checkIssuer("assertion.issuer", kids["Issuer"][0], ex.IdP.EntityID, ex.Profile.AssertionIssuer); err != nil {
		return nil, err
	}
	if err := checkSubject(kids["Subject"][0], ex, res); err != nil {
		return nil, err
	}
	if err := checkConditions(kids["Conditions"][0], ex, res); err != nil {
		return nil, err
	}
	if err := checkAuthnStatement(kids["AuthnStatement"][0], ex, res); err != nil {
		return nil, err
	}
	res.Attributes = map[string]string{}
	if as := kids["AttributeStatement"]; len(as) == 1 {
		if err := readAttributes(as[0], res.Attributes); err != nil {
			return nil, err
		}
	}
	if err := checkLevel(res.Level, ex); err != nil {
		return nil, err
	}
	return res, nil
}

func checkIssueInstant(rule string, el *etree.Element, ex *expectation) (time.Time, error) {
	v := el.SelectAttrValue("IssueInstant", "")
	t, err := samlx.ParseTime(v)
	switch {
	case err != nil:
		return t, reject(rule, "%v", err)
	case t.Before(ex.RequestIssued.Add(-ex.Skew)):
		return t, reject(rule, "%s is before the request (%s)", v, samlx.FormatTime(ex.RequestIssued))
	case t.After(ex.Now.Add(ex.Skew)):
		return t, reject(rule, "%s is in the future", v)
	}
	return t, nil
}

func checkIssuer(rule string, el *etree.Element, entityID string, format IssuerFormat) error {
	f := el.SelectAttr("Format")
	switch {
	case f == nil && format == IssuerFormatRequired:
		return reject(rule, "Format missing")
	case f != nil && format == IssuerFormatAbsent:
		return reject(rule, "Format %q present, none allowed", f.Value)
	case f != nil && f.Value != samlx.NameIDEntity:
		return reject(rule, "Format %q", f.Value)
	}
	v, err := text(el)
	if err != nil {
		return reject(rule, "%v", err)
	}
	if v != entityID {
		return reject(rule, "%q is not the IdP %q", v, entityID)
	}
	return nil
}

func checkStatus(st *etree.Element, prof *Profile) error {
	codes := childrenNamed(st, samlx.NSProtocol, "StatusCode")
	if len(codes) != 1 {
		return reject("status.code", "%d StatusCode elements", len(codes))
	}
	code := codes[0].SelectAttrValue("Value", "")
	if code == "" {
		return reject("status.code", "empty StatusCode")
	}
	if code == samlx.StatusSuccess {
		return nil
	}
	se := &StatusError{Code: code}
	if sub := childrenNamed(codes[0], samlx.NSProtocol, "StatusCode"); len(sub) == 1 {
		se.SubCode = sub[0].SelectAttrValue("Value", "")
	}
	if msg := childrenNamed(st, samlx.NSProtocol, "StatusMessage"); len(msg) == 1 {
		se.Message, _ = text(msg[0])
		se.NR, se.cause = prof.errorCode(se.Message)
	}
	return se
}

// matchesErrorCode says whether a StatusMessage carries code: "ErrorCode nr19" in any letter
// case and spacing, or the bare code.
func matchesErrorCode(msg, code string) bool {
	m := strings.ToLower(strings.ReplaceAll(msg, " ", ""))
	return strings.Contains(m, "errorcode"+code) || m == code
}

func checkSubject(s *etree.Element, ex *expectation, res *Assertion) error {
	kids, err := children(s, "subject.children",
		child{samlx.NSAssertion, "NameID", 1, 1},
		child{samlx.NSAssertion, "SubjectConfirmation", 1, 1})
	if err != nil {
		return err
	}
	nid := kids["NameID"][0]
	if f := nid.SelectAttrValue("Format", ""); f != samlx.NameIDTransient {
		return reject("subject.name_id_format", "%q", f)
	}
	if res.NameQualifier = nid.SelectAttrValue("NameQualifier", ""); res.NameQualifier == "" {
		return reject("subject.name_qualifier", "missing")
	}
	if res.NameID, err = text(nid); err != nil || res.NameID == "" {
		return reject("subject.name_id", "empty or not text")
	}
	sc := kids["SubjectConfirmation"][0]
	if m := sc.SelectAttrValue("Method", ""); m != samlx.CMBearer {
		return reject("subject.confirmation_method", "%q", m)
	}
	scd := childrenNamed(sc, samlx.NSAssertion, "SubjectConfirmationData")
	if len(scd) != 1 {
		return reject("subject.confirmation_data", "%d SubjectConfirmationData", len(scd))
	}
	d := scd[0]
	if v := d.SelectAttrValue("Recipient", ""); v != ex.ACSURL {
		return reject("subject.recipient", "%q is not the ACS", v)
	}
	if v := d.SelectAttrValue("InResponseTo", ""); v != ex.RequestID {
		return reject("subject.in_response_to", "%q is not the request", v)
	}
	noa, err := samlx.ParseTime(d.SelectAttrValue("NotOnOrAfter", ""))
	if err != nil {
		return reject("subject.not_on_or_after", "%v", err)
	}
	if !ex.Now.Before(noa.Add(ex.Skew)) {
		return reject("subject.not_on_or_after", "expired at %s", samlx.FormatTime(noa))
	}
	// The replay cache keeps the assertion ID until the later of the two NotOnOrAfter.
	res.NotOnOrAfter = noa
	return nil
}

func checkConditions(c *etree.Element, ex *expectation, res *Assertion) error {
	nb, err := samlx.ParseTime(c.SelectAttrValue("NotBefore", ""))
	if err != nil {
		return reject("conditions.not_before", "%v", err)
	}
	if nb.After(ex.Now.Add(ex.Skew)) {
		return reject("conditions.not_before", "not valid before %s", samlx.FormatTime(nb))
	}
	noa, err := samlx.ParseTime(c.SelectAttrValue("NotOnOrAfter", ""))
	if err != nil {
		return reject("conditions.not_on_or_after", "%v", err)
	}
	if !ex.Now.Before(noa.Add(ex.Skew)) {
		return reject("conditions.not_on_or_after", "expired at %s", samlx.FormatTime(noa))
	}
	if noa.After(res.NotOnOrAfter) {
		res.NotOnOrAfter = noa
	}
	kids, err := children(c, "conditions.children",
		child{samlx.NSAssertion, "AudienceRestriction", 1, 1})
	if err != nil {
		return err
	}
	auds := childrenNamed(kids["AudienceRestriction"][0], samlx.NSAssertion, "Audience")
	if len(auds) != 1 {
		return reject("conditions.audience", "%d Audience elements", len(auds))
	}
	if v, _ := text(auds[0]); v != ex.SPEntityID {
		return reject("conditions.audience", "%q is not the SP", v)
	}
	return nil
}

func checkAuthnStatement(s *etree.Element, ex *expectation, res *Assertion) error {
	var err error
	if res.AuthnInstant, err = samlx.ParseTime(s.SelectAttrValue("AuthnInstant", "")); err != nil {
		return reject("authn.instant", "%v", err)
	}
	if res.AuthnInstant.After(ex.Now.Add(ex.Skew)) {
		return reject("authn.instant", "in the future")
	}
	res.SessionIndex = s.SelectAttrValue("SessionIndex", "")
	ctxs := childrenNamed(s, samlx.NSAssertion, "AuthnContext")
	if len(ctxs) != 1 || len(ctxs[0].ChildElements()) != 1 {
		return reject("authn.context", "want one AuthnContext with one AuthnContextClassRef")
	}
	refs := childrenNamed(ctxs[0], samlx.NSAssertion, "AuthnContextClassRef")
	if len(refs) != 1 {
		return reject("authn.context", "no AuthnContextClassRef")
	}
	v, _ := text(refs[0])
	if res.Level = ex.Profile.LevelOf(v); res.Level == 0 {
		return reject("authn.context", "%q is not a level of %s", v, ex.Profile.Name)
	}
	return nil
}

func checkLevel(got int, ex *expectation) error {
	if got < ex.Level || (ex.Comparison == "exact" && got != ex.Level) {
		return &LevelError{Got: got, Want: ex.Level, Comparison: ex.Comparison}
	}
	return nil
}

func readAttributes(st *etree.Element, out map[string]string) error {
	attrs := st.ChildElements()
	if len(attrs) == 0 {
		return reject("attributes.empty", "empty AttributeStatement")
	}
	for _, at := range attrs {
		if !is(at, samlx.NSAssertion, "Attribute") {
			return reject("attributes.element", "unexpected %s", at.Tag)
		}
		name := at.SelectAttrValue("Name", "")
		if name == "" {
			return reject("attributes.name", "Attribute without Name")
		}
		if _, dup := out[name]; dup {
			return reject("attributes.duplicate", "%q twice", name)
		}
		vals := at.ChildElements()
		if len(vals) != 1 || !is(vals[0], samlx.NSAssertion, "AttributeValue") {
			return reject("attributes.value", "%q must have exactly one AttributeValue", name)
		}
		v, err := text(vals[0])
		if err != nil {
			return reject("attributes.value", "%q: %v", name, err)
		}
		out[name] = strings.TrimSpace(v)
	}
	return nil
}
