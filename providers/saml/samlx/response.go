package samlx

import (
	"fmt"
	"time"

	"github.com/beevik/etree"
)

// ResponseParams describe a SPID Response as an IdP emits it. The dev IdPs use it, and the
// SP's tests use it to build hostile variants.
type ResponseParams struct {
	IdP          string // IdP entityID (Issuer)
	ACS          string // Destination and Recipient
	InResponseTo string
	Audience     string // SP entityID
	Now          time.Time
	ResponseID   string
	AssertionID  string
	NameID       string
	SessionIndex string
	Level        int
	// Attributes in order: name, value.
	Attributes [][2]string
	// StatusCode empty means success; otherwise no Assertion is built.
	StatusCode, SubStatus, StatusMessage string
	// Validity of the assertion (default 5 minutes).
	Validity time.Duration
	// ResponseIssuerWithoutFormat leaves the Format attribute off the Response's Issuer, as
	// the CIE ID server sends it (the CIE ID technical manual, "Risposta di autenticazione").
	ResponseIssuerWithoutFormat bool
}

// BuildResponse returns the unsigned Response and, on success, the unsigned standalone
// Assertion (with its own namespace declarations, to be signed before attaching).
func BuildResponse(p ResponseParams) (resp, assertion *etree.Element) {
	if p.Validity == 0 {
		p.Validity = 5 * time.Minute
	}
	now := FormatTime(p.Now)
	resp = etree.NewElement("samlp:Response")
	resp.CreateAttr("xmlns:samlp", NSProtocol)
	resp.CreateAttr("xmlns:saml", NSAssertion)
	resp.CreateAttr("ID", p.ResponseID)
	resp.CreateAttr("Version", "2.0")
	resp.CreateAttr("IssueInstant", now)
	resp.CreateAttr("Destination", p.ACS)
	resp.CreateAttr("InResponseTo", p.InResponseTo)
	iss := resp.CreateElement("saml:Issuer")
	if !p.ResponseIssuerWithoutFormat {
		iss.CreateAttr("Format", NameIDEntity)
	}
	iss.SetText(p.IdP)
	st := resp.CreateElement("samlp:Status")
	sc := st.CreateElement("samlp:StatusCode")
	if p.StatusCode != "" && p.StatusCode != StatusSuccess {
		sc.CreateAttr("Value", p.StatusCode)
		if p.SubStatus != "" {
			sc.CreateElement("samlp:StatusCode").CreateAttr("Value", p.SubStatus)
		}
		if p.StatusMessage != "" {
			st.CreateElement("samlp:StatusMessage").SetText(p.StatusMessage)
		}
		return resp, nil
	}
	sc.CreateAttr("Value", StatusSuccess)

	a := etree.NewElement("saml:Assertion")
	a.CreateAttr("xmlns:saml", NSAssertion)
	a.CreateAttr("xmlns:xs", NSXS)
	a.CreateAttr("xmlns:xsi", NSXSI)
	a.CreateAttr("ID", p.AssertionID)
	a.CreateAttr("Version", "2.0")
	a.CreateAttr("IssueInstant", now)
	ai := a.CreateElement("saml:Issuer")
	ai.CreateAttr("Format", NameIDEntity)
	ai.SetText(p.IdP)
	subj := a.CreateElement("saml:Subject")
	nid := subj.CreateElement("saml:NameID")
	nid.CreateAttr("Format", NameIDTransient)
	nid.CreateAttr("NameQualifier", p.IdP)
	nid.SetText(p.NameID)
	scf := subj.CreateElement("saml:SubjectConfirmation")
	scf.CreateAttr("Method", CMBearer)
	scd := scf.CreateElement("saml:SubjectConfirmationData")
	scd.CreateAttr("InResponseTo", p.InResponseTo)
	scd.CreateAttr("NotOnOrAfter", FormatTime(p.Now.Add(p.Validity)))
	scd.CreateAttr("Recipient", p.ACS)
	cond := a.CreateElement("saml:Conditions")
	cond.CreateAttr("NotBefore", now)
	cond.CreateAttr("NotOnOrAfter", FormatTime(p.Now.Add(p.Validity)))
	cond.CreateElement("saml:AudienceRestriction").CreateElement("saml:Audience").SetText(p.Audience)
	as := a.CreateElement("saml:AuthnStatement")
	as.CreateAttr("AuthnInstant", now)
	as.CreateAttr("SessionIndex", p.SessionIndex)
	as.CreateElement("saml:AuthnContext").CreateElement("saml:AuthnContextClassRef").
		SetText(fmt.Sprintf("https://www.spid.gov.it/SpidL%d", p.Level))
	if len(p.Attributes) > 0 {
		ast := a.CreateElement("saml:AttributeStatement")
		for _, kv := range p.Attributes {
			at := ast.CreateElement("saml:Attribute")
			at.CreateAttr("Name", kv[0])
			at.CreateAttr("NameFormat", AttrNameBasic)
			v := at.CreateElement("saml:AttributeValue")
			v.CreateAttr("xsi:type", "xs:string")
			v.SetText(kv[1])
		}
	}
	return resp, a
}

// Assemble signs the assertion (when signAssertion), appends it to resp, signs resp (when
// signResponse) and serializes the document; opts apply to both signatures.
func Assemble(resp, assertion *etree.Element, kp *KeyPair, signAssertion, signResponse bool, opts ...SignOption) ([]byte, error) {
	if assertion != nil {
		if signAssertion {
			if err := SignEnveloped(assertion, kp, opts...); err != nil {
				return nil, err
			}
		}
		resp.AddChild(assertion)
	}
	if signResponse {
		if err := SignEnveloped(resp, kp, opts...); err != nil {
			return nil, err
		}
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(resp)
	return doc.WriteToBytes()
}
