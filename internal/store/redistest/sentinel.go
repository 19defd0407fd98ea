package redistest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// StartSentinel starts a Redis Sentinel (redis-server --sentinel) watching primary under
// masterName, with a quorum of 1 and short timeouts (down after 1s, failover within 5s), so
// tests can kill the primary and watch a replica take over.
func StartSentinel(t testing.TB, masterName string, primary *Process) *Process {
	t.Helper()
	p := &Process{t: t, bin: binary(t), dir: t.TempDir()}
	host, port, _ := strings.Cut(primary.Addr(), ":")
	conf := fmt.Sprintf(`sentinel monitor %[1]s %[2]s %[3]s 1
sentinel down-after-milliseconds %[1]s 1000
sentinel failover-timeout %[1]s 5000
sentinel resolve-hostnames no
`, masterName, host, port)
	p.conf = filepath.Join(p.dir, "sentinel.conf")
	if err := os.WriteFile(p.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return startProcess(t, p)
}
