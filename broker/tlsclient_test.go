package broker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/inps/sportello/config"
)

// testCA is a generated certificate authority of the tests' client PKI.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTestCA(t testing.TB, cn string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"Test PKI"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key}
}

// issue signs a client certificate (clientAuth) for subject and the SANs of tmpl; a nil ca
// makes it self-signed.
func issue(t testing.TB, ca *testCA, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl.SerialNumber = serial
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	}
	if tmpl.ExtKeyUsage == nil {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func writePEM(t testing.TB, dir, name string, certs ...*x509.Certificate) string {
	t.Helper()
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mtlsPKI is the tests' client PKI: the clients' CA, another CA, and their certificates.
type mtlsPKI struct {
	ca, otherCA *testCA
	// client: CN=svc-mtls,O=INPS,C=IT with dNSName svc.example.it, from ca.
	client tls.Certificate
	// otherSubject: from ca, another subject; wrongCA: the client's subject from otherCA.
	otherSubject, wrongCA tls.Certificate
	// selfSigned is registered by the self-signed client; stranger is not.
	selfSigned, stranger tls.Certificate
}

func newMTLSPKI(t testing.TB) *mtlsPKI {
	p := &mtlsPKI{ca: newTestCA(t, "Client CA"), otherCA: newTestCA(t, "Other CA")}
	subject := pkix.Name{CommonName: "svc-mtls", Organization: []string{"INPS"}, Country: []string{"IT"}}
	p.client = issue(t, p.ca, &x509.Certificate{Subject: subject, DNSNames: []string{"svc.example.it"}})
	p.otherSubject = issue(t, p.ca, &x509.Certificate{Subject: pkix.Name{CommonName: "intruder", Organization: []string{"INPS"}, Country: []string{"IT"}},
		DNSNames: []string{"intruder.example.it"}})
	p.wrongCA = issue(t, p.otherCA, &x509.Certificate{Subject: subject, DNSNames: []string{"svc.example.it"}})
	p.selfSigned = issue(t, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "svc-self"}})
	p.stranger = issue(t, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "svc-self"}})
	return p
}

// withMTLSClients registers the RFC 8705 test clients: svc-mtls (tls_client_auth by subject
// DN, certificate-bound tokens), svc-san (tls_client_auth by dNSName), svc-self
// (self_signed_tls_client_auth, its certificate pinned) and svc-jwks (self-signed, its
// certificate as x5c of its JWKS).
func withMTLSClients(t testing.TB, p *mtlsPKI) brokerOpt {
	dir := t.TempDir()
	caFile := writePEM(t, dir, "ca.pem", p.ca.cert)
	pinned := writePEM(t, dir, "self.pem", p.selfSigned.Leaf)
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: p.selfSigned.Leaf.PublicKey, Certificates: []*x509.Certificate{p.selfSigned.Leaf}}}})
	if err != nil {
		t.Fatal(err)
	}
	jwksFile := filepath.Join(dir, "jwks.json")
	if err := os.WriteFile(jwksFile, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	svc := func(id, method string) config.Client {
		return config.Client{ID: id, AuthMethod: method, GrantTypes: []string{config.GrantClientCredentials}, Scopes: []string{"inps:services"}, Introspect: true}
	}
	bound := true
	return func(c *config.Config) {
		a := svc("svc-mtls", config.AuthTLSClient)
		a.TLSClientAuthCAFile, a.TLSClientAuthSubjectDN, a.TLSClientCertificateBoundAccessTokens = caFile, "CN=svc-mtls,O=INPS,C=IT", &bound
		b := svc("svc-san", config.AuthTLSClient)
		b.TLSClientAuthCAFile, b.TLSClientAuthSANDNS = caFile, "svc.example.it"
		s := svc("svc-self", config.AuthSelfSignedTLSClient)
		s.TLSClientCertificateFile = pinned
		j := svc("svc-jwks", config.AuthSelfSignedTLSClient)
		j.JWKSFile = jwksFile
		c.Clients = append(c.Clients, a, b, s, j)
	}
}

// mtlsListener serves the broker's mutual-TLS handler over real TLS that asks for any client
// certificate, as serve's listener does, and returns its URL.
func mtlsListener(t testing.TB, tb *testBroker) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(tb.MTLSHandler())
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// mtlsClient is an HTTP client of the listener presenting cert (none when cert is nil).
func mtlsClient(cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{InsecureSkipVerify: true} // the test listener's own certificate
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg,
		DialContext: (&net.Dialer{}).DialContext}}
}

// postWith posts form to endpoint with the client and returns status and decoded body.
func postWith(t testing.TB, c *http.Client, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(body, &out)
	return resp.StatusCode, out
}

// TestMutualTLSClientAuthentication: RFC 8705 §2 over real handshakes — a certificate that
// chains to the client's CA with its registered subject authenticates it; any other, none, or
// the main listener is invalid_client.
func TestMutualTLSClientAuthentication(t *testing.T) {
	pki := newMTLSPKI(t)
	tb := newTestBroker(t, memStore(t), withMTLSClients(t, pki))
	mtls := mtlsListener(t, tb)
	cc := func(id string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}}
	}
	tests := []struct {
		name   string
		url    string
		client string
		cert   *tls.Certificate
		ok     bool
	}{
		{"a certificate of the client's CA with its subject DN authenticates it", mtls, "svc-mtls", &pki.client, true},
		{"a certificate with the registered dNSName authenticates it", mtls, "svc-san", &pki.client, true},
		{"a certificate of another CA is refused", mtls, "svc-mtls", &pki.wrongCA, false},
		{"another CA with the registered dNSName is refused", mtls, "svc-san", &pki.wrongCA, false},
		{"a certificate of the CA with another subject is refused", mtls, "svc-mtls", &pki.otherSubject, false},
		{"a certificate of the CA with another dNSName is refused", mtls, "svc-san", &pki.otherSubject, false},
		{"no certificate is refused", mtls, "svc-mtls", nil, false},
		{"the registered self-signed certificate authenticates its client", mtls, "svc-self", &pki.selfSigned, true},
		{"the x5c certificate of the client's JWKS authenticates it", mtls, "svc-jwks", &pki.selfSigned, true},
		{"a self-signed certificate not registered is refused", mtls, "svc-self", &pki.stranger, false},
		{"a self-signed certificate not in the JWKS is refused", mtls, "svc-jwks", &pki.stranger, false},
		{"a CA-issued certificate is not a self-signed client's", mtls, "svc-self", &pki.client, false},
		{"a self-signed certificate is not a PKI client's", mtls, "svc-mtls", &pki.selfSigned, false},
		{"the main listener has no client certificate", tb.URL, "svc-mtls", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, out := postWith(t, mtlsClient(tt.cert), tt.url+pathToken, cc(tt.client))
			if tt.ok {
				if st != http.StatusOK || out["access_token"] == nil {
					t.Fatalf("got %d %v", st, out)
				}
				return
			}
			if st != http.StatusUnauthorized || out["error"] != "invalid_client" {
				t.Fatalf("got %d %v, want 401 invalid_client", st, out)
			}
		})
	}
	t.Run("a certificate does not replace a secret client's secret", func(t *testing.T) {
		st, out := postWith(t, mtlsClient(&pki.client), mtls+pathToken, cc("demo-service"))
		if st != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("a secret beside the certificate is refused", func(t *testing.T) {
		f := cc("svc-mtls")
		f.Set("client_secret", "x")
		st, out := postWith(t, mtlsClient(&pki.client), mtls+pathToken, f)
		if st != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("an expired certificate of the CA is refused", func(t *testing.T) {
		old := issue(t, pki.ca, &x509.Certificate{Subject: pki.client.Leaf.Subject, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
		st, out := postWith(t, mtlsClient(&old), mtls+pathToken, cc("svc-mtls"))
		if st != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("a certificate of the CA without the clientAuth usage is refused", func(t *testing.T) {
		srv := issue(t, pki.ca, &x509.Certificate{Subject: pki.client.Leaf.Subject, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		st, out := postWith(t, mtlsClient(&srv), mtls+pathToken, cc("svc-mtls"))
		if st != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("got %d %v", st, out)
		}
	})
	t.Run("introspection and revocation authenticate by certificate too", func(t *testing.T) {
		c := mtlsClient(&pki.client)
		_, tok := postWith(t, c, mtls+pathToken, cc("svc-mtls"))
		st, out := postWith(t, c, mtls+pathIntrospect, url.Values{"client_id": {"svc-mtls"}, "token": {tok["access_token"].(string)}})
		if st != http.StatusOK || out["active"] != true {
			t.Fatalf("introspection: %d %v", st, out)
		}
		st, out = postWith(t, mtlsClient(&pki.wrongCA), mtls+pathIntrospect, url.Values{"client_id": {"svc-mtls"}, "token": {tok["access_token"].(string)}})
		if st != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("introspection with the wrong certificate: %d %v", st, out)
		}
		if st, out := postWith(t, c, mtls+pathRevoke, url.Values{"client_id": {"svc-mtls"}, "token": {tok["access_token"].(string)}}); st != http.StatusOK {
			t.Fatalf("revocation: %d %v", st, out)
		}
	})
}

// The proxy header is a client certificate only from a trusted proxy (as for CIE/CNS).
func TestMutualTLSClientAuthBehindProxy(t *testing.T) {
	pki := newMTLSPKI(t)
	tb := newTestBroker(t, memStore(t), withMTLSClients(t, pki), func(c *config.Config) {
		c.Listen.ClientCertHeader = "X-Client-Cert"
		c.Listen.TrustedProxies = []string{"10.1.2.3"}
	})
	h := tb.MTLSHandler()
	hdr := url.QueryEscape(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.client.Leaf.Raw})))
	for _, tt := range []struct {
		name, remote string
		want         int
	}{
		{"from the trusted proxy", "10.1.2.3:4000", http.StatusOK},
		{"from anyone else", "10.9.9.9:4000", http.StatusUnauthorized},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, pathToken, strings.NewReader("grant_type=client_credentials&client_id=svc-mtls"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Client-Cert", hdr)
			req.RemoteAddr = tt.remote
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("got %d %s", rec.Code, rec.Body)
			}
		})
	}
}

func TestSubjectAttributeMatching(t *testing.T) {
	u, _ := url.Parse("https://svc.example.it/id")
	c := &x509.Certificate{Subject: pkix.Name{CommonName: "svc", Organization: []string{"INPS"}, Country: []string{"IT"}},
		DNSNames: []string{"a.example.it"}, EmailAddresses: []string{"svc@example.it"}, URIs: []*url.URL{u},
		IPAddresses: []net.IP{net.ParseIP("::1"), net.ParseIP("10.0.0.1")}}
	for _, tt := range []struct {
		kind, value string
		want        bool
	}{
		{"subject_dn", "CN=svc,O=INPS,C=IT", true},
		{"subject_dn", "C=IT,O=INPS,CN=svc", false},
		{"subject_dn", "CN=svc", false},
		{"san_dns", "a.example.it", true},
		{"san_dns", "b.example.it", false},
		{"san_dns", "A.example.it", false},
		{"san_email", "svc@example.it", true},
		{"san_email", "other@example.it", false},
		{"san_uri", "https://svc.example.it/id", true},
		{"san_uri", "https://svc.example.it/", false},
		{"san_ip", "0:0:0:0:0:0:0:1", true},
		{"san_ip", "10.0.0.1", true},
		{"san_ip", "10.0.0.2", false},
		{"san_ip", "not an address", false},
		{"unknown", "svc", false},
	} {
		if got := subjectMatches(c, tt.kind, tt.value); got != tt.want {
			t.Errorf("%s %q: %v, want %v", tt.kind, tt.value, got, tt.want)
		}
	}
}

// Discovery names the mutual-TLS aliases and methods and the binding (RFC 8705 §3.3, §5).
func TestDiscoveryAdvertisesMutualTLS(t *testing.T) {
	tb := newTestBroker(t, memStore(t))
	resp, err := http.Get(tb.URL + pathDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d["tls_client_certificate_bound_access_tokens"] != true {
		t.Errorf("tls_client_certificate_bound_access_tokens: %v", d["tls_client_certificate_bound_access_tokens"])
	}
	aliases, _ := d["mtls_endpoint_aliases"].(map[string]any)
	for _, k := range []string{"token_endpoint", "pushed_authorization_request_endpoint", "introspection_endpoint", "revocation_endpoint", "userinfo_endpoint"} {
		if v, _ := aliases[k].(string); !strings.HasPrefix(v, tb.mtlsURL()+"/") {
			t.Errorf("mtls_endpoint_aliases.%s = %v", k, aliases[k])
		}
	}
	for _, k := range []string{"token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported"} {
		got, _ := json.Marshal(d[k])
		if !strings.Contains(string(got), `"tls_client_auth"`) || !strings.Contains(string(got), `"self_signed_tls_client_auth"`) {
			t.Errorf("%s = %s", k, got)
		}
	}
}
