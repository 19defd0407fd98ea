package broker

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/inps/sportello/providers"
)

// mtlsURL is the public base URL of the mutual-TLS listener.
func (b *Broker) mtlsURL() string {
	if b.cfg.Listen.MTLSURL != "" {
		return strings.TrimRight(b.cfg.Listen.MTLSURL, "/")
	}
	return "https://" + b.cfg.Listen.MTLS
}

// mtlsEnabled says whether clients can reach the mutual-TLS listener: it is configured (or a
// proxy forwards client certificates to it).
func (b *Broker) mtlsEnabled() bool {
	return b.cfg.Listen.MTLS != "" || b.cfg.Listen.MTLSURL != ""
}

// MTLSHandler serves the mutual-TLS listener: /mtls/<provider>?step=<token>, and the aliases
// of the token, PAR, introspection, revocation and userinfo endpoints. The listener
// asks for any client certificate (no CA list in the handshake: the Italian trust list is far
// larger than browsers accept) and the provider validates the chain itself. The listener is
// another origin, which does not see the main origin's browser cookie: the browser comes
// with a one-time step token issued to the browser that started the login, and the identity
// goes back to the main origin through a one-time reference only that browser can redeem.
func (b *Broker) MTLSHandler() http.Handler {
	mux := http.NewServeMux()
	// No page is drawn on this origin: a refusal is handed back to the issuer origin (see
	// showOnIssuer), success goes to /login/done there.
	mux.Handle("/mtls/", b.withCommon(onMTLSOriginHandler(http.HandlerFunc(b.mtlsHTTP)), "mtls"))
	// The token-side endpoints' aliases (RFC 8705 §5, mtls_endpoint_aliases): the same
	// endpoints, which see the connection's client certificate here and nowhere else.
	b.oauth(mux, true)
	mux.Handle("/", b.withCommon(onMTLSOriginHandler(http.HandlerFunc(b.notFoundHTTP)), "not_found"))
	return mux
}

// mtlsStepTTL bounds a step token: time to insert the card and type its PIN.
const mtlsStepTTL = 10 * time.Minute

// mtlsStep is what a step token stands for (key "mtlsstep:<hash of the token>"): the pending
// login, the browser that started it, and the certificate provider it was issued for.
type mtlsStep struct {
	LoginID   string `json:"login_id"`
	BrowserID string `json:"bid"`
	Provider  string `json:"provider"`
}

// mtlsStepURL issues the step token for the browser of rec and returns the listener's URL.
// The pending login's id never appears on the other origin: knowing it is not enough there.
func (b *Broker) mtlsStepURL(ctx context.Context, rec *loginRecord, provID string) (string, error) {
	tok, err := randomToken(b.rand, 24)
	if err != nil {
		return "", err
	}
	step := mtlsStep{LoginID: rec.ID, BrowserID: rec.BrowserID, Provider: provID}
	if err := b.store.Put(ctx, mtlsStepKey(tok), mustMarshal(step), mtlsStepTTL); err != nil {
		return "", err
	}
	return b.mtlsURL() + "/mtls/" + url.PathEscape(provID) + "?step=" + url.QueryEscape(tok), nil
}

// mtlsHTTP is the certificate step. Everything is checked before anything is consumed: the
// step token, its provider, the browser (when the cookie reaches this listener, as on one
// host in dev mode), the pending login, the certificate; only then is the token taken, once.
func (b *Broker) mtlsHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	provID := strings.TrimPrefix(r.URL.Path, "/mtls/")
	p, ok := b.provByID[provID].(providers.CertificateAuthenticator)
	if !ok {
		b.errorPage(w, r, http.StatusNotFound, "login.unknown_idp", errors.New("unknown certificate provider"))
		return
	}
	key := mtlsStepKey(r.URL.Query().Get("step"))
	raw, err := b.store.Get(ctx, key)
	if err != nil {
		b.failPage(w, r, nil, storeLoginErr(err))
		return
	}
	var step mtlsStep
	if err := unmarshal(raw, &step); err != nil || step.Provider != provID {
		b.failPage(w, r, nil, providers.ErrLoginExpired)
		return
	}
	rec, err := b.getLogin(ctx, step.LoginID)
	if err != nil {
		b.failPage(w, r, nil, err)
		return
	}
	if bid := b.browserID(r); rec.BrowserID != step.BrowserID || (bid != "" && bid != step.BrowserID) {
		b.otherBrowser(w, r, rec, "mtls")
		return
	}
	chain, err := b.clientChain(r)
	if err != nil {
		b.failPage(w, r, rec, providers.Attempt(p.Info().Method, &providers.UserError{Code: "cert.missing", Err: errors.Join(providers.ErrCredentialRejected, err)}))
		return
	}
	id, err := p.AuthenticateCertificate(ctx, chain)
	if err != nil {
		b.failPage(w, r, rec, providers.Attempt(p.Info().Method, err))
		return
	}
	// One certificate per token: a leaked step URL is worth nothing once used.
	if _, err := b.store.Take(ctx, key); err != nil {
		b.failPage(w, r, nil, storeLoginErr(err))
		return
	}
	b.finish(w, r, rec.ID, step.BrowserID, id)
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
	return providers.ParseEscapedPEM(v)
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
