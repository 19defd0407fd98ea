// Package web holds the citizen-facing look of the broker: the Bootstrap Italia files embedded
// in the binary (served under /static/ with a content hash and long cache headers) with
// sportello's own marks and favicon, the page layout (header with the INPS wordmark, language
// switch, skip link, footer), the broker's own pages (credential chooser with the SPID and CIE
// entry buttons, error, message, SAML POST form, forms whose fields carry their own errors,
// the 404 and 405 pages), the gg/mm/aaaa dates people type (ParseDate), and a Renderer that the
// broker and the page-serving providers share.
//
// Pages carry no inline script or style: the broker's Content-Security-Policy has a
// per-request nonce and no 'unsafe-inline'. Every page works without JavaScript; the only
// script is the auto-submit of the SAML HTTP-POST form, whose button stays visible.
package web
