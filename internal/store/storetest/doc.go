// Package storetest is the conformance suite every store.Store implementation runs: one set of
// rules, named after the behaviour they pin down, so memory and Redis cannot drift apart.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return newStoreForTest(t) })
//	}
//
// Stores built on an injected clock let the suite move time: return a value that also
// implements Advancer (ClockedStore pairs a store with a Clock). For the others the suite
// waits for real, once, on short TTLs. Bench measures the common operations.
package storetest
