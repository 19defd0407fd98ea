package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/inps/sportello/broker"
	"github.com/inps/sportello/config"
	"github.com/inps/sportello/internal/cli"
	"github.com/inps/sportello/internal/notify"
	"github.com/inps/sportello/providers/cieid"
	"github.com/inps/sportello/providers/eidas"
	"github.com/inps/sportello/providers/oidcfed/devfed"
	"github.com/inps/sportello/providers/spid"
	"github.com/inps/sportello/providers/spid/devidp"
	"github.com/inps/sportello/providers/x509auth/devca"
)

// devPKIBase is the URL the dev certificates carry for their CRL and OCSP responder.
const devPKIBase = "http://127.0.0.1:8080/dev/pki/"

const devUsage = `Usage: sportello dev [flags]

Runs the broker in dev mode, with nothing else to set up: the in-memory store (or Redis with
--redis), the dev SPID identity providers, the dev CIE/CNS PKI, the demo clients and test
people of testdata/dev/README.md, keys and secrets generated under --data. Never in production.
The audit trail goes to DIR/audit.log (--audit-stderr: to standard error).`

// devAuditFile is dev mode's audit trail, in the data directory.
const devAuditFile = "audit.log"

func cmdDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlags("sportello dev")
	httpAddr := fs.String("http", "127.0.0.1:8080", "`ADDR` of the main listener (the issuer is http://ADDR)")
	mtlsAddr := fs.String("mtls", "127.0.0.1:8443", "`ADDR` of the mutual-TLS listener (CIE/CNS)")
	// No environment value as the flag's default: the help would print it, and a Redis URL
	// may carry a password.
	redisURL := fs.String("redis", "", "use Redis at this `URL` instead of the in-memory store (default: SPORTELLO_REDIS_URL)")
	dataDir := fs.String("data", ".sportello-dev", "`DIR` of the dev keys and secrets (kept across restarts)")
	testdata := fs.String("testdata", "testdata", "`DIR`: the repository's testdata directory (dev PKI, fixtures)")
	verbose := fs.Bool("v", false, "debug logging")
	otlp := fs.String("otlp", os.Getenv("SPORTELLO_OTLP_ENDPOINT"), "export OpenTelemetry traces to this OTLP/HTTP collector `URL` (every trace sampled; or SPORTELLO_OTLP_ENDPOINT)")
	pprofAddr := fs.String("pprof", os.Getenv("SPORTELLO_DEBUG_ADDR"), "serve the Go profiler (/debug/pprof/) on this loopback `ADDR` (or SPORTELLO_DEBUG_ADDR)")
	auditStderr := fs.Bool("audit-stderr", false, "write the audit trail (SAML messages included) to standard error, next to the log, instead of DIR/audit.log")
	rest, code, done := cli.Parse(fs, devUsage, args, stdout, stderr)
	if done {
		return code
	}
	if len(rest) > 0 {
		return cli.Misuse(stderr, fs, devUsage, "unexpected arguments %q", rest)
	}
	if *redisURL == "" {
		*redisURL = os.Getenv("SPORTELLO_REDIS_URL")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// Libraries that log through the default logger (zitadel's router) log like the rest.
	slog.SetDefault(logger)
	td, err := filepath.Abs(*testdata)
	if err == nil {
		_, err = os.Stat(filepath.Join(td, "pki", "server.crt"))
	}
	if err != nil {
		fmt.Fprintf(stderr, "sportello dev: cannot find the dev PKI under %s (run from the repository root or pass --testdata): %v\n", *testdata, err)
		return 1
	}
	getenv := func(k string) string {
		switch k {
		case "SPORTELLO_REDIS_URL":
			return *redisURL
		case "SPORTELLO_DEBUG_ADDR":
			return *pprofAddr
		case "SPORTELLO_OTLP_ENDPOINT":
			return *otlp
		}
		return os.Getenv(k)
	}
	cfg, err := config.DevConfig(*httpAddr, *mtlsAddr, *dataDir, config.Options{ProviderTypes: configValidators(), Getenv: getenv})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if cfg.Tracing.OTLPEndpoint != "" && cfg.Tracing.SampleRatio == nil {
		all := 1.0 // dev mode traces every request
		cfg.Tracing.SampleRatio = &all
	}
	extras, err := devSetup(cfg, td, logger)
	if err != nil {
		fmt.Fprintln(stderr, "sportello dev:", err)
		return 1
	}
	logger.Warn("DEV MODE: insecure settings (http issuer, literal secrets, generated keys, dev identity providers). Never use in production.")
	// The audit trail carries every SAML message whole: a file of its own (hash-chained and
	// checkpointed, as in serve) unless asked for on the console. SPORTELLO_AUDIT_FILE wins.
	switch {
	case *auditStderr:
		cfg.Audit.File = ""
		extras.auditOut = stderr
	case cfg.Audit.File == "":
		cfg.Audit.File = filepath.Join(cfg.Dir, devAuditFile)
	}
	extras.bannerOut = stdout
	if err := serve(ctx, cfg, logger, extras, nil); err != nil {
		logger.Error("sportello stopped", "error", err)
		return 1
	}
	return 0
}

// devSetup adds the dev providers and routes to a dev configuration.
func devSetup(cfg *config.Config, testdata string, logger *slog.Logger) (*devExtras, error) {
	pki := filepath.Join(testdata, "pki")
	sections := map[string]string{
		"cie": fmt.Sprintf(`{type: cie, trust_anchors: [%q], intermediates: [%q], acr: "https://www.spid.gov.it/SpidL3"}`,
			filepath.Join(pki, "cie-root.crt"), filepath.Join(pki, "cie-sub.crt")),
		"cns": fmt.Sprintf(`{type: cns, trust_anchors: [%q], acr: "https://www.spid.gov.it/SpidL3"}`, filepath.Join(pki, "cns-ca.crt")),
		"pin": `{type: pin}`,
	}
	if cfg.Providers == nil {
		cfg.Providers = map[string]config.Provider{}
	}
	for id, text := range sections {
		var p config.Provider
		if err := yaml.Unmarshal([]byte(text), &p); err != nil {
			return nil, fmt.Errorf("dev provider %s: %w", id, err)
		}
		p.Resolver = config.Resolver{Dir: testdata, Dev: true}
		cfg.Providers[id] = p
	}
	cfg.Clients = append(cfg.Clients, devMTLSClients(pki)...)
	cfg.Clients = append(cfg.Clients, devJARClient(filepath.Join(testdata, "dev")))
	cfg.ApplyDefaults()
	ca, err := devca.New(pki, devca.Options{Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("dev PKI responder: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(pki, "server.crt"), filepath.Join(pki, "server.key"))
	if err != nil {
		return nil, fmt.Errorf("dev mTLS server certificate: %w", err)
	}
	rewrite := map[string]string{}
	if base := "http://" + cfg.Listen.HTTP + "/dev/pki/"; base != devPKIBase {
		rewrite[devPKIBase] = base
	}
	outbox := notify.NewOutbox(500, nil)
	spidDir := filepath.Join(testdata, "spid")
	idps, err := devidp.NewDevSet(cfg.Issuer, spidDir, nil, nil, logger.With("component", "dev-spid-idp"))
	if err != nil {
		return nil, fmt.Errorf("dev SPID identity providers: %w", err)
	}
	// The dev federation: trust anchor, intermediate, SPID and CIE OPs, under /dev/oidcfed/.
	fed, err := devfed.New(cfg.Issuer, devfed.Options{})
	if err != nil {
		return nil, fmt.Errorf("dev federation: %w", err)
	}
	cieServer, err := devidp.NewDevCIEID(cfg.Issuer, spidDir, nil, nil, logger.With("component", "dev-cieid-server"))
	if err != nil {
		return nil, fmt.Errorf("dev CIE ID server: %w", err)
	}
	eidasNode, err := devidp.NewDevEIDAS(cfg.Issuer, spidDir, nil, nil, logger.With("component", "dev-eidas-node"))
	if err != nil {
		return nil, fmt.Errorf("dev eIDAS node: %w", err)
	}
	return &devExtras{
		routes: map[string]http.Handler{
			"/dev/pki/":   http.StripPrefix("/dev/pki", ca),
			"/dev/outbox": outbox,
			"/dev/spid/":  devidp.Handler(idps),
			devfed.Route:  fed.Handler(),
			"/dev/cieid/": cieServer,
			"/dev/eidas/": eidasNode,
			// demo-rp's backchannel_logout_uri: the logout tokens it was sent, as JSON.
			devBackchannelPath: newDevBackchannel(),
		},
		providers: func(d deps) ([]opener, map[string]map[string]string, error) {
			// The broker loads the dev IdPs from their metadata URLs like any production IdP.
			sc := spid.DevConfig(cfg.Issuer, spidDir)
			// AgID wants the SP certificate's uri to be the entityID: on an address other than
			// the default, dev mode makes (once, under the data directory) a certificate for it.
			entityID := strings.TrimRight(cfg.Issuer, "/") + "/spid/metadata"
			generated, err := spid.UseDevCertificate(sc, entityID, cfg.Dir, nil)
			if err != nil {
				return nil, nil, err
			}
			if generated {
				logger.Info("dev SPID SP certificate for this address", "entity_id", entityID, "cert_file", sc.CertFile)
			}
			// Production accepts SPID L2 and above (the default); dev mode also lets a relying
			// party ask for L1, so every level of the dev IdPs can be tried.
			sc.MinLevel = 1
			// The federation RP, enrolled below the dev trust anchor, offers the dev OPs.
			oc := fed.RPConfig(filepath.Join(cfg.Dir, "oidcfed"))
			// The dev CIE ID server, loaded from its metadata URL like the Ministry's; every
			// level can be tried there too.
			cc := cieid.DevConfig(cfg.Issuer, spidDir)
			cc.MinLevel = 1
			// The dev eIDAS node likewise; "low" may be asked in dev mode (min_level 1), and
			// Giovanna Ferrari's Spanish eID is linked to her INPS record (eidas.DevConfig).
			ec := eidas.DevConfig(cfg.Issuer, spidDir)
			ec.MinLevel = 1
			msgs := spid.Messages()
			maps.Copy(msgs, cieid.Messages())
			maps.Copy(msgs, eidas.Messages())
			return []opener{newSPID(sc, "spid", cfg.Issuer, d), newCIEID(cc, "cieid", cfg.Issuer, d),
				newEIDAS(ec, "eidas", cfg.Issuer, d), newOIDCFed(oc, fed, "oidcfed", cfg.Issuer, d)}, msgs, nil
		},
		notifier:   &notify.Multi{Default: outbox},
		mtlsCert:   &cert,
		urlRewrite: rewrite,
		banner:     func(b *broker.Broker) string { return devBanner(b, cfg) },
	}, nil
}

func devBanner(b *broker.Broker, cfg *config.Config) string {
	iss := b.Issuer()
	trail := "standard error, next to the log (--audit-stderr)"
	if cfg.Audit.File != "" {
		trail = fmt.Sprintf("%s (sportello audit verify %s --key %s; --audit-stderr shows it here)",
			cfg.Audit.File, cfg.Audit.File, filepath.Join(cfg.Keys.Dir, "audit.key.pub"))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `
  sportello dev mode is running
  ─────────────────────────────
  Issuer (discovery):  %[1]s/.well-known/openid-configuration
  Demo clients:        demo-rp / demo-secret (confidential), demo-spa (public, PKCE S256),
                       demo-dpop (public, PKCE S256, DPoP-bound tokens: every token request needs a DPoP proof),
                       demo-service / demo-service-secret (client_credentials, token exchange, introspection),
                       demo-mtls and demo-fapi2 (TLS client certificates of testdata/pki, on the mTLS listener),
                       demo-jar (private_key_jwt and signed request objects, key testdata/dev/demo-jar.private.jwk.json)
                       redirect URIs http://127.0.0.1:9000/callback and http://localhost:9000/callback
  Try a login:         %[1]s/authorize?client_id=demo-rp&response_type=code&scope=openid%%20profile%%20fiscal_number&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9000%%2Fcallback&state=xyz
  Test people:         see testdata/dev/README.md (CIE/CNS client certificates in testdata/pki)
  Security console:    %[1]s/console/ (Elena Conti, CNTLNE75E52L736Y, at SPID level 3 or with testdata/pki/elena-conti-cie.crt)
  Health:              %[1]s/healthz  %[1]s/readyz  %[1]s/metrics
  Audit trail:         %[2]s

`, iss, trail)
	return sb.String()
}

// devMTLSClients are the dev clients that authenticate with a TLS client certificate (RFC
// 8705 §2.1), issued by the dev TLS root to testdata/pki/demo-mtls and demo-fapi2 (go run
// ./testdata/pki/genclients): they live here, not in dev.yaml, because their files are under
// the testdata directory rather than the data directory. demo-mtls is a relying party and a
// service whose tokens are bound to its certificate; demo-fapi2 follows the FAPI 2.0 profile.
// Both reach the token-side endpoints on the mutual-TLS listener only.
func devMTLSClients(pki string) []config.Client {
	bound := true
	redirects := []string{"http://127.0.0.1:9000/callback", "http://localhost:9000/callback"}
	logout := []string{"http://127.0.0.1:9000/", "http://localhost:9000/"}
	scopes := []string{"openid", "profile", "email", "phone", "fiscal_number", "offline_access"}
	ca := filepath.Join(pki, "server-ca.crt")
	return []config.Client{{
		ID: "demo-mtls", Name: "Demo mTLS client", DisplayName: config.Text{"it": "Servizio demo (mTLS)", "en": "Demo service (mTLS)"},
		AuthMethod: config.AuthTLSClient, TLSClientAuthCAFile: ca, TLSClientAuthSubjectDN: "CN=demo-mtls,O=Sportello DEV,C=IT",
		TLSClientCertificateBoundAccessTokens: &bound, Introspect: true,
		RedirectURIs: redirects, PostLogoutRedirectURIs: logout, Scopes: append(scopes, "inps:services"),
		GrantTypes: []string{config.GrantAuthorizationCode, config.GrantRefreshToken, config.GrantClientCredentials},
	}, {
		ID: "demo-fapi2", Name: "Demo FAPI 2.0 client", DisplayName: config.Text{"it": "Servizio demo (FAPI 2.0)", "en": "Demo service (FAPI 2.0)"},
		Profile: config.ProfileFAPI2, TLSClientAuthCAFile: ca, TLSClientAuthSANDNS: "demo-fapi2.sportello.dev",
		RedirectURIs: redirects, PostLogoutRedirectURIs: logout, Scopes: scopes,
	}}
}

// devJARClient is the dev client whose authorization requests come only inside signed request
// objects (RFC 9101, require_signed_request_object) and which authenticates with
// private_key_jwt (RFC 7523), both with the dev-only key of testdata/dev (go run
// ./testdata/dev/genjar): its public half is the client's jwks_file. It lives here, not in
// dev.yaml, because the file is under the testdata directory rather than the data directory.
func devJARClient(dir string) config.Client {
	return config.Client{
		ID: "demo-jar", Name: "Demo JAR client", DisplayName: config.Text{"it": "Servizio demo (JAR)", "en": "Demo service (JAR)"},
		AuthMethod: config.AuthPrivateKeyJWT, JWKSFile: filepath.Join(dir, "demo-jar.jwks.json"), RequireSignedRequestObject: true,
		RedirectURIs:           []string{"http://127.0.0.1:9000/callback", "http://localhost:9000/callback"},
		PostLogoutRedirectURIs: []string{"http://127.0.0.1:9000/", "http://localhost:9000/"},
		Scopes:                 []string{"openid", "profile", "email", "phone", "fiscal_number", "offline_access"},
		GrantTypes:             []string{config.GrantAuthorizationCode, config.GrantRefreshToken},
	}
}
