package saml

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"github.com/inps/sportello/providers/saml/samlx"
)

// Organization is the md:Organization of the SP metadata; maps are keyed by language.
type Organization struct {
	Names        map[string]string `yaml:"names"`
	DisplayNames map[string]string `yaml:"display_names"`
	URLs         map[string]string `yaml:"urls"`
}

// AttributeService is one AttributeConsumingService.
type AttributeService struct {
	Index int `yaml:"index"`
	// Names are the ServiceName per language (it mandatory).
	Names map[string]string `yaml:"names"`
	// Attributes are attribute names of the profile (Profile.Attributes).
	Attributes []string `yaml:"attributes"`
}

// langs returns the keys of m with "it" first, then alphabetical, so output is stable.
func langs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i] == "it") != (out[j] == "it") {
			return out[i] == "it"
		}
		return out[i] < out[j]
	})
	return out
}

// BuildMetadata renders the SP metadata and signs it with the SP key: one SPSSODescriptor
// (AuthnRequestsSigned, WantAssertionsSigned, the signing certificate, SingleLogoutService on
// both bindings, transient NameIDFormat, one HTTP-POST AssertionConsumerService index="0"
// isDefault="true", the AttributeConsumingServices), md:Organization, then the profile's
// contacts (Profile.WriteContacts) with its namespaces declared on the root. The document ID
// is derived from the entityID and certificate, so the output is deterministic for a given
// configuration and time (golden-testable).
func BuildMetadata(prof *Profile, sp *Config, now time.Time) ([]byte, error) {
	for _, s := range sp.AttributeServices {
		for _, a := range s.Attributes {
			if !slices.Contains(prof.Attributes, a) {
				return nil, fmt.Errorf("metadata: %q is not an attribute of %s", a, prof.Name)
			}
		}
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", samlx.NSMetadata)
	ed.CreateAttr("xmlns:ds", samlx.NSDSig)
	for _, ns := range prof.MetadataNamespaces {
		ed.CreateAttr("xmlns:"+ns.Prefix, ns.URI)
	}
	sum := sha256.Sum256(append([]byte(sp.EntityID+"\x00"), sp.Keys.Cert.Raw...))
	ed.CreateAttr("ID", "_"+hex.EncodeToString(sum[:20]))
	ed.CreateAttr("entityID", sp.EntityID)
	if sp.MetadataValidity > 0 {
		ed.CreateAttr("validUntil", samlx.FormatTime(now.Add(sp.MetadataValidity)))
	}

	sso := ed.CreateElement("md:SPSSODescriptor")
	sso.CreateAttr("protocolSupportEnumeration", samlx.NSProtocol)
	sso.CreateAttr("AuthnRequestsSigned", "true")
	sso.CreateAttr("WantAssertionsSigned", "true")
	kd := sso.CreateElement("md:KeyDescriptor")
	kd.CreateAttr("use", "signing")
	kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").CreateElement("ds:X509Certificate").
		SetText(base64.StdEncoding.EncodeToString(sp.Keys.Cert.Raw))
	for _, b := range []string{samlx.BindingPOST, samlx.BindingRedirect} {
		slo := sso.CreateElement("md:SingleLogoutService")
		slo.CreateAttr("Binding", b)
		slo.CreateAttr("Location", sp.SLOURL)
	}
	sso.CreateElement("md:NameIDFormat").SetText(samlx.NameIDTransient)
	acs := sso.CreateElement("md:AssertionConsumerService")
	acs.CreateAttr("index", "0")
	acs.CreateAttr("isDefault", "true")
	acs.CreateAttr("Binding", samlx.BindingPOST)
	acs.CreateAttr("Location", sp.ACSURL)
	for _, s := range sp.AttributeServices {
		acsEl := sso.CreateElement("md:AttributeConsumingService")
		acsEl.CreateAttr("index", strconv.Itoa(s.Index))
		for _, l := range langs(s.Names) {
			n := acsEl.CreateElement("md:ServiceName")
			n.CreateAttr("xml:lang", l)
			n.SetText(s.Names[l])
		}
		for _, a := range s.Attributes {
			ra := acsEl.CreateElement("md:RequestedAttribute")
			ra.CreateAttr("Name", a)
			ra.CreateAttr("NameFormat", samlx.AttrNameBasic)
		}
	}

	org := ed.CreateElement("md:Organization")
	o := sp.Organization
	for _, part := range []struct {
		tag string
		m   map[string]string
	}{{"md:OrganizationName", o.Names}, {"md:OrganizationDisplayName", o.DisplayNames}, {"md:OrganizationURL", o.URLs}} {
		for _, l := range langs(part.m) {
			e := org.CreateElement(part.tag)
			e.CreateAttr("xml:lang", l)
			e.SetText(part.m[l])
		}
	}

	if prof.WriteContacts != nil {
		prof.WriteContacts(ed)
	}

	// Indent before signing: whitespace is part of what the signature covers.
	doc.Indent(2)
	if err := samlx.SignEnveloped(ed, sp.Keys); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	return b, nil
}
