// Package session keeps the broker's SSO sessions in the Store: a record per session, by the
// hash of the browser cookie's secret (the cookie is a bearer secret that never leaves the
// browser; tokens carry the record's public id as their sid claim), sliding with the idle
// timeout up to an absolute maximum age, and an index by upstream session (for SAML: IdP,
// NameID and SessionIndex) through which an IdP-initiated logout ends it. Cookies are the
// broker's.
package session
