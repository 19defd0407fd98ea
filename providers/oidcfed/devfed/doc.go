// Package devfed is the dev federation dev mode runs in the broker's process: a trust anchor,
// an intermediate, a dev SPID OpenID Provider and a dev CIE OpenID Provider, all published
// under /dev/oidcfed/, with the broker enrolled below the trust anchor. The OPs log in the
// same test people as the dev SPID identity providers, with the same form fields.
//
// Never in production: keys are generated at start, and the OPs accept a fixed password.
package devfed
