package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/storetest"
)

// errExited is returned when redis-server exits before answering PING.
var errExited = errors.New("redis-server exited before answering PING")

// startTimeout bounds how long a redis-server may take to answer PING (AOF loading included).
const startTimeout = 20 * time.Second

// Process is a redis-server started for one test, on 127.0.0.1 and a port of its own, with its
// working directory (RDB/AOF files) in a temporary directory that survives Restart.
type Process struct {
	t    testing.TB
	bin  string
	args []string
	port int
	dir  string
	conf string // Sentinels: a config file, first argument, rewritten by the Sentinel

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	out  *storetest.Buffer
}

// StartProcess starts redis-server with persistence off (--save "" --appendonly no) plus args,
// which may override those (for example "--appendonly", "yes"), waits until it answers PING
// and stops it when t ends.
func StartProcess(t testing.TB, args ...string) *Process {
	t.Helper()
	return startProcess(t, &Process{t: t, bin: binary(t), args: args, dir: t.TempDir()})
}

func startProcess(t testing.TB, p *Process) *Process {
	t.Helper()
	t.Cleanup(p.Kill)
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if p.port, err = freePort(); err != nil {
			break
		}
		err = p.start()
		if !errors.Is(err, errExited) { // another process may have taken the port: retry
			break
		}
	}
	if err == nil {
		return p
	}
	t.Fatalf("redistest: starting redis-server: %v", err)
	return nil
}

// Addr returns host:port.
func (p *Process) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)) }

// URL returns redis://host:port.
func (p *Process) URL() string { return "redis://" + p.Addr() }

// Dir returns the server's working directory, where RDB and AOF files go.
func (p *Process) Dir() string { return p.dir }

// Stop shuts the server down gracefully (SIGTERM, so it flushes its AOF), and kills it if it
// has not exited within 10 seconds. Stopping a stopped server does nothing.
func (p *Process) Stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM, 10*time.Second)
}

// Kill ends the server at once (SIGKILL), as a crash would. Killing a stopped server does
// nothing.
func (p *Process) Kill() { p.signal(syscall.SIGKILL, 10*time.Second) }

// Restart stops the server if it runs, then starts it again on the same port and directory
// and waits until it answers PING.
func (p *Process) Restart() {
	p.t.Helper()
	p.Stop()
	if err := p.start(); err != nil {
		p.t.Fatalf("redistest: restarting redis-server: %v", err)
	}
}

// Log returns what the server has written to stdout and stderr, for diagnostics.
func (p *Process) Log() string { return p.out.String() }

func (p *Process) start() error {
	var args []string
	if p.conf != "" {
		args = []string{p.conf, "--sentinel", "--port", strconv.Itoa(p.port), "--bind", "127.0.0.1", "--dir", p.dir}
	} else {
		args = []string{
			"--port", strconv.Itoa(p.port),
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--dir", p.dir,
			"--logfile", "",
		}
	}
	args = append(args, p.args...)
	cmd := exec.Command(p.bin, args...)
	out := &storetest.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := spawn(cmd); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done, p.out = cmd, done, out
	p.mu.Unlock()
	if err := waitReady(p.Addr(), done); err != nil {
		p.Kill()
		return fmt.Errorf("%w; server output:\n%s", err, out.String())
	}
	return nil
}

// signal sends sig to the server's process group and waits for it to exit, escalating to
// SIGKILL after grace.
func (p *Process) signal(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-done:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

// waitReady polls addr with PING until it answers PONG, the process exits or time runs out.
func waitReady(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(startTimeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errExited
		default:
		}
		reply, err := ping(addr)
		if err == nil && (reply == "+PONG" || strings.HasPrefix(reply, "-NOAUTH")) {
			return nil // NOAUTH: up, with --requirepass
		}
		if err != nil {
			last = err.Error()
		} else {
			last = reply // -LOADING while the AOF is replayed
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("redis-server at %s not ready after %v: %s", addr, startTimeout, last)
}

func ping(addr string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line), err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
