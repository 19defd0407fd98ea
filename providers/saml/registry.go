package saml

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/inps/sportello/providers/saml/samlx"
)

// IdP is an identity provider as its (verified) metadata describes it.
type IdP struct {
	EntityID string
	Name     string
	LogoURL  string
	// ShortName is the configured short name, also accepted as idp= (empty: entityID only).
	ShortName string
	// SSO and SLO map a binding URI to a Location.
	SSO map[string]string
	SLO map[string]string
	// Certs are the signing certificates from the metadata (several during a key rollover).
	Certs []*x509.Certificate
	// Binding is the configured AuthnRequest binding: samlx.BindingRedirect or BindingPOST.
	Binding string
}

// IdPConfig is one metadata source of identity providers (a file or a URL; a registry such
// as AgID's publishes every IdP of the federation in one EntitiesDescriptor).
type IdPConfig struct {
	// MetadataFile or MetadataURL (exactly one).
	MetadataFile string `yaml:"metadata_file"`
	MetadataURL  string `yaml:"metadata_url"`
	// Binding for AuthnRequests: redirect (default) or post.
	Binding string `yaml:"binding"`
	// MetadataCertFile, when set, is the certificate the metadata signature must verify with.
	MetadataCertFile string `yaml:"metadata_cert_file"`
	// Name and LogoURL override what the chooser shows.
	Name    string `yaml:"name"`
	LogoURL string `yaml:"logo_url"`
	// ShortName, when set, is accepted as idp=<short name> on /authorize like the IdP's
	// entityID (dev mode: the dev IdPs' names, demo and test). SAML metadata and AgID's
	// registry carry no such name, so it is only for a source holding exactly one IdP.
	ShortName string `yaml:"short_name"`
}

// source is one configured metadata location and its last good copy.
type source struct {
	cfg      IdPConfig
	sigCert  *x509.Certificate
	idps     []*IdP
	loadedAt time.Time
	tried    time.Time
	lastErr  error
}

// Registry holds the identity providers, reloaded from their metadata. A source that fails
// keeps its last good copy; a source never loaded is retried lazily on lookup (at most every
// retryEvery), which lets the broker load dev IdPs it serves itself once its listener is up.
type Registry struct {
	// name prefixes the log messages (the profile's Name; "saml" for a registry of its own).
	name       string
	mu         sync.Mutex
	sources    []*source
	client     *http.Client
	now        func() time.Time
	log        *slog.Logger
	refresh    time.Duration
	retryEvery time.Duration
	// retrying is set while Readiness has a background load of unloaded sources running.
	retrying atomic.Bool
}

// NewRegistry prepares a registry; nothing is fetched until Refresh or a lookup.
func NewRegistry(idps []IdPConfig, client *http.Client, now func() time.Time, log *slog.Logger, refresh time.Duration) (*Registry, error) {
	r := &Registry{name: "saml", client: client, now: now, log: log, refresh: refresh, retryEvery: 5 * time.Second}
	set, err := PrepareSources(idps)
	if err != nil {
		return nil, err
	}
	r.sources = set.sources
	return r, nil
}

// SourceSet is a list of metadata sources read and checked (their metadata certificates
// parsed), ready to replace a registry's.
type SourceSet struct{ sources []*source }

// PrepareSources reads the metadata certificates of idps; it fetches no metadata.
func PrepareSources(idps []IdPConfig) (*SourceSet, error) {
	set := &SourceSet{}
	for i, c := range idps {
		s := &source{cfg: c}
		if c.MetadataCertFile != "" {
			b, err := os.ReadFile(c.MetadataCertFile)
			if err != nil {
				return nil, fmt.Errorf("idps[%d]: metadata certificate: %w", i, err)
			}
			if s.sigCert, err = samlx.ParseCertificatePEM(b); err != nil {
				return nil, fmt.Errorf("idps[%d]: metadata certificate: %w", i, err)
			}
		}
		set.sources = append(set.sources, s)
	}
	return set, nil
}

// Configs returns the configuration of every source in force, in order.
func (r *Registry) Configs() []IdPConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]IdPConfig, 0, len(r.sources))
	for _, s := range r.sources {
		out = append(out, s.cfg)
	}
	return out
}

// ReplaceSources puts set in force (a configuration reload). A source configured exactly as
// before keeps its loaded copy and state; a new one is loaded lazily (or by the next
// Refresh); the IdPs of a source removed are no longer offered. A set is used once.
func (r *Registry) ReplaceSources(set *SourceSet) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := make([]*source, 0, len(set.sources))
	for _, s := range set.sources {
		for _, old := range r.sources {
			if old.cfg == s.cfg && old.sigCert.Equal(s.sigCert) {
				s = old
				break
			}
		}
		next = append(next, s)
	}
	r.sources = next
}

// Refresh reloads every source; failures keep the previous copy and are returned joined.
func (r *Registry) Refresh(ctx context.Context) error {
	var errs []error
	for _, s := range r.sourcesCopy() {
		if err := r.load(ctx, s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run refreshes every interval until ctx ends. The first refresh happens immediately, unless
// every source was loaded less than an interval ago (serve loads them before it is ready).
func (r *Registry) Run(ctx context.Context) {
	t := time.NewTicker(r.refresh)
	defer t.Stop()
	skip := r.fresh()
	for {
		if !skip {
			r.refreshLogged(ctx)
		}
		skip = false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Registry) sourcesCopy() []*source {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*source(nil), r.sources...)
}

// ensureLoaded loads the sources that never loaded, at most every retryEvery.
func (r *Registry) ensureLoaded(ctx context.Context) {
	for _, s := range r.sourcesCopy() {
		r.mu.Lock()
		need := s.idps == nil && r.now().Sub(s.tried) >= r.retryEvery
		r.mu.Unlock()
		if need {
			if err := r.load(ctx, s); err != nil {
				r.log.Warn(r.name+": idp metadata not loaded yet", "err", err)
			}
		}
	}
}

func (r *Registry) load(ctx context.Context, s *source) error {
	r.mu.Lock()
	s.tried = r.now()
	r.mu.Unlock()
	where := s.cfg.MetadataFile
	var raw []byte
	var err error
	if where != "" {
		raw, err = os.ReadFile(where)
	} else {
		where = s.cfg.MetadataURL
		raw, err = r.fetch(ctx, where)
	}
	if err == nil {
		var idps []*IdP
		idps, err = parseIdPMetadata(raw, s.sigCert, r.now())
		if err == nil && s.cfg.ShortName != "" && len(idps) != 1 {
			err = fmt.Errorf("short_name %q names one IdP, the metadata holds %d", s.cfg.ShortName, len(idps))
		}
		if err == nil {
			binding := samlx.BindingRedirect
			if s.cfg.Binding == "post" {
				binding = samlx.BindingPOST
			}
			for _, idp := range idps {
				idp.Binding = binding
				if s.cfg.Name != "" {
					idp.Name = s.cfg.Name
				}
				if s.cfg.LogoURL != "" {
					idp.LogoURL = s.cfg.LogoURL
				}
				idp.ShortName = s.cfg.ShortName
				if idp.SSO[binding] == "" {
					err = fmt.Errorf("idp %s has no SingleSignOnService for %s", idp.EntityID, binding)
				}
			}
			if err == nil {
				r.mu.Lock()
				s.idps, s.loadedAt, s.lastErr = idps, r.now(), nil
				r.mu.Unlock()
				return nil
			}
		}
	}
	err = fmt.Errorf("idp metadata %s: %w", where, err)
	r.mu.Lock()
	s.lastErr = err
	r.mu.Unlock()
	return err
}

func (r *Registry) fetch(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Lookup returns the IdP with entityID, loading sources lazily.
func (r *Registry) Lookup(ctx context.Context, entityID string) (*IdP, bool) {
	for pass := 0; pass < 2; pass++ {
		r.mu.Lock()
		for _, s := range r.sources {
			for _, idp := range s.idps {
				if idp.EntityID == entityID {
					r.mu.Unlock()
					return idp, true
				}
			}
		}
		r.mu.Unlock()
		if pass == 0 {
			r.ensureLoaded(ctx)
		}
	}
	return nil, false
}

// List returns the loaded IdPs sorted by name, loading sources lazily.
func (r *Registry) List(ctx context.Context) []*IdP {
	r.ensureLoaded(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*IdP
	for _, s := range r.sources {
		out = append(out, s.idps...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// parseIdPMetadata reads an EntityDescriptor or EntitiesDescriptor, verifying its signature
// against sigCert when one is configured.
func parseIdPMetadata(raw []byte, sigCert *x509.Certificate, now time.Time) ([]*IdP, error) {
	if sigCert != nil {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		if doc.Root() == nil {
			return nil, errors.New("metadata: empty document")
		}
		signed, err := samlx.VerifyEnveloped(doc.Root(), []*x509.Certificate{sigCert}, now)
		if err != nil {
			return nil, fmt.Errorf("metadata signature: %w", err)
		}
		sd := etree.NewDocument()
		sd.SetRoot(signed)
		if raw, err = sd.WriteToBytes(); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
	}
	var eds []crewjam.EntityDescriptor
	if bytes.Contains(raw[:min(len(raw), 2048)], []byte("EntitiesDescriptor")) {
		var all crewjam.EntitiesDescriptor
		if err := xml.Unmarshal(raw, &all); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		eds = all.EntityDescriptors
	} else {
		var ed crewjam.EntityDescriptor
		if err := xml.Unmarshal(raw, &ed); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
		eds = []crewjam.EntityDescriptor{ed}
	}
	var out []*IdP
	for _, ed := range eds {
		if len(ed.IDPSSODescriptors) == 0 {
			continue
		}
		d := ed.IDPSSODescriptors[0]
		idp := &IdP{EntityID: ed.EntityID, SSO: map[string]string{}, SLO: map[string]string{}}
		if idp.EntityID == "" {
			return nil, errors.New("metadata: EntityDescriptor without entityID")
		}
		for _, e := range d.SingleSignOnServices {
			if _, ok := idp.SSO[e.Binding]; !ok {
				idp.SSO[e.Binding] = e.Location
			}
		}
		for _, e := range d.SingleLogoutServices {
			if _, ok := idp.SLO[e.Binding]; !ok {
				idp.SLO[e.Binding] = e.Location
			}
		}
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(xc.Data), ""))
				if err != nil {
					return nil, fmt.Errorf("metadata %s: certificate: %w", idp.EntityID, err)
				}
				c, err := x509.ParseCertificate(der)
				if err != nil {
					return nil, fmt.Errorf("metadata %s: certificate: %w", idp.EntityID, err)
				}
				idp.Certs = append(idp.Certs, c)
			}
		}
		if len(idp.Certs) == 0 {
			return nil, fmt.Errorf("metadata %s: no signing certificate", idp.EntityID)
		}
		idp.Name = idp.EntityID
		if o := ed.Organization; o != nil {
			for _, n := range o.OrganizationDisplayNames {
				if idp.Name == idp.EntityID || n.Lang == "it" {
					idp.Name = n.Value
				}
			}
		}
		out = append(out, idp)
	}
	if len(out) == 0 {
		return nil, errors.New("metadata: no IDPSSODescriptor")
	}
	return out, nil
}
