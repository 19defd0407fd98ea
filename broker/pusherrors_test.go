package broker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/inps/sportello/broker/jar"
	"github.com/inps/sportello/broker/par"
	"github.com/inps/sportello/internal/store"
)

// parFaultStore fails the writes of pushed requests while armed, as a Redis failover would.
type parFaultStore struct {
	store.Store
	armed atomic.Bool
}

func (f *parFaultStore) PutIfAbsent(ctx context.Context, key string, v []byte, ttl time.Duration) (bool, error) {
	if f.armed.Load() && strings.HasPrefix(key, parPrefix) {
		return false, errors.New("READONLY You can't write against a read only replica")
	}
	return f.Store.PutIfAbsent(ctx, key, v, ttl)
}

// errorShape is what an OAuth error answer of a token-side endpoint looks like.
type errorShape struct {
	status             int
	contentType        string
	cacheControl       string
	pragma             string
	challenge          string
	members            []string
	error, description string
}

// answerShape sends req and reads the shape of its answer.
func answerShape(t *testing.T, req *http.Request) errorShape {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%d: not a JSON body: %q", resp.StatusCode, raw)
	}
	s := errorShape{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), cacheControl: resp.Header.Get("Cache-Control"),
		pragma: resp.Header.Get("Pragma"), challenge: resp.Header.Get("WWW-Authenticate"), error: str(body, "error"), description: str(body, "error_description")}
	for k := range body {
		s.members = append(s.members, k)
	}
	return s
}

// formRequest is a POST of body (form-urlencoded) to target with HTTP Basic when user is set.
func formRequest(t *testing.T, target, body, user, pass string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return req
}

// The pushed authorization request endpoint answers every refusal in the token endpoint's
// shape (RFC 9126 §2.3, RFC 6749 §5.2): JSON with error and error_description and nothing
// else, Cache-Control: no-store, 400 (401 for invalid_client, with WWW-Authenticate: Basic;
// 500 and 503 for the server's own failures).
func TestPushErrorsHaveTheTokenEndpointShape(t *testing.T) {
	fs := &parFaultStore{Store: memStore(t)}
	objectKey, signed := objectKeys(t, true) // demo-rp: request objects required
	tb := newTestBroker(t, fs, signed)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, challenge := pkce()
	spa := func(extra url.Values) string {
		q := pushedParams(url.Values{"client_id": {"demo-spa"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}})
		for k, v := range extra {
			q[k] = v
		}
		return q.Encode()
	}
	object := func(key any) string {
		return url.Values{"request": {signObject(t, jose.ES256, key, objectClaims(tb, nil))}}.Encode()
	}

	// The token endpoint's own answer to a failed client authentication is the model.
	model := answerShape(t, formRequest(t, tb.URL+pathToken, ccForm.Encode(), "demo-service", "wrong"))
	if model.status != http.StatusUnauthorized || model.error != "invalid_client" {
		t.Fatalf("token endpoint: %+v", model)
	}

	for _, tt := range []struct {
		name       string
		req        func(t *testing.T) *http.Request
		arm        bool
		status     int
		code, desc string
	}{
		{"a malformed body", func(t *testing.T) *http.Request { return formRequest(t, tb.URL+pathPAR, "state=%zz", "demo-spa", "") },
			false, http.StatusBadRequest, "invalid_request", "malformed request body"},
		{"a wrong secret", func(t *testing.T) *http.Request {
			return formRequest(t, tb.URL+pathPAR, pushedParams(nil).Encode(), "demo-service", "wrong")
		},
			false, http.StatusUnauthorized, "invalid_client", ""},
		{"Basic credentials that are not form-urlencoded", func(t *testing.T) *http.Request {
			return formRequest(t, tb.URL+pathPAR, pushedParams(nil).Encode(), "demo%zz", "x")
		}, false, http.StatusUnauthorized, "invalid_client", "invalid basic auth header"},
		{"an unknown client", func(t *testing.T) *http.Request {
			return formRequest(t, tb.URL+pathPAR, pushedParams(nil).Encode(), "nobody", "x")
		},
			false, http.StatusUnauthorized, "invalid_client", ""},
		{"a repeated client_id", func(t *testing.T) *http.Request {
			return formRequest(t, tb.URL+pathPAR, spa(nil)+"&client_id=demo-spa", "", "")
		}, false, http.StatusBadRequest, "invalid_request", "parameter client_id is repeated"},
		{"a client that must sign its requests, without a request object", func(t *testing.T) *http.Request {
			return formRequest(t, tb.URL+pathPAR, pushedParams(nil).Encode(), "demo-rp", "demo-secret")
		}, false, http.StatusBadRequest, "invalid_request", "this client must send a signed request object"},
		{"a request object signed by another key", func(t *testing.T) *http.Request {
			return formRequest(t, tb.URL+pathPAR, object(other), "demo-rp", "demo-secret")
		}, false, http.StatusBadRequest, "invalid_request_object", ""},
		{"a request_uri pushed", func(t *testing.T) *http.Request {
			return formRequest(t, tb.URL+pathPAR, spa(url.Values{"request_uri": {"urn:ietf:params:oauth:request_uri:x"}}), "", "")
		}, false, http.StatusBadRequest, "invalid_request", "request_uri must not be pushed"},
		{"a redirect_uri not registered", func(t *testing.T) *http.Request {
			return formRequest(t, tb.URL+pathPAR, spa(url.Values{"redirect_uri": {"https://evil.example/cb"}}), "", "")
		}, false, http.StatusBadRequest, "invalid_request", "redirect_uri is not registered for the client"},
		{"a client without the code flow", func(t *testing.T) *http.Request {
			return formRequest(t, tb.URL+pathPAR, pushedParams(url.Values{"scope": {"openid"}}).Encode(), "demo-service", "demo-service-secret")
		}, false, http.StatusBadRequest, "unauthorized_client", ""},
		{"a DPoP proof for another endpoint", func(t *testing.T) *http.Request {
			req := formRequest(t, tb.URL+pathPAR, spa(nil), "", "")
			req.Header.Set("DPoP", newDPoPClient(t).proof(t, http.MethodPost, tb.issuer+pathToken, nil))
			return req
		}, false, http.StatusBadRequest, "invalid_dpop_proof", ""},
		{"the Store failing", func(t *testing.T) *http.Request { return formRequest(t, tb.URL+pathPAR, spa(nil), "", "") },
			true, http.StatusServiceUnavailable, "temporarily_unavailable", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs.armed.Store(tt.arm)
			defer fs.armed.Store(false)
			got := answerShape(t, tt.req(t))
			if got.status != tt.status || got.error != tt.code || (tt.desc != "" && got.description != tt.desc) {
				t.Fatalf("got %d %s %q, want %d %s %q", got.status, got.error, got.description, tt.status, tt.code, tt.desc)
			}
			if got.contentType != model.contentType || got.cacheControl != "no-store" || got.pragma != "no-cache" {
				t.Errorf("headers: Content-Type %q (token endpoint %q), Cache-Control %q, Pragma %q", got.contentType, model.contentType, got.cacheControl, got.pragma)
			}
			for _, m := range got.members {
				if m != "error" && m != "error_description" {
					t.Errorf("member %q in an error answer", m)
				}
			}
			if got.description == "" {
				t.Error("no error_description")
			}
			switch {
			case got.status == http.StatusUnauthorized && got.challenge != model.challenge:
				t.Errorf("WWW-Authenticate %q, the token endpoint's is %q", got.challenge, model.challenge)
			case got.status != http.StatusUnauthorized && got.challenge != "":
				t.Errorf("WWW-Authenticate %q on a %d", got.challenge, got.status)
			}
		})
	}
	t.Run("a request object by the client's key is accepted", func(t *testing.T) {
		resp, out := pushReq(t, tb, url.Values{"request": {signObject(t, jose.ES256, objectKey, objectClaims(tb, nil))}}, "demo-rp", "demo-secret")
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("got %d %v", resp.StatusCode, out)
		}
	})
}

// writePushError maps each kind of refusal once: the code and status of each.
func TestPushErrorMapping(t *testing.T) {
	for _, tt := range []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"a refusal of package par", par.ErrInvalidRequest, http.StatusBadRequest, "invalid_request"},
		{"an unknown request_uri", par.ErrInvalidRequestURI, http.StatusBadRequest, "invalid_request_uri"},
		{"a refused request object", jar.ErrInvalidRequestObject, http.StatusBadRequest, "invalid_request_object"},
		{"a request parameter jar refuses", jar.ErrInvalidRequest, http.StatusBadRequest, "invalid_request"},
		{"a rule of the authorization request", redirectErr(oidc.ErrInvalidScope()), http.StatusBadRequest, "invalid_scope"},
		{"a failed client authentication", oidc.ErrInvalidClient(), http.StatusUnauthorized, "invalid_client"},
		{"an error with its own status", op.NewStatusError(oidc.ErrServerError(), http.StatusInternalServerError), http.StatusInternalServerError, "server_error"},
		{"a failure of the Store", errors.New("connection refused"), http.StatusServiceUnavailable, "temporarily_unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			writePushError(w, httptest.NewRequest(http.MethodPost, pathPAR, nil), tt.err)
			var body map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != tt.status || str(body, "error") != tt.code || strings.Contains(w.Body.String(), "connection refused") {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tt.status, tt.code)
			}
		})
	}
}
