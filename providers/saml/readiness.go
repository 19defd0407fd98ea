package saml

import (
	"context"
	"fmt"
	"time"

	"github.com/inps/sportello/providers"
)

// RegistryStatus is what the registry holds, for readiness and check-config.
type RegistryStatus struct {
	// IdPs counts the identity providers loaded, from every source.
	IdPs int
	// Sources counts the configured metadata sources.
	Sources int
	// Unloaded counts the sources never loaded: their IdPs are not offered.
	Unloaded int
	// Stale counts the sources whose latest load failed while an earlier copy is kept.
	Stale int
	// Errors are the latest failures, one per failing source (for the log, not for /readyz:
	// they name URLs and files).
	Errors []error
}

// Status reports what the registry holds now; it fetches nothing.
func (r *Registry) Status() RegistryStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := RegistryStatus{Sources: len(r.sources)}
	for _, s := range r.sources {
		st.IdPs += len(s.idps)
		switch {
		case s.idps == nil:
			st.Unloaded++
		case s.lastErr != nil:
			st.Stale++
		}
		if s.lastErr != nil {
			st.Errors = append(st.Errors, s.lastErr)
		}
	}
	return st
}

// Readiness fails while no identity provider is loaded (the chooser would offer no login
// through this federation) and warns while a source has no copy or keeps a stale one. Sources
// never loaded are retried in the background (at most every retryEvery): a replica that
// /readyz keeps out of the load balancer gets no logins to trigger the lazy retry.
func (r *Registry) Readiness(ctx context.Context) providers.Readiness {
	st := r.Status()
	if st.Unloaded > 0 && r.retrying.CompareAndSwap(false, true) {
		go func() {
			defer r.retrying.Store(false)
			r.ensureLoaded(context.WithoutCancel(ctx))
		}()
	}
	switch {
	case st.Sources > 0 && st.IdPs == 0:
		return providers.Readiness{Status: providers.ReadyFail,
			Detail: fmt.Sprintf("no identity provider loaded: %d of %d metadata sources never loaded", st.Unloaded, st.Sources)}
	case st.Unloaded > 0 || st.Stale > 0:
		return providers.Readiness{Status: providers.ReadyWarn,
			Detail: fmt.Sprintf("%d identity providers loaded; %d metadata sources never loaded, %d failing (last good copy kept)", st.IdPs, st.Unloaded, st.Stale)}
	}
	return providers.Readiness{Status: providers.ReadyOK, Detail: fmt.Sprintf("%d identity providers loaded", st.IdPs)}
}

// refreshLogged reloads every source and logs each failure as it is: a stale copy kept, or
// no copy at all (the source's IdPs are not offered).
func (r *Registry) refreshLogged(ctx context.Context) {
	for _, s := range r.sourcesCopy() {
		err := r.load(ctx, s)
		if err == nil {
			continue
		}
		r.mu.Lock()
		kept, at := s.idps != nil, s.loadedAt
		r.mu.Unlock()
		if kept {
			r.log.Warn(r.name+": idp metadata refresh failed; keeping the last good copy", "err", err, "loaded_at", at)
		} else {
			r.log.Error(r.name+": idp metadata not loaded and no earlier copy: these identity providers are not offered", "err", err)
		}
	}
}

// fresh reports whether every source was loaded less than a refresh interval ago.
func (r *Registry) fresh() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.sources {
		if s.idps == nil || r.now().Sub(s.loadedAt) >= r.refresh {
			return false
		}
	}
	return true
}

// SourceStatus is one metadata source as the operators' console shows it.
type SourceStatus struct {
	// Location is the source's URL or file; File tells which.
	Location string
	File     bool
	// LoadedAt is the last successful load (zero: never loaded); Tried the last attempt.
	LoadedAt, Tried time.Time
	// LastError is the last attempt's failure (nil when it succeeded). With a non-zero
	// LoadedAt the IdPs of the last good copy are still offered.
	LastError error
	// EntityIDs are the IdPs of the copy in use.
	EntityIDs []string
}

// Sources reports every configured metadata source in configuration order; it fetches
// nothing.
func (r *Registry) Sources() []SourceStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]SourceStatus, 0, len(r.sources))
	for _, s := range r.sources {
		st := SourceStatus{Location: s.cfg.MetadataURL, LoadedAt: s.loadedAt, Tried: s.tried, LastError: s.lastErr}
		if s.cfg.MetadataFile != "" {
			st.Location, st.File = s.cfg.MetadataFile, true
		}
		for _, idp := range s.idps {
			st.EntityIDs = append(st.EntityIDs, idp.EntityID)
		}
		out = append(out, st)
	}
	return out
}
