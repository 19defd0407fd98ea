package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/inps/sportello/broker/verify"
)

// A downstream service verifies a token and reads who acts, for whom, and how strongly.
func ExampleVerifier_Verify() {
	issuer := newTestIssuer() // stands in for https://sportello.inps.example
	defer issuer.Close()
	ctx := context.Background()
	v, err := verify.New(ctx, verify.Options{Issuer: issuer.URL(), Audience: "inps-pensioni"})
	if err != nil {
		panic(err)
	}
	claims := issuer.claims("inps-pensioni", time.Now())
	claims["act"] = map[string]any{"sub": "sub-of-bianchi", "fiscal_number": "BNCLRA85M41F205C",
		"delegation": map[string]any{"id": "d-42", "type": "office_aa08"}}
	raw := issuer.sign("es-1", "at+jwt", claims)

	tok, err := v.Verify(ctx, raw)
	if err != nil {
		fmt.Println("refused:", err)
		return
	}
	fmt.Println("for:", tok.FiscalNumber)
	fmt.Println("level:", tok.Assurance.Level, tok.Assurance.Method, tok.Assurance.AMR)
	if d := tok.Delegation; d != nil {
		fmt.Println("acting:", d.Actor.FiscalNumber, "under", d.Type, d.ID, "no end:", d.ExpiresAt.IsZero())
	}
	// Output:
	// for: VRDGPP40C15L219U
	// level: 2 spid [pwd mfa]
	// acting: BNCLRA85M41F205C under office_aa08 d-42 no end: true
}

// Middleware protects a handler: level 2 or above, the token in the request context.
func ExampleMiddleware() {
	issuer := newTestIssuer()
	defer issuer.Close()
	v, err := verify.New(context.Background(), verify.Options{Issuer: issuer.URL(), Audience: "inps-pensioni"})
	if err != nil {
		panic(err)
	}
	pension := verify.Middleware(v, 2)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := verify.FromContext(r.Context())
		fmt.Fprintf(w, "pension of %s", tok.FiscalNumber)
	}))

	call := func(auth string) {
		r := httptest.NewRequest("GET", "/pensione", nil)
		if auth != "" {
			r.Header.Set("Authorization", "Bearer "+auth)
		}
		w := httptest.NewRecorder()
		pension.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
	}
	call("")
	call("forged.token.here")
	weak := issuer.claims("inps-pensioni", time.Now())
	weak["acr"] = verify.SpidL1
	call(issuer.sign("es-1", "at+jwt", weak))
	call(issuer.sign("es-1", "at+jwt", issuer.claims("inps-pensioni", time.Now())))
	// Output:
	// 401 Bearer realm="inps"
	// 401 Bearer error="invalid_token", error_description="invalid token"
	// 403 Bearer error="insufficient_user_authentication", error_description="level 2 required", acr_values="https://www.spid.gov.it/SpidL2"
	// 200
}

// A service behind mutual TLS accepts a certificate-bound token (RFC 8705) only over a
// connection with the certificate it was issued to.
func ExampleVerifier_VerifyWithCertificate() {
	issuer := newTestIssuer()
	defer issuer.Close()
	ctx := context.Background()
	v, err := verify.New(ctx, verify.Options{Issuer: issuer.URL(), Audience: "inps-pensioni"})
	if err != nil {
		panic(err)
	}
	cert := exampleCert()
	claims := issuer.claims("inps-pensioni", time.Now())
	sum := sha256.Sum256(cert.Raw)
	claims["cnf"] = map[string]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])}
	raw := issuer.sign("es-1", "at+jwt", claims)

	// In a handler: v.VerifyWithCertificate(r.Context(), raw, r.TLS.PeerCertificates[0]).
	if _, err := v.VerifyWithCertificate(ctx, raw, cert); err == nil {
		fmt.Println("accepted with its certificate")
	}
	if _, err := v.Verify(ctx, raw); errors.Is(err, verify.ErrCertificateRequired) {
		fmt.Println("refused as a bearer token")
	}
	// Output:
	// accepted with its certificate
	// refused as a bearer token
}

func exampleCert() *x509.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "portale"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	cert, _ := x509.ParseCertificate(der)
	return cert
}
