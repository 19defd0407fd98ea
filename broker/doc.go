// Package broker is sportello's OpenID Connect provider and login orchestration.
//
// It implements zitadel/oidc's op.Server for the token, introspection, userinfo, revocation
// and end-session endpoints, serves /authorize, discovery and JWKS itself (pre-serialised),
// runs the pending login through the configured providers (the chooser page, the one Finish
// path that turns a verified providers.Identity into an authorization code), and keeps every
// piece of cross-request state in a store.Store so replicas are interchangeable.
package broker
