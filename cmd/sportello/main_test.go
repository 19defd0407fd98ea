package main

import (
	"os"
	"testing"
)

// asMain makes the test binary the sportello command when set in its environment: tests that
// must watch a real process (its standard error, its exit, a signal) run it as
// `os.Args[0] serve ...` with asMain=1, through main and its process-wide set-up.
const asMain = "SPORTELLO_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}
