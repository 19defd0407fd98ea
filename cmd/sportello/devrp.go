package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// devBackchannelPath is the dev relying party's backchannel_logout_uri (demo-rp's in dev
// mode): it records the logout tokens the broker delivers, and lists them as JSON for
// automated checks.
const devBackchannelPath = "/dev/rp/backchannel-logout"

// devBackchannelMax bounds the tokens kept (the oldest go first).
const devBackchannelMax = 100

// devLogout is one logout token received. Claims are the token's payload decoded as it came,
// NOT verified: a check verifies logout_token against the issuer's JWKS itself.
type devLogout struct {
	LogoutToken string         `json:"logout_token"`
	ReceivedAt  time.Time      `json:"received_at"`
	Claims      map[string]any `json:"claims,omitempty"`
}

// devBackchannel is the dev receiver: POST records (OpenID Connect Back-Channel Logout 1.0
// §2.5: a form with logout_token, answered 200), GET lists, newest last.
type devBackchannel struct {
	mu   sync.Mutex
	got  []devLogout
	now  func() time.Time
	max  int
	size int64
}

func newDevBackchannel() *devBackchannel {
	return &devBackchannel{now: time.Now, max: devBackchannelMax, size: 64 << 10}
}

func (d *devBackchannel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodGet:
		d.mu.Lock()
		list := append([]devLogout{}, d.got...)
		d.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(list)
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, d.size)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") || r.ParseForm() != nil {
			http.Error(w, "want a form with logout_token", http.StatusBadRequest)
			return
		}
		tok := r.PostForm.Get("logout_token")
		if tok == "" || len(r.PostForm["logout_token"]) != 1 {
			http.Error(w, "want one logout_token", http.StatusBadRequest)
			return
		}
		d.mu.Lock()
		d.got = append(d.got, devLogout{LogoutToken: tok, ReceivedAt: d.now().UTC(), Claims: unverifiedClaims(tok)})
		if len(d.got) > d.max {
			d.got = append([]devLogout(nil), d.got[len(d.got)-d.max:]...)
		}
		d.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// unverifiedClaims decodes the payload of a compact JWS as a JSON object, or nil when it is
// not one. It checks nothing: it is for display.
func unverifiedClaims(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var c map[string]any
	if json.Unmarshal(raw, &c) != nil {
		return nil
	}
	return c
}
