package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBaseConfigIsValid(t *testing.T) {
	cfg, err := Parse(mustYAML(t, baseConfig()), testOptions(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Clients[0].Secret.Value != testSecretEnv {
		t.Errorf("env: secret not resolved")
	}
	if a := cfg.AccessAudience(); a != "https://login.example.it/api" {
		t.Errorf("default access-token audience %q, want <issuer>/api", a)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestValidationRules: every rule refuses a bad value at its exact path, and nothing else.
func TestValidationRules(t *testing.T) {
	privateJWKS := `{"keys":[{"kty":"EC","crv":"P-256","d":"3BUFRaEXkMSCtlNkuRwq6iDRvgQ8X_ds1ZHPE-3wqiE",
		"x":"adxW-pYkiDglt45akKM7n6y3Cd4wruoqk0rByQeepAA","y":"XA7_8Jezzpz0z-NsGW6P0nczyzGdN1SKuC6DPSHWD-k"}]}`
	pkjwt := func(jwks string) func(m map[string]any) {
		return func(m map[string]any) {
			set(m, "clients.0.secret", nil)
			set(m, "clients.0.auth_method", "private_key_jwt")
			if jwks != "" {
				set(m, "clients.0.jwks_file", jwks)
			}
		}
	}
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		env    map[string]string
		want   []string
	}{
		{"issuer is required", func(m map[string]any) { set(m, "issuer", nil) }, nil, []string{"issuer"}},
		{"issuer must be absolute", func(m map[string]any) { set(m, "issuer", "login.example.it") }, nil, []string{"issuer"}},
		{"issuer must be https outside dev", func(m map[string]any) { set(m, "issuer", "http://login.example.it") }, nil, []string{"issuer"}},
		{"issuer has no fragment", func(m map[string]any) { set(m, "issuer", "https://login.example.it#x") }, nil, []string{"issuer"}},
		{"issuer has no query", func(m map[string]any) { set(m, "issuer", "https://login.example.it?a=b") }, nil, []string{"issuer"}},
		{"issuer has no trailing slash", func(m map[string]any) { set(m, "issuer", "https://login.example.it/") }, nil, []string{"issuer"}},
		{"issuer from the environment is explained", nil, map[string]string{"SPORTELLO_ISSUER": "ftp://x"}, []string{"issuer"}},

		{"listen.http is required", func(m map[string]any) { set(m, "listen.http", nil) }, nil, []string{"listen.http"}},
		{"listen.http is host:port", func(m map[string]any) { set(m, "listen.http", "8080") }, nil, []string{"listen.http"}},
		{"the profiler listens on loopback only", func(m map[string]any) { set(m, "listen.debug", "0.0.0.0:6060") }, nil, []string{"listen.debug"}},
		{"the profiler address is host:port", func(m map[string]any) { set(m, "listen.debug", "localhost") }, nil, []string{"listen.debug"}},
		{"the profiler from the environment is checked too", nil, map[string]string{"SPORTELLO_DEBUG_ADDR": "10.1.2.3:6060"}, []string{"listen.debug"}},
		{"a refresh reuse grace over 2m is refused", func(m map[string]any) { set(m, "tokens.refresh_reuse_grace", "10m") }, nil, []string{"tokens.refresh_reuse_grace"}},
		{"a pushed request living over 10m is refused", func(m map[string]any) { set(m, "par.ttl", "11m") }, nil, []string{"par.ttl"}},
		{"a pushed request ttl of a fraction of a second is refused", func(m map[string]any) { set(m, "par.ttl", "1500ms") }, nil, []string{"par.ttl"}},
		{"a negative pushed request ttl is refused", func(m map[string]any) { set(m, "par.ttl", "-1s") }, nil, []string{"par.ttl"}},
		{"a negative refresh reuse grace is refused", func(m map[string]any) { set(m, "tokens.refresh_reuse_grace", "-1s") }, nil, []string{"tokens.refresh_reuse_grace"}},
		{"the OTLP endpoint is an http(s) URL", func(m map[string]any) { set(m, "tracing.otlp_endpoint", "otel-collector:4318") }, nil, []string{"tracing.otlp_endpoint"}},
		{"the OTLP endpoint from the environment is checked too", nil, map[string]string{"SPORTELLO_OTLP_ENDPOINT": "ftp://x"}, []string{"tracing.otlp_endpoint"}},
		{"a sample ratio above 1 is refused", func(m map[string]any) { set(m, "tracing.sample_ratio", 1.5) }, nil, []string{"tracing.sample_ratio"}},
		{"gc_percent below -1 is refused", func(m map[string]any) { set(m, "runtime.gc_percent", -5) }, nil, []string{"runtime.gc_percent"}},
		{"a memory limit too small to run is refused", func(m map[string]any) { set(m, "runtime.memory_limit_mib", 16) }, nil, []string{"runtime.memory_limit_mib"}},
		{"listen.mtls is host:port", func(m map[string]any) {
			set(m, "listen.mtls", "nope")
			set(m, "listen.mtls_url", "https://cert.example.it")
			set(m, "listen.tls_cert", "tls/mtls.crt")
			set(m, "listen.tls_key", "tls/mtls.key")
		}, nil, []string{"listen.mtls"}},
		{"mtls needs a server certificate outside dev", func(m map[string]any) { set(m, "listen.mtls", "127.0.0.1:8443") }, nil, []string{"listen.tls_cert"}},
		{"mtls_url is https", func(m map[string]any) {
			set(m, "listen.mtls", "127.0.0.1:8443")
			set(m, "listen.mtls_url", "http://cert.example.it")
			set(m, "listen.tls_cert", "tls/mtls.crt")
			set(m, "listen.tls_key", "tls/mtls.key")
		}, nil, []string{"listen.mtls_url"}},
		{"mtls_url is required when mtls binds every interface", func(m map[string]any) {
			set(m, "listen.mtls", "0.0.0.0:8443")
			set(m, "listen.tls_cert", "tls/mtls.crt")
			set(m, "listen.tls_key", "tls/mtls.key")
		}, nil, []string{"listen.mtls_url"}},
		{"mtls_url needs mtls", func(m map[string]any) { set(m, "listen.mtls_url", "https://cert.example.it") }, nil, []string{"listen.mtls_url"}},
		{"tls_cert and tls_key go together", func(m map[string]any) { set(m, "listen.tls_cert", "tls/mtls.crt") }, nil, []string{"listen.tls_key"}},
		{"tls_cert must be readable", func(m map[string]any) {
			set(m, "listen.tls_cert", "tls/missing.crt")
			set(m, "listen.tls_key", "tls/mtls.key")
		}, nil, []string{"listen.tls_cert"}},
		{"shutdown_timeout is not negative", func(m map[string]any) { set(m, "listen.shutdown_timeout", "-1s") }, nil, []string{"listen.shutdown_timeout"}},

		{"keys.dir is required", func(m map[string]any) { set(m, "keys.dir", nil) }, nil, []string{"keys.dir"}},
		{"keys.dir must exist outside dev", func(m map[string]any) { set(m, "keys.dir", "no-such-dir") }, nil, []string{"keys.dir"}},
		{"keys.algorithm is ES256 or RS256", func(m map[string]any) { set(m, "keys.algorithm", "HS256") }, nil, []string{"keys.algorithm"}},
		{"crypto_key is required", func(m map[string]any) { set(m, "keys.crypto_key", nil) }, nil, []string{"keys.crypto_key"}},
		{"crypto_key holds 32 bytes", nil, map[string]string{"SPORTELLO_CRYPTO_KEY": "short"}, []string{"keys.crypto_key"}},
		{"retired_grace is not negative", func(m map[string]any) { set(m, "keys.retired_grace", "-1h") }, nil, []string{"keys.retired_grace"}},
		{"subject key holds 32 bytes", func(m map[string]any) { set(m, "subject.key", "file:secrets/redis_password") }, nil, []string{"subject.key"}},
		{"subject key is required", func(m map[string]any) { set(m, "subject", nil) }, nil, []string{"subject.key"}},

		{"token lifetimes are positive", func(m map[string]any) { set(m, "tokens.access_ttl", "-5m") }, nil, []string{"tokens.access_ttl"}},
		{"session_idle is positive", func(m map[string]any) { set(m, "tokens.session_idle", "-1s") }, nil, []string{"tokens.session_idle"}},

		{"store type is memory or redis", func(m map[string]any) { set(m, "store.type", "etcd") }, nil, []string{"store.type"}},
		{"redis needs url or addrs", func(m map[string]any) { set(m, "store.type", "redis") }, nil, []string{"store.redis"}},
		{"redis url and addrs exclude each other", func(m map[string]any) {
			set(m, "store.type", "redis")
			set(m, "store.redis", map[string]any{"url": "redis://r:6379/0", "addrs": []any{"r:6379"}})
		}, nil, []string{"store.redis"}},
		{"redis url is redis:// or rediss://", func(m map[string]any) {
			set(m, "store.type", "redis")
			set(m, "store.redis.url", "http://r:6379")
		}, nil, []string{"store.redis.url"}},
		{"redis addrs are host:port", func(m map[string]any) {
			set(m, "store.type", "redis")
			set(m, "store.redis.addrs", []any{"r:6379", "r2"})
		}, nil, []string{"store.redis.addrs[1]"}},
		{"sentinel master_name needs addrs", func(m map[string]any) {
			set(m, "store.type", "redis")
			set(m, "store.redis", map[string]any{"url": "redis://r:6379/0", "master_name": "m"})
		}, nil, []string{"store.redis.master_name"}},
		{"store from the environment is checked", nil, map[string]string{"SPORTELLO_STORE": "disk"}, []string{"store.type"}},

		{"at least one client", func(m map[string]any) { set(m, "clients", []any{}) }, nil, []string{"clients"}},
		{"client id is required", func(m map[string]any) { set(m, "clients.0.id", nil) }, nil, []string{"clients[0].id"}},
		{"client ids are unique", func(m map[string]any) { set(m, "clients.1.id", "rp") }, nil, []string{"clients[1].id"}},
		{"client ids have no spaces or colons", func(m map[string]any) { set(m, "clients.0.id", "a:b") }, nil, []string{"clients[0].id"}},
		{"confidential client needs a secret", func(m map[string]any) { set(m, "clients.0.secret", nil) }, nil, []string{"clients[0].secret"}},
		{"client secrets are 16 characters or more", nil, map[string]string{"SPORTELLO_TEST_CLIENT_SECRET": "short"}, []string{"clients[0].secret"}},
		{"private_key_jwt needs jwks_file", pkjwt(""), nil, []string{"clients[0].jwks_file"}},
		{"private_key_jwt takes no secret", func(m map[string]any) {
			pkjwt("clients/caf-partner.jwks.json")(m)
			set(m, "clients.0.secret", "env:SPORTELLO_TEST_CLIENT_SECRET")
		}, nil, []string{"clients[0].secret"}},
		{"jwks_file must be readable", pkjwt("/no/such/file.json"), nil, []string{"clients[0].jwks_file"}},
		{"jwks_file must be JSON", pkjwt("secrets/subject_key"), nil, []string{"clients[0].jwks_file"}},
		{"jwks_file holds public keys only", pkjwt(writeFile(t, "private.jwks", privateJWKS)), nil, []string{"clients[0].jwks_file"}},
		{"jwks_file holds a key", pkjwt(writeFile(t, "empty.jwks", `{"keys":[]}`)), nil, []string{"clients[0].jwks_file"}},
		{"a secret client's jwks_file is checked too", func(m map[string]any) { set(m, "clients.0.jwks_file", "/no/such/file.json") }, nil, []string{"clients[0].jwks_file"}},
		{"jwks_uri is https", func(m map[string]any) { set(m, "clients.0.jwks_uri", "http://rp.example/jwks") }, nil, []string{"clients[0].jwks_uri"}},
		{"jwks_uri is absolute", func(m map[string]any) { set(m, "clients.0.jwks_uri", "/jwks") }, nil, []string{"clients[0].jwks_uri"}},
		{"jwks_uri is not beside jwks_file", func(m map[string]any) {
			set(m, "clients.0.jwks_file", "clients/caf-partner.jwks.json")
			set(m, "clients.0.jwks_uri", "https://rp.example/jwks")
		}, nil, []string{"clients[0].jwks_uri"}},
		{"require_signed_request_object needs keys", func(m map[string]any) { set(m, "clients.0.require_signed_request_object", true) }, nil, []string{"clients[0].require_signed_request_object"}},
		{"auth_method none is for public clients", func(m map[string]any) { set(m, "clients.0.auth_method", "none") }, nil, []string{"clients[0].auth_method"}},
		{"auth_method is known", func(m map[string]any) { set(m, "clients.0.auth_method", "client_secret_jwt") }, nil, []string{"clients[0].auth_method"}},
		{"public client has no secret", func(m map[string]any) { set(m, "clients.1.secret", "env:SPORTELLO_TEST_CLIENT_SECRET") }, nil, []string{"clients[1].secret"}},
		{"public client authenticates with none", func(m map[string]any) { set(m, "clients.1.auth_method", "client_secret_basic") }, nil, []string{"clients[1].auth_method"}},
		{"public client may not use client_credentials", func(m map[string]any) {
			set(m, "clients.1.grant_types", []any{"authorization_code", "client_credentials"})
		}, nil, []string{"clients[1].grant_types[1]"}},
		{"public client may not use token exchange", func(m map[string]any) {
			set(m, "clients.1.grant_types", []any{"authorization_code", GrantTokenExchange})
		}, nil, []string{"clients[1].grant_types[1]"}},
		{"public client may not introspect", func(m map[string]any) { set(m, "clients.1.introspect", true) }, nil, []string{"clients[1].introspect"}},

		{"redirect URI is absolute", func(m map[string]any) { set(m, "clients.0.redirect_uris", []any{"/cb"}) }, nil, []string{"clients[0].redirect_uris[0]"}},
		{"redirect URI has no fragment", func(m map[string]any) { set(m, "clients.0.redirect_uris", []any{"https://rp.example.it/cb#x"}) }, nil, []string{"clients[0].redirect_uris[0]"}},
		{"redirect URI is https outside dev", func(m map[string]any) {
			set(m, "clients.0.redirect_uris", []any{"https://ok.example.it/cb", "http://rp.example.it/cb"})
		}, nil, []string{"clients[0].redirect_uris[1]"}},
		{"redirect URI scheme is https", func(m map[string]any) { set(m, "clients.0.redirect_uris", []any{"com.example.app://cb"}) }, nil, []string{"clients[0].redirect_uris[0]"}},
		{"redirect URI has no wildcard", func(m map[string]any) { set(m, "clients.0.redirect_uris", []any{"https://*.example.it/cb"}) }, nil, []string{"clients[0].redirect_uris[0]"}},
		{"redirect URI has no user information", func(m map[string]any) { set(m, "clients.0.redirect_uris", []any{"https://u:p@rp.example.it/cb"}) }, nil, []string{"clients[0].redirect_uris[0]"}},
		{"post-logout redirect URI follows the same rules", func(m map[string]any) {
			set(m, "clients.0.post_logout_redirect_uris", []any{"http://rp.example.it/"})
		}, nil, []string{"clients[0].post_logout_redirect_uris[0]"}},
		{"backchannel logout URI is absolute", func(m map[string]any) { set(m, "clients.0.backchannel_logout_uri", "/bcl") }, nil, []string{"clients[0].backchannel_logout_uri"}},
		{"backchannel logout URI has no fragment", func(m map[string]any) {
			set(m, "clients.0.backchannel_logout_uri", "https://rp.example.it/bcl#x")
		}, nil, []string{"clients[0].backchannel_logout_uri"}},
		{"backchannel logout URI has no user information", func(m map[string]any) {
			set(m, "clients.0.backchannel_logout_uri", "https://u:p@rp.example.it/bcl")
		}, nil, []string{"clients[0].backchannel_logout_uri"}},
		{"backchannel logout URI is https outside dev, even on loopback", func(m map[string]any) {
			set(m, "clients.0.backchannel_logout_uri", "http://127.0.0.1:9000/bcl")
		}, nil, []string{"clients[0].backchannel_logout_uri"}},
		{"backchannel logout URI scheme is https", func(m map[string]any) {
			set(m, "clients.0.backchannel_logout_uri", "ftp://rp.example.it/bcl")
		}, nil, []string{"clients[0].backchannel_logout_uri"}},
		{"backchannel logout needs the code flow", func(m map[string]any) {
			set(m, "clients.0.grant_types", []any{"client_credentials"})
			set(m, "clients.0.scopes", []any{"openid"})
			set(m, "clients.0.redirect_uris", nil)
			set(m, "clients.0.backchannel_logout_uri", "https://rp.example.it/bcl")
		}, nil, []string{"clients[0].backchannel_logout_uri"}},
		{"backchannel_logout_session_required needs a backchannel logout URI", func(m map[string]any) {
			set(m, "clients.0.backchannel_logout_session_required", true)
		}, nil, []string{"clients[0].backchannel_logout_session_required"}},
		{"authorization_code needs redirect URIs", func(m map[string]any) { set(m, "clients.0.redirect_uris", nil) }, nil, []string{"clients[0].redirect_uris"}},

		{"grant types are known", func(m map[string]any) {
			set(m, "clients.0.grant_types", []any{"authorization_code", "refresh_token", "password"})
		}, nil, []string{"clients[0].grant_types[2]"}},
		{"grant types are listed once", func(m map[string]any) {
			set(m, "clients.0.grant_types", []any{"authorization_code", "refresh_token", "refresh_token"})
		}, nil, []string{"clients[0].grant_types[2]"}},
		{"refresh_token needs authorization_code", func(m map[string]any) {
			set(m, "clients.0.grant_types", []any{"client_credentials", "refresh_token"})
			set(m, "clients.0.scopes", []any{"openid"})
		}, nil, []string{"clients[0].grant_types"}},
		{"scopes are known", func(m map[string]any) { set(m, "clients.0.scopes", []any{"openid", "address"}) }, nil, []string{"clients[0].scopes[1]"}},
		{"scopes are required", func(m map[string]any) { set(m, "clients.0.scopes", nil) }, nil, []string{"clients[0].scopes"}},
		{"scopes are listed once", func(m map[string]any) { set(m, "clients.0.scopes", []any{"openid", "openid"}) }, nil, []string{"clients[0].scopes[1]"}},
		{"custom scope prefix needs a name", func(m map[string]any) { set(m, "clients.0.scopes", []any{"openid", "inps:"}) }, nil, []string{"clients[0].scopes[1]"}},
		{"offline_access needs refresh_token", func(m map[string]any) { set(m, "clients.0.grant_types", []any{"authorization_code"}) }, nil, []string{"clients[0].scopes"}},
		{"client signing_alg is ES256 or RS256", func(m map[string]any) { set(m, "clients.0.signing_alg", "none") }, nil, []string{"clients[0].signing_alg"}},
		{"client min_acr is a SPID level", func(m map[string]any) { set(m, "clients.0.min_acr", "SpidL2") }, nil, []string{"clients[0].min_acr"}},
		{"require_pushed_authorization_requests needs the code flow", func(m map[string]any) {
			set(m, "clients.0.grant_types", []any{"client_credentials"})
			set(m, "clients.0.scopes", []any{"openid"})
			set(m, "clients.0.redirect_uris", nil)
			set(m, "clients.0.require_pushed_authorization_requests", true)
		}, nil, []string{"clients[0].require_pushed_authorization_requests"}},
		{"dpop_bound_access_tokens is a boolean", func(m map[string]any) { set(m, "clients.0.dpop_bound_access_tokens", "always") }, nil, []string{"clients[0].dpop_bound_access_tokens"}},
		{"exchange_audiences need token exchange", func(m map[string]any) { set(m, "clients.0.exchange_audiences", []any{"a"}) }, nil, []string{"clients[0].exchange_audiences"}},
		{"exchange audiences are not empty and listed once", func(m map[string]any) {
			set(m, "clients.0.grant_types", []any{"authorization_code", "refresh_token", GrantTokenExchange})
			set(m, "clients.0.exchange_audiences", []any{"a", "", "a"})
		}, nil, []string{"clients[0].exchange_audiences[1]", "clients[0].exchange_audiences[2]"}},
		{"an exchange audience is no relying party's client id", func(m map[string]any) {
			set(m, "clients.0.grant_types", []any{"authorization_code", "refresh_token", GrantTokenExchange})
			set(m, "clients.0.exchange_audiences", []any{"inps-pensioni", "spa"})
		}, nil, []string{"clients[0].exchange_audiences[1]"}},
		{"the access-token audience is no relying party's client id", func(m map[string]any) { set(m, "tokens.access_audience", "rp") }, nil, []string{"tokens.access_audience"}},
		{"the access-token audience is not the broker's own client", func(m map[string]any) { set(m, "tokens.access_audience", ReservedClientID) }, nil, []string{"tokens.access_audience"}},
		{"the access-token audience has no surrounding spaces", func(m map[string]any) { set(m, "tokens.access_audience", " https://api.example.it") }, nil, []string{"tokens.access_audience"}},
		{"introspect_clients need introspect", func(m map[string]any) { set(m, "clients.0.introspect_clients", []any{"spa"}) }, nil, []string{"clients[0].introspect_clients"}},
		{"introspect_clients are known clients, listed once", func(m map[string]any) {
			set(m, "clients.0.introspect", true)
			set(m, "clients.0.introspect_clients", []any{"spa", "nobody", "spa"})
		}, nil, []string{"clients[0].introspect_clients[1]", "clients[0].introspect_clients[2]"}},

		{"default_acr is a SPID level", func(m map[string]any) { set(m, "policy.default_acr", "https://www.spid.gov.it/SpidL4") }, nil, []string{"policy.default_acr"}},
		{"languages are it or en", func(m map[string]any) { set(m, "ui.languages", []any{"it", "de"}) }, nil, []string{"ui.languages[1]"}},
		{"languages are listed once", func(m map[string]any) { set(m, "ui.languages", []any{"en", "en"}) }, nil, []string{"ui.languages[1]"}},
		{"audit file directory exists", func(m map[string]any) { set(m, "audit.file", "no-such-dir/audit.jsonl") }, nil, []string{"audit.file"}},

		{"provider type is required", func(m map[string]any) { set(m, "providers.spid.type", nil) }, nil, []string{"providers.spid.type"}},
		{"provider type is registered", func(m map[string]any) { set(m, "providers.spid.type", "oauth") }, nil, []string{"providers.spid.type"}},
		{"provider ids are URL-safe", func(m map[string]any) { set(m, "providers.Spid", map[string]any{"type": "spid"}) }, nil, []string{"providers.Spid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseConfig()
			if tt.mutate != nil {
				tt.mutate(m)
			}
			_, err := Parse(mustYAML(t, m), testOptions(t, tt.env))
			wantOnly(t, err, tt.want...)
			wantLocated(t, err)
		})
	}
}

// TestAcceptedVariants: values that look unusual but are allowed.
func TestAcceptedVariants(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"loopback http redirect URIs outside dev", func(m map[string]any) {
			set(m, "clients.1.redirect_uris", []any{"http://127.0.0.1:9000/cb", "http://localhost/cb", "http://[::1]:8000/cb"})
		}},
		{"custom scopes with x- and inps: prefixes", func(m map[string]any) { set(m, "clients.0.scopes", []any{"openid", "x-test", "inps:services"}) }},
		{"private_key_jwt with a public JWKS", func(m map[string]any) {
			set(m, "clients.0.secret", nil)
			set(m, "clients.0.auth_method", "private_key_jwt")
			set(m, "clients.0.jwks_file", "clients/caf-partner.jwks.json")
		}},
		{"redis by url", func(m map[string]any) {
			set(m, "store", map[string]any{"type": "redis", "redis": map[string]any{"url": "rediss://r:6380/0"}})
		}},
		{"redis sentinel", func(m map[string]any) {
			set(m, "store", map[string]any{"type": "redis", "redis": map[string]any{"addrs": []any{"s1:26379", "s2:26379"}, "master_name": "m"}})
		}},
		{"disabled provider", func(m map[string]any) { set(m, "providers.spid.enabled", false) }},
		{"an https backchannel logout URI with session_required", func(m map[string]any) {
			set(m, "clients.0.backchannel_logout_uri", "https://rp.example.it/bcl?x=1")
			set(m, "clients.0.backchannel_logout_session_required", true)
		}},
		{"no providers", func(m map[string]any) { set(m, "providers", nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseConfig()
			tt.mutate(m)
			if _, err := Parse(mustYAML(t, m), testOptions(t, nil)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDevModeAllowsInsecureSettings(t *testing.T) {
	m := baseConfig()
	set(m, "dev", true)
	set(m, "issuer", "http://127.0.0.1:8080")
	set(m, "keys.dir", "not-created-yet")
	set(m, "keys.crypto_key", testCryptoKey)
	set(m, "clients.0.secret", "short")
	set(m, "clients.0.redirect_uris", []any{"http://rp.test/cb"})
	set(m, "clients.0.backchannel_logout_uri", "http://127.0.0.1:9000/bcl")
	set(m, "listen.mtls", "127.0.0.1:8443")
	set(m, "listen.tls_cert", "tls/mtls.crt")
	set(m, "listen.tls_key", "tls/mtls.key")
	cfg, err := Parse(mustYAML(t, m), testOptions(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Keys.CryptoKey.Value != testCryptoKey || cfg.Listen.MTLSURL != "https://127.0.0.1:8443" {
		t.Errorf("dev config not completed: %+v", cfg.Listen)
	}
}

// TestProviderValidatorsOwnTheirSections: a validator's errors keep their paths; plain errors
// land at the section; the validator sees dev mode and the section.
func TestProviderValidatorsOwnTheirSections(t *testing.T) {
	type spidSection struct {
		EntityID string `yaml:"entity_id"`
		IdPs     []struct {
			MetadataURL string `yaml:"metadata_url"`
		} `yaml:"idps"`
	}
	var sawDev *bool
	types := map[string]ProviderValidator{
		"spid": func(id string, p *Provider, dev bool) []error {
			sawDev = &dev
			var s spidSection
			return p.Decode(id, &s)
		},
		"pin": func(string, *Provider, bool) []error { return []error{os.ErrNotExist} },
	}
	m := baseConfig()
	set(m, "notify", map[string]any{"spool_dir": t.TempDir()})
	set(m, "providers", map[string]any{
		"spid":  map[string]any{"type": "spid", "enabled": true, "idps": []any{map[string]any{"metadata_url": "x"}, map[string]any{"metdata_url": "y"}}},
		"pin":   map[string]any{"type": "pin"},
		"other": map[string]any{"type": "cie"},
	})
	opts := testOptions(t, nil)
	opts.ProviderTypes = types
	_, err := Parse(mustYAML(t, m), opts)
	wantOnly(t, err, "providers.spid.idps[1].metdata_url", "providers.pin", "providers.other.type")
	if sawDev == nil || *sawDev {
		t.Errorf("validator dev = %v, want false", sawDev)
	}
}

func TestNotifyRules(t *testing.T) {
	m := baseConfig()
	set(m, "providers", map[string]any{"pin": map[string]any{"type": "pin"}})
	set(m, "notify", map[string]any{"smtp": map[string]any{"addr": "relay-without-port"}})
	opts := testOptions(t, nil)
	opts.ProviderTypes = map[string]ProviderValidator{"pin": func(string, *Provider, bool) []error { return nil }}
	_, err := Parse(mustYAML(t, m), opts)
	wantOnly(t, err, "notify.smtp.addr", "notify.smtp.from", "notify.spool_dir")
}

// TestTheMTLSListenerNeedsItsKeyPair: check-config loads the listener's certificate and key as
// serve does, so a listener that could not start is refused up front; dev: true in a file is
// no excuse (only "sportello dev" brings a certificate of its own).
func TestTheMTLSListenerNeedsItsKeyPair(t *testing.T) {
	otherKey := writeFile(t, "other.key", string(testKeyPEM(t)))
	tests := []struct {
		name      string
		dev       bool
		cert, key string
		wantPath  string
		wantMsg   string
	}{
		{"the key file holds the certificate, not its key", false, "tls/mtls.crt", "tls/mtls.crt", "listen.tls_key", "is not the private key of listen.tls_cert"},
		{"the key of another pair", false, "tls/mtls.crt", otherKey, "listen.tls_key", "private key does not match public key"},
		{"certificate and key swapped", false, "tls/mtls.key", "tls/mtls.crt", "listen.tls_cert", "holds no PEM certificate"},
		{"no key at all", false, "tls/mtls.crt", "", "listen.tls_key", "listen.tls_cert and listen.tls_key go together"},
		{"neither, outside dev mode", false, "", "", "listen.tls_cert", "required when listen.mtls is set"},
		{"neither, in a dev-mode file", true, "", "", "listen.tls_cert", "required when listen.mtls is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := baseConfig()
			set(m, "listen.mtls", "127.0.0.1:8443")
			if tt.dev {
				set(m, "dev", true)
			}
			if tt.cert != "" {
				set(m, "listen.tls_cert", tt.cert)
			}
			if tt.key != "" {
				set(m, "listen.tls_key", tt.key)
			}
			_, err := Parse(mustYAML(t, m), testOptions(t, nil))
			wantOnly(t, err, tt.wantPath)
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("got %v, want %q", err, tt.wantMsg)
			}
			wantLocated(t, err)
		})
	}
	// The example's pair is accepted.
	m := baseConfig()
	set(m, "listen.mtls", "127.0.0.1:8443")
	set(m, "listen.tls_cert", "tls/mtls.crt")
	set(m, "listen.tls_key", "tls/mtls.key")
	if _, err := Parse(mustYAML(t, m), testOptions(t, nil)); err != nil {
		t.Fatal(err)
	}
}

// TestAPublicClientHasNoSecret: whatever the secret key of a public client holds, even nothing,
// the error says that a public client has none (not that the reference does not resolve).
func TestAPublicClientHasNoSecret(t *testing.T) {
	for _, tt := range []struct {
		name   string
		secret any
		dev    bool
	}{
		{"a reference that resolves", "env:SPORTELLO_TEST_CLIENT_SECRET", false},
		{"a reference that does not resolve", "env:SPORTELLO_UNSET", false},
		{"a literal outside dev mode", "literal-secret-0123456789", false},
		{"a literal in dev mode", "literal-secret-0123456789", true},
		{"an empty string", "", false},
		{"null", yamlNull{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := baseConfig()
			set(m, "clients.1.secret", tt.secret)
			if tt.dev {
				set(m, "dev", true)
			}
			_, err := Parse(mustYAML(t, m), testOptions(t, nil))
			wantOnly(t, err, "clients[1].secret")
			if err == nil || !strings.Contains(err.Error(), "a public client has no secret") {
				t.Fatalf("got %v", err)
			}
			wantLocated(t, err)
		})
	}
}

// Back-Channel Logout §2.2 and our fail-closed rule: even in dev mode a logout token goes over
// http only to the developer's own machine.
func TestDevModeBackchannelLogoutOverHTTPOnlyOnLoopback(t *testing.T) {
	m := baseConfig()
	set(m, "dev", true)
	set(m, "issuer", "http://127.0.0.1:8080")
	set(m, "keys.dir", "not-created-yet")
	set(m, "keys.crypto_key", testCryptoKey)
	set(m, "clients.0.backchannel_logout_uri", "http://rp.test/bcl")
	_, err := Parse(mustYAML(t, m), testOptions(t, nil))
	wantOnly(t, err, "clients[0].backchannel_logout_uri")
}
