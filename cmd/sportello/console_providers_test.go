package main

import (
	"errors"
	"testing"
	"time"

	"github.com/inps/sportello/providers"
	"github.com/inps/sportello/providers/saml"
)

// Every IdP carries the state of the source that lists it: a source whose last refresh
// failed is stale and names the error, while the IdPs of its last good copy stay listed.
func TestConsoleIdPsCarryTheirMetadataSourceState(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	idps := []*saml.IdP{{EntityID: "https://a.example/idp", Name: "A"}, {EntityID: "https://b.example/idp", Name: "B"}}
	sources := []saml.SourceStatus{
		{Location: "https://registry.example/idps", LoadedAt: t0, Tried: t0.Add(time.Hour), LastError: errors.New("HTTP 503"),
			EntityIDs: []string{"https://a.example/idp"}},
		{Location: "/etc/sportello/b.xml", File: true, LoadedAt: t0, Tried: t0, EntityIDs: []string{"https://b.example/idp"}},
	}
	got := samlIdPs(idps, sources, providers.Info{ID: "spid", Method: "spid"})
	if len(got) != 2 {
		t.Fatalf("%d IdPs", len(got))
	}
	a, b := got[0], got[1]
	if a.Metadata == nil || a.Metadata.Source != "https://registry.example/idps" || a.Metadata.SourceType != "url" || !a.Metadata.Stale ||
		!a.Metadata.LastRefresh.Equal(t0) || !a.Metadata.LastAttempt.Equal(t0.Add(time.Hour)) || a.LastError != "HTTP 503" || a.Parent != "spid" {
		t.Fatalf("IdP of a failing source: %+v %+v", a, a.Metadata)
	}
	if b.Metadata == nil || b.Metadata.SourceType != "file" || b.Metadata.Stale || b.LastError != "" {
		t.Fatalf("IdP of a good file source: %+v %+v", b, b.Metadata)
	}
}
