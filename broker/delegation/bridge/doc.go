// Package bridge offers the delegation registry to the broker as a broker.Delegations: the
// delegations a delegate may act on at login (the "act for yourself or for …" question) and
// the check that stops a delegated session's refresh tokens once the delegation ends. It is
// a package of its own so that neither broker nor delegation imports the other.
package bridge
