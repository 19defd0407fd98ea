package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/valyala/fasthttp"
)

// apiClient sends the machine-to-machine requests (discovery, JWKS, the token-family
// endpoints) over fasthttp's client: keep-alive connections, pooled request and response
// objects, no goroutine per connection. On a 2-core machine the load generator shares the
// CPU with the broker, and net/http's client spent about as much CPU per request as the broker
// itself, which capped what the harness could measure (see the README's performance section).
// The browser flows keep net/http: they need cookies, redirects and TLS client certificates.
type apiClient struct {
	c       *fasthttp.Client
	timeout time.Duration
}

func newAPIClient(users int, timeout time.Duration) *apiClient {
	return &apiClient{timeout: timeout, c: &fasthttp.Client{
		MaxConnsPerHost:               max(64, 2*users),
		ReadTimeout:                   timeout,
		WriteTimeout:                  timeout,
		MaxIdleConnDuration:           30 * time.Second,
		NoDefaultUserAgentHeader:      true,
		DisableHeaderNamesNormalizing: true,
		MaxResponseBodySize:           4 << 20,
	}}
}

// request is one prepared API request; what does not change between operations is built once.
type request struct {
	method, url   string
	authorization string // "Basic …" or ""
	form          []byte // application/x-www-form-urlencoded body, or nil
}

func basic(client, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(client)+":"+url.QueryEscape(secret)))
}

// do sends r and hands the status and body to check before the response is recycled (check
// must not keep body).
func (a *apiClient) do(r request, check func(status int, body []byte) error) error {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(r.url)
	req.Header.SetMethod(r.method)
	if r.authorization != "" {
		req.Header.Set("Authorization", r.authorization)
	}
	if r.form != nil {
		req.Header.SetContentType("application/x-www-form-urlencoded")
		req.SetBodyRaw(r.form)
	}
	if err := a.c.DoTimeout(req, resp, a.timeout); err != nil {
		return fmt.Errorf("%s %s: %w", r.method, r.url, err)
	}
	return check(resp.StatusCode(), resp.Body())
}

// tokenAnswer is what the harness reads of a token or introspection response.
type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Active       bool   `json:"active"`
}

var errNoJSON = errors.New("not a JSON object")

// postForm posts form to u with HTTP Basic client authentication and decodes the JSON answer;
// a status other than 200 is an error that quotes the answer.
func (h *harness) postForm(u, client, secret string, form url.Values) (tokenAnswer, error) {
	return h.post(request{method: "POST", url: u, authorization: basic(client, secret), form: []byte(form.Encode())})
}

func (h *harness) post(r request) (tokenAnswer, error) {
	var out tokenAnswer
	err := h.api.do(r, func(status int, body []byte) error {
		if status != 200 {
			return fmt.Errorf("POST %s: %d %.200s", r.url, status, body)
		}
		if json.Unmarshal(body, &out) != nil {
			return fmt.Errorf("POST %s: %w: %.200s", r.url, errNoJSON, body)
		}
		return nil
	})
	return out, err
}
