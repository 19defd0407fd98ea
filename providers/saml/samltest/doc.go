// Package samltest is what the tests of every SAML profile share (SPID, CIE ID, eIDAS through
// FICEP): the hostile-response table (Rows) and the one harness that runs it over each
// profile's Assertion Consumer Service (RunProfile, RunGood), the three profiles' departures
// from it side by side (SPID, CIEID, EIDAS in profiles.go), the driver of a profile's SP and
// dev IdP (ACS: Start and Post; DevLogin through the dev IdP's form), the ACS fuzz target and
// its seed writer (FuzzACS, WriteFuzzSeeds), the golden-file comparison and the xmlsec1 check
// of the signed metadata (Golden, Xmlsec1VerifiesMetadata), the builder of signed hostile
// variants, a settable clock and a recording Finisher. It is imported by tests only.
package samltest
