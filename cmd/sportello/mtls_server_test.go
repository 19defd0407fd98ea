package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
)

// Each certificate login shows its own handshake: the mTLS listener neither resumes TLS
// sessions nor keeps connections alive, so a second request from the same client — even one
// holding a session ticket and an idle connection — proves possession of the card again.
func TestMTLSServerHandshakePerLogin(t *testing.T) {
	serverCert, err := tls.LoadX509KeyPair("../../testdata/pki/server.crt", "../../testdata/pki/server.key")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var newConns, resumed, withCert int
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.TLS.DidResume {
			resumed++
		}
		if len(r.TLS.PeerCertificates) > 0 {
			withCert++
		}
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	})
	srv := newMTLSServer("127.0.0.1:0", h, &serverCert, slog.New(slog.DiscardHandler))
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			newConns++
			mu.Unlock()
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })

	ca, err := os.ReadFile("../../testdata/pki/server-ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	card, err := tls.LoadX509KeyPair("../../testdata/pki/mario-rossi-cie.crt", "../../testdata/pki/mario-rossi-cie.key")
	if err != nil {
		t.Fatal(err)
	}
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		mu.Lock()
		newConns, resumed, withCert = 0, 0, 0
		mu.Unlock()
		// A client that would resume and reuse connections if the server let it.
		var caLists [][][]byte
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "localhost",
			MinVersion: version, MaxVersion: version, ClientSessionCache: tls.NewLRUClientSessionCache(8),
			GetClientCertificate: func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
				mu.Lock()
				caLists = append(caLists, cri.AcceptableCAs)
				mu.Unlock()
				return &card, nil
			}}}
		c := &http.Client{Transport: tr}
		for range 3 {
			resp, err := c.Get("https://" + ln.Addr().String() + "/mtls/cie")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		tr.CloseIdleConnections()
		mu.Lock()
		// The handshake names no CA: the Italian trust list is far larger than browsers accept.
		for _, cas := range caLists {
			if len(cas) != 0 {
				t.Errorf("TLS %x: the certificate request names %d CAs, want none", version, len(cas))
			}
		}
		if len(caLists) != 3 {
			t.Errorf("TLS %x: %d certificate requests for 3 logins", version, len(caLists))
		}
		if newConns != 3 || resumed != 0 || withCert != 3 {
			t.Errorf("TLS %x: %d connections for 3 logins, %d resumed sessions, %d with the card; want 3, 0, 3",
				version, newConns, resumed, withCert)
		}
		mu.Unlock()
	}
}
