package dpop_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/inps/sportello/broker/verify/dpop"
)

// storeCache is a ReplayCache over a put-if-absent store; a map stands in for the shared
// store here.
type storeCache struct {
	mu sync.Mutex
	m  map[string]time.Time
}

func (c *storeCache) Seen(_ context.Context, key string, exp time.Time) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; ok {
		return true, nil
	}
	c.m[key] = exp // a store would keep it until exp (PutIfAbsent with a TTL)
	return false, nil
}

// A token endpoint checks the proof that comes with a token request, and binds the tokens
// it issues to the proof's key (cnf.jkt); a stale or missing nonce asks the client to retry
// with the one in DPoP-Nonce.
func Example() {
	nonces, _ := dpop.NewNonces([]byte("a 32-byte key shared by replicas"), 0, nil)
	checker, _ := dpop.NewChecker(dpop.Options{Replay: &storeCache{m: map[string]time.Time{}}, Nonces: nonces})
	proof := "" // the request's DPoP header, from dpop.FromHeader
	_, err := checker.Check(context.Background(), proof, dpop.Request{Method: "POST", URI: "https://login.inps.it/oauth/token"})
	fmt.Println(dpop.ErrorCode(err))
	// Output: invalid_dpop_proof
}
