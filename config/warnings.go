package config

import (
	"fmt"
	"net/url"
	"strings"
)

// Warnings lists the insecure settings in use, for the start-up log: each is allowed only in
// dev mode, and the operator must see it. A production configuration has none.
func (c *Config) Warnings() []string {
	if !c.Dev {
		return nil
	}
	w := []string{"dev mode is on: insecure settings are allowed; never use it in production"}
	if strings.HasPrefix(c.Issuer, "http://") {
		w = append(w, "issuer is plain http")
	}
	literal := func(s Secret, path string) {
		if s.Ref != "" && !strings.HasPrefix(s.Ref, "file:") && !strings.HasPrefix(s.Ref, "env:") {
			w = append(w, path+" is a literal secret")
		}
	}
	literal(c.Keys.CryptoKey, "keys.crypto_key")
	literal(c.Subject.Key, "subject.key")
	literal(c.Store.Redis.Password, "store.redis.password")
	for i, cl := range c.Clients {
		literal(cl.Secret, fmt.Sprintf("clients[%d].secret", i))
		for j, r := range cl.RedirectURIs {
			if u, err := url.Parse(r); err == nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
				w = append(w, fmt.Sprintf("clients[%d].redirect_uris[%d] is plain http", i, j))
			}
		}
	}
	return w
}
