package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"citybot/internal/db"
)

// TestFreshMachine runs the binary as a new user would after cloning the
// repository: no settings at all (the embedded PostgreSQL cluster, the demo
// city), from a project directory whose parent is private (mode 0700, as
// /root and most home directories are). As root, the cluster runs as the
// postgres OS user, who cannot reach that directory; as an ordinary user it
// runs as that user. Either way the web UI must come up, and Ctrl-C must
// stop everything, the cluster included.
//
// The ordinary user is the test's own when it runs as one; run as root (as
// CI does), the test uses the OS user citybot-test, created with useradd
// when missing and removed again.
func TestFreshMachine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildCitybot(t)
	if os.Geteuid() != 0 {
		t.Run("user", func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			must(t, os.Mkdir(home, 0o700))
			freshRun(t, bin, home, nil)
		})
		t.Logf("not run as root: the root case needs root")
		return
	}
	t.Run("root", func(t *testing.T) {
		home := filepath.Join(t.TempDir(), "root")
		must(t, os.Mkdir(home, 0o700))
		freshRun(t, bin, home, nil)
	})
	t.Run("user", func(t *testing.T) {
		u := testUser(t)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		home := filepath.Join(u.HomeDir, "fresh-"+strconv.Itoa(os.Getpid()))
		must(t, os.Mkdir(home, 0o700))
		must(t, os.Chown(home, uid, gid))
		t.Cleanup(func() { os.RemoveAll(home) })
		// The user's own copy of the binary: root's temporary directory is
		// out of the user's reach.
		ubin := filepath.Join(home, "citybot-bin")
		b, err := os.ReadFile(bin)
		must(t, err)
		must(t, os.WriteFile(ubin, b, 0o755))
		must(t, os.Chown(ubin, uid, gid))
		freshRun(t, ubin, home, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)})
	})
}

// testUser returns the OS user citybot-test, creating it (with a home
// directory of mode 0700) when it does not exist; a user created here is
// removed when the test ends.
func testUser(t *testing.T) *user.User {
	t.Helper()
	const name = "citybot-test"
	u, err := user.Lookup(name)
	if err != nil {
		if out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/sh", name).CombinedOutput(); err != nil {
			t.Fatalf("useradd %s: %v\n%s", name, err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("userdel", "--remove", name).CombinedOutput(); err != nil {
				t.Logf("userdel %s: %v\n%s", name, err, out)
			}
		})
		if u, err = user.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	must(t, os.Chmod(u.HomeDir, 0o700))
	return u
}

// freshRun runs the binary with no settings in home/citybot (cred: as that
// user), checks /healthz and /readyz, stops it with SIGINT and checks that
// no PostgreSQL process of its cluster is left.
func freshRun(t *testing.T, bin, home string, cred *syscall.Credential) {
	project := filepath.Join(home, "citybot")
	must(t, os.Mkdir(project, 0o755))
	if cred != nil {
		must(t, os.Chown(project, int(cred.Uid), int(cred.Gid)))
	}
	cmd := exec.Command(bin)
	cmd.Dir = project
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "CITYBOT_HTTP_ADDR=127.0.0.1:0", "CITYBOT_LOG_FORMAT=json"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	stderr, err := cmd.StderrPipe()
	must(t, err)
	out := &procLog{}
	cmd.Stdout = out
	must(t, cmd.Start())
	done := make(chan error, 1)
	lines := make(chan map[string]any, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			out.Write(append(sc.Bytes(), '\n'))
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				select {
				case lines <- m:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		done <- cmd.Wait()
	}()
	exited := false
	t.Cleanup(func() {
		// After a failure: stop it as a user would, so that it stops its
		// cluster too.
		if exited {
			return
		}
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	})

	// The log says where the cluster is, and the URL of the web UI.
	var clusterDir, url string
	deadline := time.After(90 * time.Second)
	for url == "" {
		select {
		case m := <-lines:
			if d, ok := m["dir"].(string); ok && strings.HasPrefix(m["msg"].(string), "using embedded local PostgreSQL") {
				clusterDir = d
			}
			if u, ok := m["url"].(string); ok {
				url = u
			}
		case err := <-done:
			exited = true
			t.Fatalf("citybot exited at start-up: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("no URL logged within 90 s\n%s", out.String())
		}
	}
	t.Logf("cluster in %s", clusterDir)
	if clusterDir == "" {
		t.Fatalf("the log does not say where the cluster is\n%s", out.String())
	}
	if cred == nil && os.Geteuid() == 0 {
		t.Cleanup(func() { os.RemoveAll(clusterDir) })
	}
	// Owned by the user the cluster runs as.
	var st syscall.Stat_t
	must(t, syscall.Stat(filepath.Join(clusterDir, "pgdata"), &st))
	wantUID := uint32(os.Geteuid())
	if cred != nil {
		wantUID = cred.Uid
	} else if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		must(t, err)
		uid, _ := strconv.Atoi(pg.Uid)
		wantUID = uint32(uid)
	}
	if st.Uid != wantUID {
		t.Errorf("%s/pgdata is owned by uid %d, want %d", clusterDir, st.Uid, wantUID)
	}
	pidText, err := os.ReadFile(filepath.Join(clusterDir, "pgdata", "postmaster.pid"))
	must(t, err)
	postmaster, _ := strconv.Atoi(strings.SplitN(string(pidText), "\n", 2)[0])
	if postmaster <= 0 || !db.ProcessAlive(postmaster) {
		t.Fatalf("postmaster.pid names no running process: %q", pidText)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		r, err := http.Get(url + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", path, r.StatusCode)
		}
	}

	must(t, cmd.Process.Signal(os.Interrupt))
	select {
	case err := <-done:
		exited = true
		if err != nil {
			t.Errorf("citybot exited with %v after SIGINT\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("citybot did not stop within 30 s of SIGINT\n%s", out.String())
	}
	if db.ProcessAlive(postmaster) {
		t.Errorf("the postmaster (pid %d) still runs after citybot stopped", postmaster)
	}
	if left := processesUsing(clusterDir); len(left) > 0 {
		t.Errorf("processes of the cluster left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(clusterDir, "pgdata", "postmaster.pid")); err == nil {
		t.Errorf("postmaster.pid still there: the cluster was not shut down cleanly")
	}
	if t.Failed() {
		t.Logf("citybot output:\n%s", out.String())
	}
}

// processesUsing lists the processes whose command line names dir.
func processesUsing(dir string) []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(b, []byte(dir)) || !db.ProcessAlive(pid) {
			continue
		}
		found = append(found, e.Name()+": "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return found
}
