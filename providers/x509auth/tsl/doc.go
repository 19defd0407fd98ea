// Package tsl imports an ETSI TS 119 612 trusted list (the Italian list as AgID publishes it)
// into a PEM bundle of smart-card trust anchors: it keeps the services of type
// http://uri.etsi.org/TrstSvc/Svctype/IdV whose status is granted or recognised at national
// level, and verifies the list's enveloped XML signature (goxmldsig) when given the signer
// certificate. CLI is the "sportello trust import-tsl" command.
package tsl
