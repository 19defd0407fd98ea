package redistest_test

import (
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/inps/sportello/internal/store/redistest"
)

func TestProcessStopsRestartsAndLeavesNoOrphan(t *testing.T) {
	p := redistest.StartProcess(t)
	if !strings.HasPrefix(p.URL(), "redis://127.0.0.1:") {
		t.Fatalf("URL = %q", p.URL())
	}
	pid := serverPID(t, p.Addr())
	p.Stop()
	if alive(pid) {
		t.Fatalf("redis-server %d still alive after Stop", pid)
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("port still answers after Stop")
	}
	p.Restart()
	pid = serverPID(t, p.Addr())
	p.Kill()
	if alive(pid) {
		t.Fatalf("redis-server %d still alive after Kill", pid)
	}
	p.Kill() // idempotent
}

func TestStartGivesEachTestItsOwnPrefix(t *testing.T) {
	a, b := redistest.Start(t), redistest.Start(t)
	if a.Prefix == b.Prefix || !strings.HasSuffix(a.Prefix, ":") {
		t.Fatalf("prefixes %q and %q", a.Prefix, b.Prefix)
	}
	if a.URL == "" {
		t.Fatal("empty URL")
	}
}

// serverPID asks the server for its process id (INFO server).
func serverPID(t *testing.T, addr string) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("INFO server\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 8192)
	var got strings.Builder
	for !strings.Contains(got.String(), "process_id:") || !strings.Contains(got.String()[strings.Index(got.String(), "process_id:"):], "\r\n") {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("reading INFO: %v", err)
		}
		got.Write(buf[:n])
	}
	s := got.String()
	s = s[strings.Index(s, "process_id:")+len("process_id:"):]
	s = s[:strings.Index(s, "\r\n")]
	var pid int
	for _, r := range s {
		pid = pid*10 + int(r-'0')
	}
	return pid
}

func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// The proxy delays what the server sends by the lag set, in order, and delivers what it read
// before the server died.
func TestProxyDelaysTheServersBytes(t *testing.T) {
	p := redistest.StartProcess(t)
	px := redistest.StartProxy(t, p.Addr())
	c := goredis.NewClient(&goredis.Options{Addr: px.Addr(), MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatal(err)
	}
	px.SetLag(80*time.Millisecond, 120*time.Millisecond)
	start := time.Now()
	for i := range 5 {
		if err := c.Set(t.Context(), "k", i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 5*80*time.Millisecond {
		t.Fatalf("5 round trips took %v through an 80-120ms lag", took)
	}
	if v, err := c.Get(t.Context(), "k").Result(); err != nil || v != "4" {
		t.Fatalf("get %q %v", v, err)
	}
}
