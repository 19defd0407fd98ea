package redistest

import (
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy on 127.0.0.1 in front of a Redis server that delays what the server
// sends by a random lag (SetLag), in order: a replica pointed at it receives its replication
// stream late, as over a slow link. What the client sends goes through at once.
type Proxy struct {
	ln       net.Listener
	target   string
	min, max atomic.Int64 // nanoseconds
	cut      atomic.Bool

	mu    sync.Mutex
	conns []net.Conn
}

// StartProxy listens on a free port of 127.0.0.1 and forwards every connection to target
// (host:port), without lag until SetLag; it stops when t ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target}
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Port returns the proxy's port, for --replicaof 127.0.0.1 <port>.
func (p *Proxy) Port() string {
	_, port, _ := net.SplitHostPort(p.Addr())
	return port
}

// SetLag delays each chunk the server sends by a random duration in [min, max] (kept in
// order: a chunk never overtakes the one before it). 0, 0 forwards at once.
func (p *Proxy) SetLag(min, max time.Duration) {
	p.min.Store(int64(min))
	p.max.Store(int64(max))
}

func (p *Proxy) lag() time.Duration {
	lo, hi := p.min.Load(), p.max.Load()
	if hi <= lo {
		return time.Duration(lo)
	}
	return time.Duration(lo + rand.Int64N(hi-lo+1)) //nolint:gosec // a test link's lag, not a secret
}

// Cut drops what the server sent and the client has not received yet, and closes every
// connection: the link dies with the server's machine, as in a crash of the host, where the
// bytes still on their way are lost too (killing the server alone lets the proxy deliver
// them).
func (p *Proxy) Cut() {
	p.cut.Store(true)
	p.Close()
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *Proxy) accept() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = down.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, down, up)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, down); _ = up.Close() }()
		go p.delayed(down, up)
	}
}

// delayed copies up to down, each chunk no earlier than its lag after it was read. When up
// ends (the server died), what was read is still delivered, then down is closed.
func (p *Proxy) delayed(down, up net.Conn) {
	type chunk struct {
		b   []byte
		due time.Time
	}
	ch := make(chan chunk, 1024)
	go func() {
		defer close(ch)
		var last time.Time
		for {
			buf := make([]byte, 32<<10)
			n, err := up.Read(buf)
			if n > 0 {
				due := time.Now().Add(p.lag())
				if due.Before(last) {
					due = last
				}
				last = due
				ch <- chunk{buf[:n], due}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.due))
		if p.cut.Load() {
			break
		}
		if _, err := down.Write(c.b); err != nil {
			break
		}
	}
	_ = down.Close()
}
