package redistest_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inps/sportello/internal/store/redistest"
)

const childEnv = "REDISTEST_ORPHAN_CHILD"

// The child half: start a server, report its pid, then die without running any cleanup.
func TestOrphanChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("helper process for TestServerDiesWithTheTestBinary")
	}
	p := redistest.StartProcess(t)
	fmt.Printf("PID %d\n", serverPID(t, p.Addr()))
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
}

func TestServerDiesWithTheTestBinary(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		redistest.StartProcess(t) // skips or fails with the install hint
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOrphanChild$", "-test.v")
	// The child is killed before its cleanups run: its temporary folders go in one of ours.
	cmd.Env = append(os.Environ(), childEnv+"=1", "TMPDIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if s, ok := strings.CutPrefix(sc.Text(), "PID "); ok {
			pid, _ = strconv.Atoi(s)
		}
	}
	_ = cmd.Wait()
	if pid == 0 {
		t.Fatal("child reported no redis-server pid")
	}
	deadline := time.Now().Add(5 * time.Second)
	for running(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("redis-server %d outlived the test binary that started it", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// running reports whether pid is a live process (a zombie waiting for its reaper is dead).
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
