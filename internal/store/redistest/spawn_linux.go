package redistest

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// sysProcAttr puts the server in its own process group (so cleanup kills it and anything it
// forks, such as an AOF rewrite child) and asks the kernel to SIGKILL it when the thread that
// started it dies, so that a crashed or interrupted test binary leaves no orphan behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// spawnRequests feeds the one goroutine that starts servers. Pdeathsig fires when the
// *thread* that forked the child exits; that goroutine stays locked to its thread for the
// life of the test binary, so the signal fires only when the binary itself dies.
var (
	spawnRequests = make(chan spawnRequest)
	spawnerOnce   sync.Once
)

type spawnRequest struct {
	cmd  *exec.Cmd
	errc chan error
}

func spawner() {
	runtime.LockOSThread() // never unlocked: the thread lives as long as the process
	for r := range spawnRequests {
		r.errc <- r.cmd.Start()
	}
}

func spawn(cmd *exec.Cmd) error {
	spawnerOnce.Do(func() { go spawner() })
	errc := make(chan error, 1)
	spawnRequests <- spawnRequest{cmd, errc}
	return <-errc
}
