package devidp

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// DevNames are the dev IdPs of dev mode.
var DevNames = []string{"demo", "test"}

// NewDevSet builds the dev-mode IdPs ("demo" and "test") for a broker at baseURL: keys from
// testdataDir (the repository's testdata/spid), the SP metadata fetched lazily from
// <baseURL>/spid/metadata with client.
func NewDevSet(baseURL, testdataDir string, client *http.Client, now func() time.Time, logger *slog.Logger) ([]*IdP, error) {
	base := strings.TrimRight(baseURL, "/")
	var out []*IdP
	for _, name := range DevNames {
		idp, err := New(Options{
			Name:        name,
			DisplayName: "SPID " + strings.ToUpper(name[:1]) + name[1:] + " (dev)",
			BaseURL:     base,
			KeyFile:     testdataDir + "/dev-idp-" + name + ".key",
			CertFile:    testdataDir + "/dev-idp-" + name + ".crt",
			SPMetadata:  FetchURL(client, base+"/spid/metadata"),
			Now:         now,
			Logger:      logger,
		})
		if err != nil {
			return nil, err
		}
		out = append(out, idp)
	}
	return out, nil
}

// Handler serves every IdP of idps under its route and the JSON list at /dev/spid/; mount it
// at "/dev/spid/".
func Handler(idps []*IdP) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /dev/spid/{$}", ListHandler(idps))
	for _, d := range idps {
		mux.Handle(d.Route(), d)
	}
	return mux
}

// NewDevCIEID builds dev mode's CIE ID server for a broker at baseURL, under /dev/cieid: the
// key dev-idp-cieid of testdataDir, a Response Issuer without Format as the Ministry's server
// sends it, the SP metadata fetched lazily from <baseURL>/cieid/metadata. Mount it at
// "/dev/cieid/".
func NewDevCIEID(baseURL, testdataDir string, client *http.Client, now func() time.Time, logger *slog.Logger) (*IdP, error) {
	base := strings.TrimRight(baseURL, "/")
	return New(Options{
		Name: "cieid", Prefix: "/dev/cieid", DisplayName: "CIE ID (dev)", Federation: "CIE ID", BaseURL: base,
		KeyFile: testdataDir + "/dev-idp-cieid.key", CertFile: testdataDir + "/dev-idp-cieid.crt",
		SPMetadata: FetchURL(client, base+"/cieid/metadata"), Now: now, Logger: logger,
		ResponseIssuerWithoutFormat: true,
	})
}

// NewDevEIDAS builds dev mode's eIDAS node (a SPID-shaped IdP, as FICEP is) for a broker at
// baseURL, under /dev/eidas: the key dev-idp-ficep of testdataDir, the people of EIDASUsers
// (username: their PersonIdentifier), a country choice, the SP metadata fetched lazily from
// <baseURL>/eidas/metadata. Mount it at "/dev/eidas/".
func NewDevEIDAS(baseURL, testdataDir string, client *http.Client, now func() time.Time, logger *slog.Logger) (*IdP, error) {
	base := strings.TrimRight(baseURL, "/")
	return New(Options{
		Name: "eidas", Prefix: "/dev/eidas", DisplayName: "eIDAS node (dev)", Federation: "eIDAS", BaseURL: base,
		KeyFile: testdataDir + "/dev-idp-ficep.key", CertFile: testdataDir + "/dev-idp-ficep.crt",
		SPMetadata: FetchURL(client, base+"/eidas/metadata"), Now: now, Logger: logger,
		Users: EIDASUsers(), UserLabel: "PersonIdentifier", Countries: []string{"DE", "ES"},
	})
}
