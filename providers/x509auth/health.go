package x509auth

import (
	"crypto/x509"
	"slices"
	"sync"
	"time"
)

// maxSourcesPerCA bounds the CRL URLs and OCSP responders remembered for one CA (they come
// from certificates the CA signed, after path validation; the bound is defence in depth).
const maxSourcesPerCA = 16

// CRLHealth is what the revocation checks saw of one CRL of a CA.
type CRLHealth struct {
	// URL is the distribution point, as fetched (after Revocation.URLRewrite).
	URL string
	// LastFetch is the last download attempt; LastSuccess the last one that gave a CRL that
	// verified; NextUpdate that CRL's nextUpdate (zero when it has none).
	LastFetch, LastSuccess, NextUpdate time.Time
	// LastError is the last attempt's failure ("" when it succeeded).
	LastError string
}

// Stale reports whether the CRL in use is past its nextUpdate at now, or its last download
// failed: the checks then fall back on OCSP or refuse (Revocation.OnUnreachable).
func (h CRLHealth) Stale(now time.Time) bool {
	return h.LastError != "" || (!h.NextUpdate.IsZero() && now.After(h.NextUpdate))
}

// OCSPHealth is what the revocation checks saw of one OCSP responder for a CA's certificates.
type OCSPHealth struct {
	URL string
	// LastSuccess is the last signed, fresh answer; LastFailure the last exchange that gave
	// none, LastError why.
	LastSuccess, LastFailure time.Time
	LastError                string
}

// AuthorityHealth is one certification authority the Validator trusts (an anchor or a
// configured intermediate) and the state of its revocation sources, for the operators'
// console. Sources appear once a certificate the CA issued was checked.
type AuthorityHealth struct {
	Cert   *x509.Certificate
	Anchor bool
	CRLs   []CRLHealth
	OCSP   []OCSPHealth
}

// health records the outcome of every CRL download and OCSP exchange, by issuer. It only
// observes: no decision reads it.
type health struct {
	mu   sync.Mutex
	crl  map[string][]*CRLHealth  // certKey(issuer) → sources
	ocsp map[string][]*OCSPHealth // certKey(issuer) → responders
}

func newHealth() *health {
	return &health{crl: map[string][]*CRLHealth{}, ocsp: map[string][]*OCSPHealth{}}
}

func (h *health) crlLoaded(issuer *x509.Certificate, url string, at time.Time, entry *crlEntry, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := certKey(issuer)
	i := slices.IndexFunc(h.crl[k], func(c *CRLHealth) bool { return c.URL == url })
	if i < 0 {
		if len(h.crl[k]) >= maxSourcesPerCA {
			return
		}
		h.crl[k] = append(h.crl[k], &CRLHealth{URL: url})
		i = len(h.crl[k]) - 1
	}
	c := h.crl[k][i]
	c.LastFetch = at
	if err != nil {
		c.LastError = err.Error()
		return
	}
	c.LastSuccess, c.NextUpdate, c.LastError = at, entry.nextUpdate, ""
}

func (h *health) ocspAnswered(issuer *x509.Certificate, url string, at time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := certKey(issuer)
	i := slices.IndexFunc(h.ocsp[k], func(o *OCSPHealth) bool { return o.URL == url })
	if i < 0 {
		if len(h.ocsp[k]) >= maxSourcesPerCA {
			return
		}
		h.ocsp[k] = append(h.ocsp[k], &OCSPHealth{URL: url})
		i = len(h.ocsp[k]) - 1
	}
	o := h.ocsp[k][i]
	if err != nil {
		o.LastFailure, o.LastError = at, err.Error()
		return
	}
	o.LastSuccess, o.LastError = at, ""
}

// Authorities returns every CA the Validator trusts, anchors first, with the revocation
// sources seen for the certificates each issued.
func (v *Validator) Authorities() []AuthorityHealth {
	h := v.rev.health
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []AuthorityHealth
	add := func(c *x509.Certificate, anchor bool) {
		a := AuthorityHealth{Cert: c, Anchor: anchor}
		for _, s := range h.crl[certKey(c)] {
			a.CRLs = append(a.CRLs, *s)
		}
		for _, s := range h.ocsp[certKey(c)] {
			a.OCSP = append(a.OCSP, *s)
		}
		out = append(out, a)
	}
	for _, c := range v.p.Anchors {
		add(c, true)
	}
	for _, c := range v.p.Intermediates {
		add(c, false)
	}
	return out
}
