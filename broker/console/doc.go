// Package console is the security team's JSON API under /console/api/: the state of every
// upstream (providers; identity providers with their metadata source and refresh; CIE and
// CNS certification authorities with the health of their CRLs and OCSP responders; the
// logins of the last hour of each, by outcome), the clients, the signing keys, the replicas seen
// recently, the audit trail with its chain verification, the cluster-wide switches, and the
// actions of an incident day (force a metadata refresh, rotate the signing keys, unlock a PIN
// lockout, revoke a person's sessions and refresh tokens).
//
// The broker and cmd/sportello supply what it shows and does through small interfaces
// (Sources, AuditLog, Actions): the package imports no concrete provider.
//
// # Authorisation
//
// Every endpoint but the OpenAPI document needs a bearer access token of this issuer
// (Config.Authorize, the broker's AuthorizeBearer): scope console:read to read, console:admin
// to read and change. A request without a valid token gets 401 invalid_token; a valid token
// without the scope the request needs gets 403 insufficient_scope, so a read-only operator
// never changes anything.
//
// # Switches
//
// A switch turns off, on every replica, an identity provider (kind idp), a provider or a
// client; the broker enforces it, not this package. An idp entry is a SPID, CIE ID or eIDAS
// IdP (id its entityID), an OpenID Provider of a federation (its entity id) or a CA a CIE or
// CNS certificate login trusts (id the hexadecimal SHA-256 of its certificate): a certificate
// login is refused when any CA of its verified chain is switched off, as a SPID login is when
// its IdP is.
//
// # Changes
//
// Every change is an audit record (type "console.*") whose actor is the operator. A change
// that needs the Store is refused with 503 temporarily_unavailable when the Store is
// unreachable, and then nothing was applied.
//
// The API is described by an OpenAPI 3 document served at /console/api/openapi.json; the
// tests validate every response against it.
package console
