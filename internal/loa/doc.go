// Package loa holds the levels of assurance sportello speaks: the three SPID level URIs that
// appear in acr_values, in the acr claim and in SAML's RequestedAuthnContext, their numbers,
// and the two ways of comparing a level reached with the level asked.
//
// It is a leaf: the broker, the providers, pin and config all name levels through it, and it
// imports nothing of sportello's.
package loa
