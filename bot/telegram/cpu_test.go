package telegram

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
)

// cpuClock is 1/s of the kernel's clock ticks in /proc (USER_HZ).
const cpuClock = 100

// selfCPU is the CPU time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the CPU time the database server of d used so far: its
// postmaster, the reaped children (cutime/cstime) and the live backends.
// It is 0 where /proc is not readable (the figure is then not reported).
func postgresCPU(d *sqlx.DB) time.Duration {
	var backend int
	if d.Get(&backend, `SELECT pg_backend_pid()`) != nil {
		return 0
	}
	stat := func(pid int) []string {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return nil
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			return strings.Fields(s[i+2:]) // fields from 3 (state) on
		}
		return nil
	}
	f := stat(backend)
	if len(f) < 15 {
		return 0
	}
	postmaster, _ := strconv.Atoi(f[1]) // ppid
	ticks := func(f []string, idx ...int) int64 {
		var n int64
		for _, i := range idx {
			v, _ := strconv.ParseInt(f[i-3], 10, 64)
			n += v
		}
		return n
	}
	pm := stat(postmaster)
	if len(pm) < 15 {
		return 0
	}
	total := ticks(pm, 14, 15, 16, 17) // utime, stime, cutime, cstime
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == postmaster {
			continue
		}
		if f := stat(pid); len(f) >= 15 && f[1] == strconv.Itoa(postmaster) {
			total += ticks(f, 14, 15)
		}
	}
	return time.Duration(total) * time.Second / cpuClock
}
