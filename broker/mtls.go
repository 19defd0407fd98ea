package broker

import (
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/inps/sportello/broker/ui"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/x509auth"
)

// mtlsURL is the public base URL of the mutual-TLS listener.
func (b *Broker) mtlsURL() string {
	if b.cfg.Listen.MTLSURL != "" {
		return strings.TrimRight(b.cfg.Listen.MTLSURL, "/")
	}
	return "https://" + b.cfg.Listen.MTLS
}

// MTLSHandler serves the mutual-TLS listener: /mtls/<provider>?login=<id>. The listener asks
// for any client certificate (no CA list in the handshake: the Italian trust list is far
// larger than browsers accept) and the provider validates the chain itself. The identity goes
// back to the main origin through Finish: a one-time reference the browser cannot forge.
func (b *Broker) MTLSHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/mtls/", b.withCommon(http.HandlerFunc(b.mtlsHTTP), "mtls"))
	// The pages shown on this origin (certificate refused, ...) need the stylesheets too.
	mux.Handle(ui.StaticPrefix, b.withCommon(ui.Static(), "static"))
	return mux
}

func (b *Broker) mtlsHTTP(w http.ResponseWriter, r *http.Request) {
	provID := strings.TrimPrefix(r.URL.Path, "/mtls/")
	p, ok := b.provByID[provID].(providers.CertificateAuthenticator)
	if !ok {
		b.errorPage(w, r, http.StatusNotFound, "login.unknown_idp", errors.New("unknown certificate provider"))
		return
	}
	loginID := r.URL.Query().Get("login")
	rec, err := b.getLogin(r.Context(), loginID)
	if err != nil {
		b.failPage(w, r, nil, err)
		return
	}
	chain, err := b.clientChain(r)
	if err != nil {
		b.failPage(w, r, rec, &providers.UserError{Code: "cert.missing", Err: errors.Join(providers.ErrCredentialRejected, err)})
		return
	}
	id, err := p.AuthenticateCertificate(r.Context(), chain)
	if err != nil {
		b.failPage(w, r, rec, err)
		return
	}
	b.finish(w, r, rec.ID, id)
}

// clientChain returns the client certificate chain: from the TLS handshake, or — behind a
// reverse proxy that terminates TLS — from the configured header, accepted only from a
// trusted proxy address and then fully re-validated by the provider like any other.
func (b *Broker) clientChain(r *http.Request) ([]*x509.Certificate, error) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return r.TLS.PeerCertificates, nil
	}
	hdr := b.cfg.Listen.ClientCertHeader
	if hdr == "" || !b.trustedProxy(r.RemoteAddr) {
		return nil, errors.New("no client certificate presented")
	}
	v := r.Header.Get(hdr)
	if v == "" {
		return nil, errors.New("no client certificate in the proxy header")
	}
	// The same parser the fuzz target covers: URL-decoding that keeps a literal "+" (a base64
	// character some proxies leave unescaped), size-bounded, certificates only.
	return x509auth.ParseEscapedPEM(v)
}

func (b *Broker) trustedProxy(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	for _, p := range b.cfg.Listen.TrustedProxies {
		if pfx, err := netip.ParsePrefix(p); err == nil && pfx.Contains(addr.Unmap()) {
			return true
		}
		if a, err := netip.ParseAddr(p); err == nil && a == addr.Unmap() {
			return true
		}
	}
	return false
}
