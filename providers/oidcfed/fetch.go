package oidcfed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// ErrFetch: a federation endpoint could not be reached or answered something else than an
// entity statement.
var ErrFetch = errors.New("oidcfed: federation endpoint did not answer a statement")

// WellKnown is the path of an entity configuration under the entity identifier.
const WellKnown = "/.well-known/openid-federation"

// ConfigurationURL is where the entity configuration of entityID is published.
func ConfigurationURL(entityID string) string {
	return strings.TrimRight(entityID, "/") + WellKnown
}

// fetchStatement GETs u and returns the body of an application/entity-statement+jwt answer.
func fetchStatement(ctx context.Context, client *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrFetch, u, err)
	}
	req.Header.Set("Accept", ContentTypeEntityStatement)
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrFetch, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxStatementSize+1))
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrFetch, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: %s: status %d", ErrFetch, u, resp.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != ContentTypeEntityStatement {
		return "", fmt.Errorf("%w: %s: content type %q, want %s", ErrFetch, u, mt, ContentTypeEntityStatement)
	}
	if len(body) > maxStatementSize {
		return "", fmt.Errorf("%w: %s: more than %d bytes", ErrFetch, u, maxStatementSize)
	}
	return strings.TrimSpace(string(body)), nil
}

// fetchURL is the fetch endpoint's address for sub.
func fetchURL(endpoint, sub string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%w: fetch endpoint %q is not an http(s) URL", ErrMalformed, endpoint)
	}
	q := u.Query()
	q.Set("sub", sub)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
