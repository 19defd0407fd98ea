package redistest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of primaries without replicas, each a Process of its own.
type Cluster struct {
	Nodes []*Process
}

// StartCluster starts n (at least 3) cluster-enabled redis-servers, splits the 16384 slots
// between them, joins them and waits until every node reports cluster_state:ok.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 3 {
		t.Fatalf("redistest: a Redis Cluster needs at least 3 primaries, not %d", n)
	}
	c := &Cluster{}
	var buses []int
	for range n {
		bus, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		buses = append(buses, bus)
		c.Nodes = append(c.Nodes, StartProcess(t,
			"--cluster-enabled", "yes",
			"--cluster-port", strconv.Itoa(bus),
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const slots = 16384
	for i, p := range c.Nodes {
		cl := goredis.NewClient(&goredis.Options{Addr: p.Addr()})
		first, last := i*slots/n, (i+1)*slots/n-1
		err := cl.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", first, last).Err()
		if err == nil && i > 0 {
			// With --cluster-port the bus port is not port+10000: MEET must be told.
			err = cl.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", c.Nodes[0].port, buses[0]).Err()
		}
		_ = cl.Close()
		if err != nil {
			t.Fatalf("redistest: forming the cluster: %v", err)
		}
	}
	for _, p := range c.Nodes {
		cl := goredis.NewClient(&goredis.Options{Addr: p.Addr()})
		err := waitFor(ctx, func() (bool, string) {
			info, err := cl.ClusterInfo(ctx).Result()
			if err != nil {
				return false, err.Error()
			}
			return strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(n)), info
		})
		_ = cl.Close()
		if err != nil {
			t.Fatalf("redistest: cluster node %s: %v", p.Addr(), err)
		}
	}
	return c
}

// Addrs returns every node's host:port.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, p := range c.Nodes {
		addrs[i] = p.Addr()
	}
	return addrs
}

// waitFor polls cond every 20ms until it holds or ctx ends, reporting cond's last state.
func waitFor(ctx context.Context, cond func() (bool, string)) error {
	for {
		ok, state := cond()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w; last state: %s", ctx.Err(), state)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
