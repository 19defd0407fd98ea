// Package samltest is what the tests of every SAML profile share (SPID, CIE ID, eIDAS through
// FICEP): the hostile-response table and its runner over a profile's Assertion Consumer
// Service, the builder of signed hostile variants, a settable clock and a recording Finisher.
// It is imported by tests only.
package samltest
