// Package oidcfed is SPID and CIE over OpenID Connect Federation 1.0: the broker as a
// federation Relying Party of the SPID and CIE OpenID Providers (the AgID and Ministry of the
// Interior profiles, "SPID/CIE OIDC").
//
// The pieces, one file each: entity statements (parse and verify, statement.go), metadata
// policies (policy.go), trust chains to configured trust anchors, cached in the Store until
// the shortest exp of the chain (chain.go), the federation keys with current, next and retired
// keys, in a file or sealed in the Store with the broker's keys (keys.go, keystore.go), the
// broker's own entity configuration at /.well-known/openid-federation (entity.go), and the login: a signed request object with PKCE S256, the token request with
// private_key_jwt, the ID token checked against the OP's federation-verified keys and the
// userinfo answer as a signed-then-encrypted JWT (login.go, tokens.go), the revocation at
// logout (logout.go), the transaction log in the audit trail (audit.go), readiness, and the
// operators' "sportello federation" command (cli.go).
//
// JOSE is go-jose v4 throughout (JWS, JWE, JWK thumbprints); nothing here signs or encrypts
// by hand. Package devfed is the dev federation (trust anchor, intermediate, a SPID OP and a
// CIE OP) dev mode runs in the same process.
package oidcfed
