package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/inps/sportello/broker/console"
	"github.com/inps/sportello/internal/loginstats"
	"github.com/inps/sportello/internal/switches"
	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/oidcfed"
	"github.com/inps/sportello/providers/saml"
	"github.com/inps/sportello/providers/x509auth"
)

// samlFederation is a provider whose identity providers come from SAML metadata (SPID,
// CIE ID, eIDAS).
type samlFederation interface {
	Registry() *saml.Registry
}

// federationOPs is an OpenID Connect Federation provider and its OpenID Providers.
type federationOPs interface {
	OPs() []oidcfed.OPState
}

// opEntries lists each OP as an entry of kind idp, id its entity id (the idp= hint, which
// its switch matches), with the state of its trust chain as the metadata.
func opEntries(ops []oidcfed.OPState, info providers.Info) []console.Provider {
	out := make([]console.Provider, 0, len(ops))
	for _, op := range ops {
		e := console.Provider{Kind: switches.KindIdP, ID: op.EntityID, Name: op.Name, Type: info.Method, Parent: info.ID,
			Metadata: &console.Metadata{Source: strings.TrimRight(op.EntityID, "/") + oidcfed.WellKnown, SourceType: "url",
				LastRefresh: timePtr(op.LastResolved), LastAttempt: timePtr(op.LastAttempt), Stale: op.LastError != "" && op.Offered},
			LastError: op.LastError}
		if !op.Offered && e.LastError == "" {
			e.LastError = "no valid trust chain: not offered"
		}
		out = append(out, e)
	}
	return out
}

// certificateAuthorities is a certificate login (CIE, CNS) and the CAs it trusts.
type certificateAuthorities interface {
	Authorities() []x509auth.AuthorityHealth
}

// authorityEntries lists each trusted CA as an entry of kind idp, id its certificate's
// SHA-256, with the health of its revocation sources; LastError is the first source failing.
func authorityEntries(as []x509auth.AuthorityHealth, info providers.Info, now time.Time) []console.Provider {
	out := make([]console.Provider, 0, len(as))
	for _, a := range as {
		cs := certSummary(a.Cert)
		name := a.Cert.Subject.CommonName
		if name == "" {
			name = a.Cert.Subject.String()
		}
		e := console.Provider{Kind: switches.KindIdP, ID: x509auth.AuthorityID(a.Cert), Name: name, Type: info.Method, Parent: info.ID,
			Certificates: []console.Certificate{cs}, Revocation: &console.Revocation{CRLs: []console.CRLState{}, OCSP: []console.OCSPState{}}}
		for _, c := range a.CRLs {
			e.Revocation.CRLs = append(e.Revocation.CRLs, console.CRLState{Source: c.URL, LastFetch: timePtr(c.LastFetch),
				LastSuccess: timePtr(c.LastSuccess), NextUpdate: timePtr(c.NextUpdate), Stale: c.Stale(now), LastError: c.LastError})
			if e.LastError == "" && c.LastError != "" {
				e.LastError = "crl: " + c.LastError
			}
		}
		for _, o := range a.OCSP {
			e.Revocation.OCSP = append(e.Revocation.OCSP, console.OCSPState{Responder: o.URL, LastSuccess: timePtr(o.LastSuccess),
				LastFailure: timePtr(o.LastFailure), LastError: o.LastError})
			if e.LastError == "" && o.LastError != "" {
				e.LastError = "ocsp: " + o.LastError
			}
		}
		out = append(out, e)
	}
	return out
}

// Providers implements console.Sources: every provider, and the identity providers of each
// SAML federation with their signing certificates and the state of the metadata source that
// lists them.
func (w *consoleWiring) Providers(ctx context.Context) ([]console.Provider, error) {
	b, err := w.broker()
	if err != nil {
		return nil, err
	}
	// The login counts are the cluster's; without the Store they are left out (nil), never
	// replaced by this replica's alone.
	logins, lerr := loginstats.Cluster(ctx, w.store, time.Now(), w.publisher.Replica, w.logins)
	if lerr != nil {
		w.log.Warn("console: login counts not read", "error", lerr)
	}
	counts := func(kind, id string) map[string]int64 {
		if lerr != nil {
			return nil
		}
		return maps.Clone(logins[loginstats.Entry{Kind: kind, ID: id}]) // nil map → filled below
	}
	var out []console.Provider
	for _, p := range b.Providers() {
		info := p.Info()
		cp := console.Provider{Kind: switches.KindProvider, ID: info.ID, Name: info.Name["it"], Type: info.Method,
			LoginsLastHour: orEmpty(counts("provider", info.Method), lerr)}
		if rr, ok := p.(providers.ReadinessReporter); ok {
			if r := rr.Readiness(ctx); r.Status != providers.ReadyOK {
				cp.LastError = r.Detail
			}
		}
		if fed, ok := p.(federationOPs); ok {
			out = append(out, cp)
			for _, e := range opEntries(fed.OPs(), info) {
				e.LoginsLastHour = orEmpty(counts("idp", e.ID), lerr)
				out = append(out, e)
			}
			continue
		}
		if ca, ok := p.(certificateAuthorities); ok {
			out = append(out, cp)
			out = append(out, authorityEntries(ca.Authorities(), info, time.Now())...)
			continue
		}
		fed, isSAML := p.(samlFederation)
		if !isSAML {
			out = append(out, cp)
			continue
		}
		reg := fed.Registry()
		st := reg.Status()
		cp.Metadata = &console.Metadata{Source: fmt.Sprintf("%d metadata sources (%d never loaded, %d stale)", st.Sources, st.Unloaded, st.Stale),
			Stale: st.Stale > 0, Sources: &st.Sources, Unloaded: &st.Unloaded, StaleSources: &st.Stale}
		if len(st.Errors) > 0 {
			cp.LastError = st.Errors[0].Error()
		}
		out = append(out, cp)
		idps := samlIdPs(reg.List(ctx), reg.Sources(), info)
		for i := range idps {
			idps[i].LoginsLastHour = orEmpty(counts("idp", idps[i].ID), lerr)
		}
		out = append(out, idps...)
	}
	return out, nil
}

// orEmpty is m, or an empty map when the counts were read and m has none (the console then
// shows every outcome at zero).
func orEmpty(m map[string]int64, err error) map[string]int64 {
	if m == nil && err == nil {
		return map[string]int64{}
	}
	return m
}

// samlIdPs lists the loaded identity providers, each with the source that lists it.
func samlIdPs(idps []*saml.IdP, sources []saml.SourceStatus, info providers.Info) []console.Provider {
	bySource := map[string]*saml.SourceStatus{}
	for i := range sources {
		for _, id := range sources[i].EntityIDs {
			bySource[id] = &sources[i]
		}
	}
	out := make([]console.Provider, 0, len(idps))
	for _, idp := range idps {
		ip := console.Provider{Kind: switches.KindIdP, ID: idp.EntityID, Name: idp.Name, Type: info.Method, Parent: info.ID}
		for _, c := range idp.Certs {
			ip.Certificates = append(ip.Certificates, certSummary(c))
		}
		if src := bySource[idp.EntityID]; src != nil {
			ip.Metadata = sourceMetadata(src)
			if src.LastError != nil {
				ip.LastError = src.LastError.Error()
			}
		}
		out = append(out, ip)
	}
	return out
}

func sourceMetadata(src *saml.SourceStatus) *console.Metadata {
	md := &console.Metadata{Source: src.Location, SourceType: "url", LastRefresh: timePtr(src.LoadedAt), LastAttempt: timePtr(src.Tried),
		Stale: src.LastError != nil && !src.LoadedAt.IsZero()}
	if src.File {
		md.SourceType = "file"
	}
	return md
}

// certSummary is what the console shows of a certificate: never the certificate itself.
func certSummary(c *x509.Certificate) console.Certificate {
	sum := sha256.Sum256(c.Raw)
	return console.Certificate{Subject: c.Subject.String(), Issuer: c.Issuer.String(),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, SHA256: hex.EncodeToString(sum[:])}
}

// timePtr is nil for the zero time, else the time in UTC.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// refreshMetadata reloads a provider's metadata, by provider id or by the entityID of one of
// its IdPs.
func (w *consoleWiring) refreshMetadata(ctx context.Context, id string) error {
	b, err := w.broker()
	if err != nil {
		return err
	}
	for _, p := range b.Providers() {
		r, ok := p.(providers.Refresher)
		if !ok {
			continue
		}
		match := p.Info().ID == id
		if fed, isSAML := p.(samlFederation); isSAML && !match {
			_, match = fed.Registry().Lookup(ctx, id)
		}
		if match {
			return r.Refresh(ctx)
		}
	}
	return fmt.Errorf("%w: no provider or IdP %q with metadata to refresh", console.ErrNotFound, id)
}
