// Package ocspext adds the OCSP nonce extension (RFC 8954) that golang.org/x/crypto/ocsp does
// not handle: it writes a nonce into a request, reads it back on the responder side, and finds
// it in a parsed response. Only ASN.1 structure is handled here; every signature is created and
// checked by golang.org/x/crypto/ocsp.
package ocspext

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"

	"golang.org/x/crypto/ocsp"
)

// OIDNonce is id-pkix-ocsp-nonce.
var OIDNonce = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 2}

type ocspRequest struct {
	TBSRequest        tbsRequest
	OptionalSignature asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

type tbsRequest struct {
	Version           int           `asn1:"explicit,tag:0,default:0,optional"`
	RequestorName     asn1.RawValue `asn1:"explicit,tag:1,optional"`
	RequestList       []asn1.RawValue
	RequestExtensions []pkix.Extension `asn1:"explicit,tag:2,optional"`
}

type responseData struct {
	Version            int `asn1:"optional,default:0,explicit,tag:0"`
	RawResponderID     asn1.RawValue
	ProducedAt         asn1.RawValue
	Responses          []asn1.RawValue
	ResponseExtensions []pkix.Extension `asn1:"explicit,tag:1,optional"`
}

// Request returns a DER OCSP request for cert (SHA-1 CertID, the one every responder
// understands) carrying nonce in its requestExtensions.
func Request(cert, issuer *x509.Certificate, nonce []byte) ([]byte, error) {
	der, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return nil, err
	}
	var req ocspRequest
	if rest, err := asn1.Unmarshal(der, &req); err != nil || len(rest) != 0 {
		return nil, errors.New("ocspext: cannot re-read request")
	}
	value, err := asn1.Marshal(nonce)
	if err != nil {
		return nil, err
	}
	req.TBSRequest.RequestExtensions = []pkix.Extension{{Id: OIDNonce, Value: value}}
	return asn1.Marshal(req)
}

// RequestNonce returns the nonce of a DER OCSP request, or nil when it carries none.
func RequestNonce(der []byte) ([]byte, error) {
	var req ocspRequest
	rest, err := asn1.Unmarshal(der, &req)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("ocspext: trailing data in request")
	}
	return nonceOf(req.TBSRequest.RequestExtensions)
}

// ResponseNonce returns the nonce of a parsed, signature-checked response: from its
// responseExtensions (RFC 6960) or, as golang.org/x/crypto/ocsp responders write it, from the
// single response's extensions. Both are covered by the response signature. It returns nil when
// the response carries no nonce.
func ResponseNonce(resp *ocsp.Response) ([]byte, error) {
	var data responseData
	if _, err := asn1.Unmarshal(resp.TBSResponseData, &data); err != nil {
		return nil, err
	}
	n, err := nonceOf(data.ResponseExtensions)
	if err != nil || n != nil {
		return n, err
	}
	return nonceOf(resp.Extensions)
}

func nonceOf(exts []pkix.Extension) ([]byte, error) {
	for _, e := range exts {
		if !e.Id.Equal(OIDNonce) {
			continue
		}
		var n []byte
		if rest, err := asn1.Unmarshal(e.Value, &n); err != nil || len(rest) != 0 {
			// Some responders put the raw nonce without the OCTET STRING wrapper.
			return e.Value, nil
		}
		return n, nil
	}
	return nil, nil
}
