package samlx

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
)

var keyInfoNow = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// signedDoc is a small document signed by kp with the KeyInfo shape s.
func signedDoc(t testing.TB, kp *KeyPair, s KeyInfoShape) *etree.Element {
	t.Helper()
	el := etree.NewElement("x:Doc")
	el.CreateAttr("xmlns:x", "urn:x")
	el.CreateAttr("ID", "_d1")
	el.CreateElement("x:Issuer").SetText("me")
	el.CreateElement("x:Body").SetText("hello")
	if err := SignEnveloped(el, kp, WithKeyInfo(s)); err != nil {
		t.Fatal(err)
	}
	return el
}

func b64(c *x509.Certificate) string { return base64.StdEncoding.EncodeToString(c.Raw) }

// keyInfo returns the signature's KeyInfo, creating an empty one when the shape has none.
func keyInfo(el *etree.Element) *etree.Element {
	sig := el.SelectElement("Signature")
	if ki := sig.SelectElement("KeyInfo"); ki != nil {
		return ki
	}
	return sig.CreateElement("ds:KeyInfo")
}

// setKeyInfo replaces the KeyInfo children with the given XML fragment (ds: prefix bound).
func setKeyInfo(t testing.TB, el *etree.Element, inner string) {
	t.Helper()
	ki := keyInfo(el)
	for _, c := range ki.ChildElements() {
		ki.RemoveChild(c)
	}
	frag := etree.NewDocument()
	if err := frag.ReadFromString(`<w xmlns:ds="` + NSDSig + `">` + inner + `</w>`); err != nil {
		t.Fatal(err)
	}
	for _, c := range frag.Root().ChildElements() {
		ki.AddChild(c)
	}
}

// TestKeyInfoNeverDecidesTheKey: whatever KeyInfo holds, the signature verifies with the
// metadata keys only; a certificate in KeyInfo must be one of them, and anything KeyInfo carries
// that cannot be compared with them is refused. Each row asserts its own error class.
func TestKeyInfoNeverDecidesTheKey(t *testing.T) {
	demo, test, evil := keys(t, "dev-idp-demo"), keys(t, "dev-idp-test"), keys(t, "attacker")
	wrapped := b64(demo.Cert)
	var sb strings.Builder
	for i := 0; i < len(wrapped); i += 64 {
		sb.WriteString("\n    " + wrapped[i:min(i+64, len(wrapped))])
	}
	wrapped = sb.String() + "\n  "
	rows := []struct {
		name    string
		signer  *KeyPair
		shape   KeyInfoShape
		keyInfo string // replaces the KeyInfo children when not empty
		edit    func(t testing.TB, el *etree.Element)
		trusted []*x509.Certificate
		at      time.Time
		want    error // nil: verifies
	}{
		{name: "certificate of the metadata", signer: demo, shape: KeyInfoCertificate},
		{name: "empty X509Certificate (AgID's validator)", signer: demo, shape: KeyInfoEmptyCertificate},
		{name: "no KeyInfo", signer: demo, shape: KeyInfoNone},
		{name: "empty KeyInfo element", signer: demo, shape: KeyInfoNone, edit: func(t testing.TB, el *etree.Element) { keyInfo(el) }},
		{name: "empty X509Data", signer: demo, keyInfo: `<ds:X509Data/>`},
		{name: "base64 wrapped with whitespace", signer: demo, keyInfo: `<ds:X509Data><ds:X509Certificate>` + wrapped + `</ds:X509Certificate></ds:X509Data>`},
		{name: "KeyName beside the certificate is a label", signer: demo, keyInfo: `<ds:KeyName>demo</ds:KeyName><ds:X509Data><ds:X509Certificate>` + b64(demo.Cert) + `</ds:X509Certificate></ds:X509Data>`},
		{name: "X509IssuerSerial and X509SubjectName are labels", signer: demo, keyInfo: `<ds:X509Data><ds:X509SubjectName>CN=x</ds:X509SubjectName><ds:X509IssuerSerial><ds:X509IssuerName>CN=x</ds:X509IssuerName><ds:X509SerialNumber>1</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data>`},
		{name: "two certificates, both in the metadata", signer: demo, trusted: []*x509.Certificate{test.Cert, demo.Cert},
			keyInfo: `<ds:X509Data><ds:X509Certificate>` + b64(test.Cert) + `</ds:X509Certificate><ds:X509Certificate>` + b64(demo.Cert) + `</ds:X509Certificate></ds:X509Data>`},
		{name: "rollover: two metadata keys, no KeyInfo", signer: demo, shape: KeyInfoNone, trusted: []*x509.Certificate{evil.Cert, demo.Cert}},

		{name: "certificate not in the metadata", signer: demo, keyInfo: `<ds:X509Data><ds:X509Certificate>` + b64(evil.Cert) + `</ds:X509Certificate></ds:X509Data>`, want: ErrKeyInfoUntrusted},
		{name: "signed by another key that KeyInfo carries", signer: evil, shape: KeyInfoCertificate, want: ErrKeyInfoUntrusted},
		{name: "second certificate not in the metadata", signer: demo, keyInfo: `<ds:X509Data><ds:X509Certificate>` + b64(demo.Cert) + `</ds:X509Certificate></ds:X509Data><ds:X509Data><ds:X509Certificate>` + b64(evil.Cert) + `</ds:X509Certificate></ds:X509Data>`, want: ErrKeyInfoUntrusted},
		{name: "signed by another key, KeyInfo naming the metadata certificate", signer: evil, keyInfo: `<ds:X509Data><ds:X509Certificate>` + b64(demo.Cert) + `</ds:X509Certificate></ds:X509Data>`, want: ErrSignatureInvalid},
		{name: "signed by another key, empty X509Certificate", signer: evil, shape: KeyInfoEmptyCertificate, want: ErrSignatureInvalid},
		{name: "signed by another key, no KeyInfo", signer: evil, shape: KeyInfoNone, want: ErrSignatureInvalid},
		{name: "KeyInfo names the other metadata key: only that one is tried", signer: demo, trusted: []*x509.Certificate{demo.Cert, test.Cert},
			keyInfo: `<ds:X509Data><ds:X509Certificate>` + b64(test.Cert) + `</ds:X509Certificate></ds:X509Data>`, want: ErrSignatureInvalid},
		{name: "content changed, empty X509Certificate", signer: demo, shape: KeyInfoEmptyCertificate,
			edit: func(t testing.TB, el *etree.Element) { el.SelectElement("Body").SetText("evil") }, want: ErrSignatureInvalid},
		{name: "content changed, no KeyInfo", signer: demo, shape: KeyInfoNone,
			edit: func(t testing.TB, el *etree.Element) { el.SelectElement("Body").SetText("evil") }, want: ErrSignatureInvalid},
		{name: "certificate not base64", signer: demo, keyInfo: `<ds:X509Data><ds:X509Certificate>MII*not-base64*</ds:X509Certificate></ds:X509Data>`, want: ErrKeyInfoMalformed},
		{name: "certificate truncated base64", signer: demo, keyInfo: `<ds:X509Data><ds:X509Certificate>` + b64(demo.Cert)[:101] + `</ds:X509Certificate></ds:X509Data>`, want: ErrKeyInfoMalformed},
		{name: "certificate holding an element", signer: demo, keyInfo: `<ds:X509Data><ds:X509Certificate><ds:X509Certificate>` + b64(demo.Cert) + `</ds:X509Certificate></ds:X509Certificate></ds:X509Data>`, want: ErrKeyInfoMalformed},
		{name: "KeyValue is key material we do not compare", signer: demo, keyInfo: `<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB</ds:Modulus><ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>`, want: ErrKeyInfoMalformed},
		{name: "RetrievalMethod", signer: demo, keyInfo: `<ds:RetrievalMethod URI="https://evil.example/key"/>`, want: ErrKeyInfoMalformed},
		{name: "X509CRL", signer: demo, keyInfo: `<ds:X509Data><ds:X509CRL>AAAA</ds:X509CRL></ds:X509Data>`, want: ErrKeyInfoMalformed},
		{name: "element of another namespace in KeyInfo", signer: demo, keyInfo: `<y:Key xmlns:y="urn:y">k</y:Key>`, want: ErrKeyInfoMalformed},
		{name: "two KeyInfo", signer: demo, shape: KeyInfoEmptyCertificate, edit: func(t testing.TB, el *etree.Element) {
			sig := el.SelectElement("Signature")
			sig.AddChild(sig.SelectElement("KeyInfo").Copy())
		}, want: ErrSignatureShape},
		{name: "metadata certificate expired", signer: demo, shape: KeyInfoEmptyCertificate, at: keyInfoNow.AddDate(30, 0, 0), want: ErrKeyExpired},
		{name: "no metadata certificate", signer: demo, trusted: []*x509.Certificate{}, want: ErrNoTrustedKey},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			el := signedDoc(t, r.signer, r.shape)
			if r.keyInfo != "" {
				setKeyInfo(t, el, r.keyInfo)
			}
			if r.edit != nil {
				r.edit(t, el)
			}
			// Verify what the SP receives: the serialized document, parsed again.
			doc := etree.NewDocument()
			doc.SetRoot(el)
			raw, err := doc.WriteToBytes()
			if err != nil {
				t.Fatal(err)
			}
			if err := doc.ReadFromBytes(raw); err != nil {
				t.Fatal(err)
			}
			trusted := r.trusted
			if trusted == nil {
				trusted = []*x509.Certificate{demo.Cert}
			}
			at := r.at
			if at.IsZero() {
				at = keyInfoNow
			}
			out, err := VerifyEnveloped(doc.Root(), trusted, at)
			if r.want == nil {
				if err != nil || out.SelectElement("Body").Text() != "hello" {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, r.want) {
				t.Fatalf("error %v, want %v", err, r.want)
			}
		})
	}
}

func TestSignEnvelopedKeyInfoShapes(t *testing.T) {
	kp := keys(t, "dev-idp-demo")
	for _, s := range KeyInfoShapes {
		doc := etree.NewDocument()
		doc.SetRoot(signedDoc(t, kp, s))
		x, _ := doc.WriteToString()
		var want string
		switch s {
		case KeyInfoCertificate:
			want = "<ds:X509Certificate>" + b64(kp.Cert) + "</ds:X509Certificate>"
		case KeyInfoEmptyCertificate:
			want = "<ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>"
		case KeyInfoNone:
			if strings.Contains(x, "KeyInfo") {
				t.Fatalf("%s: KeyInfo present:\n%s", s, x)
			}
			continue
		}
		if !strings.Contains(x, want) {
			t.Fatalf("%s: no %s in\n%s", s, want, x)
		}
	}
}

// FuzzVerifyEnveloped: arbitrary documents never panic the verifier, and whatever verifies
// yields exactly the content that was signed.
func FuzzVerifyEnveloped(f *testing.F) {
	kp := keys(f, "dev-idp-demo")
	certs := []*x509.Certificate{kp.Cert}
	var want string
	for _, s := range KeyInfoShapes {
		doc := etree.NewDocument()
		doc.SetRoot(signedDoc(f, kp, s))
		b, _ := doc.WriteToBytes()
		f.Add(b)
		out, err := VerifyEnveloped(doc.Root(), certs, keyInfoNow)
		if err != nil {
			f.Fatal(err)
		}
		d := etree.NewDocument()
		d.SetRoot(out)
		want, _ = d.WriteToString()
	}
	f.Add([]byte(`<x:Doc xmlns:x="urn:x" ID="_d1"><ds:Signature xmlns:ds="` + NSDSig + `"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>!!</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature></x:Doc>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc := etree.NewDocument()
		if doc.ReadFromBytes(b) != nil || doc.Root() == nil {
			return
		}
		out, err := VerifyEnveloped(doc.Root(), certs, keyInfoNow)
		if err != nil {
			return
		}
		d := etree.NewDocument()
		d.SetRoot(out)
		if got, _ := d.WriteToString(); got != want {
			t.Fatalf("verified other content:\n%s\nwant\n%s", got, want)
		}
	})
}
