package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// errDone ends a user's loop without counting an operation (a pool ran dry).
var errDone = errors.New("done")

// op is one measured operation by user u.
type op func(ctx context.Context, u int) error

// scenario prepares (unmeasured) and returns the operation its users repeat; a nil op with a
// nil error means the scenario is not available on this target.
type scenario struct {
	name    string
	prepare func(ctx context.Context, h *harness) (op, string, error)
}

// maxUsers caps the virtual users of some scenarios. The PIN provider admits one login per
// fiscal code at a time ("another attempt is in progress"), and dev mode has two PIN holders.
var maxUsers = map[string]int{"pin_login": len(pinPeople)}

var scenarios = []scenario{
	{"reference_static", prepReference},
	{"discovery", func(ctx context.Context, h *harness) (op, string, error) {
		return h.getOK(h.target + "/.well-known/openid-configuration"), "", nil
	}},
	{"jwks", func(ctx context.Context, h *harness) (op, string, error) { return h.getOK(h.disc.JWKS), "", nil }},
	{"client_credentials", prepClientCredentials},
	{"code_exchange", prepCodeExchange},
	{"refresh", prepRefresh},
	{"introspection", prepIntrospection},
	{"token_exchange", prepTokenExchange},
	{"pin_login", prepPINLogin},
	{"cie_login", func(ctx context.Context, h *harness) (op, string, error) {
		return func(ctx context.Context, _ int) error { _, _, err := h.cieCode(ctx); return err }, "", nil
	}},
	{"spid_login", prepSPIDLogin},
}

func (h *harness) getOK(u string) op {
	r := request{method: "GET", url: u}
	return func(context.Context, int) error {
		return h.api.do(r, func(status int, body []byte) error {
			if status != 200 || len(body) == 0 || body[0] != '{' {
				return fmt.Errorf("GET %s: %d %.100s", u, status, body)
			}
			return nil
		})
	}
}

func prepClientCredentials(ctx context.Context, h *harness) (op, string, error) {
	r := request{method: "POST", url: h.disc.Token, authorization: basic("demo-service", "demo-service-secret"),
		form: []byte(url.Values{"grant_type": {"client_credentials"}}.Encode())}
	return func(context.Context, int) error {
		out, err := h.post(r)
		if err == nil && out.AccessToken == "" {
			err = errors.New("no access_token")
		}
		return err
	}, "", nil
}

func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL is demo-rp's authorization request with PKCE and an idp hint.
func (h *harness) authorizeURL(idp, acr, challenge string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {"demo-rp"}, "redirect_uri": {"http://127.0.0.1:9000/callback"},
		"scope": {"openid profile fiscal_number offline_access"}, "state": {"load"}, "code_challenge": {challenge},
		"code_challenge_method": {"S256"}, "idp": {idp}}
	if acr != "" {
		q.Set("acr_values", acr)
	}
	return h.disc.Authorize + "?" + q.Encode()
}

// cieCode runs a CIE login over mutual TLS with a fresh connection (a full handshake).
func (h *harness) cieCode(ctx context.Context) (code, verifier string, err error) {
	verifier, challenge := pkce()
	c := browserClient(h.cieTLS, h.timeout, true)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.authorizeURL("cie", "https://www.spid.gov.it/SpidL3", challenge), nil)
	p, err := fetch(c, req)
	if err != nil {
		return "", "", err
	}
	code, err = callbackCode(p)
	return code, verifier, err
}

// tokens redeems a code as demo-rp.
func (h *harness) tokens(code, verifier string) (tokenAnswer, error) {
	return h.postForm(h.disc.Token, "demo-rp", "demo-secret", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {"http://127.0.0.1:9000/callback"}, "code_verifier": {verifier}})
}

// userTokens logs in over CIE and redeems the code (unmeasured set-up).
func (h *harness) userTokens(ctx context.Context) (access, refresh string, err error) {
	code, v, err := h.cieCode(ctx)
	if err != nil {
		return "", "", err
	}
	out, err := h.tokens(code, v)
	if err != nil {
		return "", "", err
	}
	access, refresh = out.AccessToken, out.RefreshToken
	if access == "" || refresh == "" {
		return "", "", errors.New("tokens without access_token or refresh_token")
	}
	return access, refresh, nil
}

// parallel runs fn n times on h.users goroutines and returns the first error.
func (h *harness) parallel(ctx context.Context, n int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for w := 0; w < h.users; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n && ctx.Err() == nil; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

func prepCodeExchange(ctx context.Context, h *harness) (op, string, error) {
	type pending struct{ code, verifier string }
	pool := make([]pending, h.codes)
	err := h.parallel(ctx, h.codes, func(i int) error {
		c, v, err := h.cieCode(ctx)
		pool[i] = pending{c, v}
		return err
	})
	if err != nil {
		return nil, "", fmt.Errorf("obtaining codes: %w", err)
	}
	var mu sync.Mutex
	return func(ctx context.Context, _ int) error {
		mu.Lock()
		if len(pool) == 0 {
			mu.Unlock()
			return errDone
		}
		p := pool[len(pool)-1]
		pool = pool[:len(pool)-1]
		mu.Unlock()
		_, err := h.tokens(p.code, p.verifier)
		return err
	}, fmt.Sprintf("%d codes from CIE logins, then redeemed", h.codes), nil
}

func prepRefresh(ctx context.Context, h *harness) (op, string, error) {
	chains := make([]string, h.users)
	err := h.parallel(ctx, h.users, func(i int) error {
		_, rt, err := h.userTokens(ctx)
		chains[i] = rt
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return func(ctx context.Context, u int) error {
		out, err := h.postForm(h.disc.Token, "demo-rp", "demo-secret", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {chains[u]}})
		if err != nil {
			return err
		}
		rt := out.RefreshToken
		if rt == "" {
			return errors.New("no rotated refresh token")
		}
		chains[u] = rt
		return nil
	}, "one rotating chain per user", nil
}

func prepIntrospection(ctx context.Context, h *harness) (op, string, error) {
	at, _, err := h.userTokens(ctx)
	if err != nil {
		return nil, "", err
	}
	r := request{method: "POST", url: h.disc.Introspect, authorization: basic("demo-service", "demo-service-secret"),
		form: []byte(url.Values{"token": {at}}.Encode())}
	return func(context.Context, int) error {
		out, err := h.post(r)
		if err == nil && !out.Active {
			err = errors.New("token not active")
		}
		return err
	}, "", nil
}

func prepTokenExchange(ctx context.Context, h *harness) (op, string, error) {
	at, _, err := h.userTokens(ctx)
	if err != nil {
		return nil, "", err
	}
	form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {at},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:access_token"}, "audience": {"inps-pensioni"}}
	r := request{method: "POST", url: h.disc.Token, authorization: basic("demo-service", "demo-service-secret"), form: []byte(form.Encode())}
	return func(context.Context, int) error {
		out, err := h.post(r)
		if err == nil && out.AccessToken == "" {
			err = errors.New("no access_token")
		}
		return err
	}, "audience inps-pensioni", nil
}

// pinPeople are dev mode's PIN holders: fiscal code, PIN, level.
var pinPeople = [][3]string{{"FRRGNN55T50Z600A", "A1B2C3D4", "https://www.spid.gov.it/SpidL2"}, {"CLMMRC70B10G273W", "Z9Y8X7W6", "https://www.spid.gov.it/SpidL1"}}

func prepPINLogin(ctx context.Context, h *harness) (op, string, error) {
	return func(ctx context.Context, u int) error {
		who := pinPeople[u%len(pinPeople)]
		_, challenge := pkce()
		c := browserClient(nil, h.timeout, false)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.authorizeURL("pin", who[2], challenge), nil)
		form, err := fetch(c, req)
		if err != nil {
			return err
		}
		if !strings.Contains(form.body, `name="pin"`) {
			return fmt.Errorf("no PIN form: %d", form.resp.StatusCode)
		}
		p, err := submit(c, form, url.Values{"fiscal_code": {who[0]}, "pin": {who[1]}})
		if err != nil {
			return err
		}
		_, err = callbackCode(p)
		return err
	}, "Giovanna Ferrari and Marco Colombo, one user each; Argon2id-bound", nil
}

func prepSPIDLogin(ctx context.Context, h *harness) (op, string, error) {
	p, err := get(h.web, h.target+"/dev/spid/")
	if err != nil {
		return nil, "", err
	}
	var idps []struct {
		Name     string `json:"name"`
		EntityID string `json:"entity_id"`
	}
	if p.resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(p.body), &idps) != nil || len(idps) == 0 {
		return nil, "no dev SPID IdP at /dev/spid/", nil
	}
	idp := idps[0]
	for _, i := range idps {
		if i.Name == "demo" {
			idp = i
		}
	}
	return func(ctx context.Context, _ int) error {
		_, challenge := pkce()
		c := browserClient(nil, h.timeout, false)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.authorizeURL(idp.EntityID, "https://www.spid.gov.it/SpidL2", challenge), nil)
		page, err := fetch(c, req)
		for i := 0; err == nil && i < 3 && !strings.Contains(page.body, `name="username"`); i++ {
			if !strings.Contains(page.body, `name="SAMLRequest"`) {
				return fmt.Errorf("neither the IdP form nor a SAML POST form: %d %s %s", page.resp.StatusCode, page.resp.Request.URL.Path, pageMessage(page.body))
			}
			page, err = submit(c, page, nil)
		}
		if err != nil {
			return err
		}
		resp, err := submit(c, page, url.Values{"username": {"RSSMRA80A01H501U"}, "password": {"test-password"}, "level": {"2"}, "action": {"login"}})
		if err != nil {
			return err
		}
		final, err := submit(c, resp, nil) // the auto-submitting SAMLResponse form
		if err != nil {
			return err
		}
		_, err = callbackCode(final)
		return err
	}, "IdP " + idp.Name + ", L2", nil
}

// prepReference serves the discovery document from a bare net/http server inside the harness:
// the ceiling of this load generator and net/http on this machine, to read the broker's
// figures against (a ratio survives a busy machine better than a number).
func prepReference(ctx context.Context, h *harness) (op, string, error) {
	p, err := get(h.web, h.target+"/.well-known/openid-configuration")
	if err != nil {
		return nil, "", err
	}
	doc := []byte(p.body)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})}
	go func() { _ = srv.Serve(ln) }()
	h.cleanups = append(h.cleanups, func() { _ = srv.Close() })
	return h.getOK("http://" + ln.Addr().String() + "/"), "bare net/http in the harness, same bytes as discovery", nil
}
