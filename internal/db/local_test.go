package db

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestLocalStopLeavesNoProcess: when Stop returns, the postmaster has
// exited, not only removed its pid file (pg_ctl's -w waits for the file),
// so a process that stops its cluster and exits leaves no PostgreSQL
// process behind.
func TestLocalStopLeavesNoProcess(t *testing.T) {
	dir, err := os.MkdirTemp("", "citybot-localstop-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for i := range 2 {
		l, err := StartLocal(context.Background(), LocalOptions{Dir: filepath.Join(dir, "pg"), Database: "postgres", Fast: true})
		if err != nil {
			t.Fatal(err)
		}
		pid := l.postmasterPID()
		if pid <= 0 || !ProcessAlive(pid) {
			t.Fatalf("round %d: no running postmaster (pid %d)", i, pid)
		}
		if err := l.Stop(); err != nil {
			t.Fatalf("round %d: stop: %v", i, err)
		}
		if ProcessAlive(pid) {
			t.Fatalf("round %d: the postmaster (pid %d) still runs after Stop returned", i, pid)
		}
	}
	if ProcessAlive(os.Getpid()) != true {
		t.Error("processAlive does not see this process")
	}
}
