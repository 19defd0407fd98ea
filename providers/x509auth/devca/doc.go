// Package devca serves the dev PKI of testdata/pki over HTTP: the CRLs of the dev CAs and a real
// OCSP responder (RFC 6960, signed with the delegated responder keys, nonce echoed) that knows
// the revoked dev certificates. Dev mode mounts it at /dev/pki/ (the URLs the dev certificates
// carry); tests mount it on httptest servers. It is for dev and tests only: it holds CA keys.
package devca
