package db

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoPostgres means no PostgreSQL server binaries were found.
var ErrNoPostgres = errors.New("no PostgreSQL server binaries found (install the Debian package \"postgresql\", set CITYBOT_PG_BIN to the directory holding initdb and pg_ctl, or set DATABASE_URL)")

// LocalOptions configures an embedded local cluster.
type LocalOptions struct {
	// Dir holds the cluster: Dir/pgdata (data), Dir/run (socket),
	// Dir/postgres.log. Empty: ClusterDir(ProjectDir).
	Dir string
	// ProjectDir is the directory of the application's own state
	// (CITYBOT_DATA_DIR) the cluster belongs to, when Dir is empty.
	ProjectDir string
	// BinDir holds initdb and pg_ctl; found automatically when empty.
	BinDir string
	// Database is created when missing; default "citybot".
	Database string
	// Fast trades durability for speed (fsync off): for tests only.
	Fast bool
	// Settings are further server settings ("name=value"), e.g. for
	// benchmarks "shared_preload_libraries=pg_stat_statements".
	Settings []string
	Logger   *slog.Logger
}

// SystemClusterRoot holds the embedded clusters of citybot run as root
// (see ClusterDir).
const SystemClusterRoot = "/var/lib/citybot"

// ClusterDir is where the embedded cluster of the application state in
// projectDir (CITYBOT_DATA_DIR) lives. Run by an ordinary user, the cluster
// runs as that user and lives in projectDir itself. Run as root, it runs as
// the postgres OS user, who usually cannot reach projectDir (a clone under
// /root, mode 0700): it lives in /var/lib/citybot/<name>-<hash>, <name>
// being the project's directory name and <hash> a short hash of
// projectDir's absolute path (one cluster per project directory), unless
// projectDir holds a cluster already (an older layout, kept where it is).
func ClusterDir(projectDir string) (string, error) {
	abs, err := filepath.Abs(projectDir)
	if err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	if os.Geteuid() != 0 {
		return abs, nil
	}
	if _, err := os.Stat(filepath.Join(abs, "pgdata", "PG_VERSION")); err == nil {
		return abs, nil
	}
	sum := sha256.Sum256([]byte(abs))
	name := filepath.Base(filepath.Dir(abs))
	if filepath.Base(abs) != ".citybot" {
		name = filepath.Base(abs)
	}
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name)
	name = strings.TrimLeft(name, ".")
	if len(name) > 40 {
		name = name[:40]
	}
	if name == "" {
		name = "citybot"
	}
	return filepath.Join(SystemClusterRoot, name+"-"+hex.EncodeToString(sum[:])[:12]), nil
}

// Local is a private PostgreSQL cluster listening on a Unix socket only.
type Local struct {
	opts    LocalOptions
	binDir  string
	dir     string
	cred    *syscall.Credential
	owned   bool // started by us, so stopped by us
	dataDir string
	sockDir string
}

// FindPGBin returns the directory with initdb and pg_ctl: the given one,
// the newest /usr/lib/postgresql/*/bin, or the PATH.
func FindPGBin(given string) (string, error) {
	if given != "" {
		if _, err := os.Stat(filepath.Join(given, "pg_ctl")); err != nil {
			return "", fmt.Errorf("CITYBOT_PG_BIN=%s: no pg_ctl there", given)
		}
		return given, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoPostgres
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// StartLocal initialises the cluster if needed and starts it, or attaches to
// it when it is already running (then Stop leaves it running).
func StartLocal(ctx context.Context, opts LocalOptions) (*Local, error) {
	if opts.Database == "" {
		opts.Database = "citybot"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	bin, err := FindPGBin(opts.BinDir)
	if err != nil {
		return nil, err
	}
	if opts.Dir == "" {
		if opts.Dir, err = ClusterDir(opts.ProjectDir); err != nil {
			return nil, err
		}
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	l := &Local{opts: opts, binDir: bin, dir: dir, dataDir: filepath.Join(dir, "pgdata"), sockDir: filepath.Join(dir, "run")}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: run it as the postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root, but there is no \"postgres\" OS user to run the local PostgreSQL cluster (install the Debian package \"postgresql\" or set DATABASE_URL)")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		l.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if strings.HasPrefix(dir, SystemClusterRoot+"/") {
			// The parent is root's and traversable, so that only the
			// cluster's own directory belongs to postgres.
			if err := os.MkdirAll(SystemClusterRoot, 0o755); err != nil {
				return nil, fmt.Errorf("create %s: %w", SystemClusterRoot, err)
			}
		}
	}
	for _, d := range []string{dir, l.sockDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", d, err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return nil, fmt.Errorf("chmod %s: %w", d, err)
		}
		if err := l.chown(d); err != nil {
			return nil, err
		}
	}
	if project, _ := filepath.Abs(opts.ProjectDir); opts.ProjectDir != "" && dir != project {
		// Which project a cluster elsewhere belongs to.
		note := filepath.Join(dir, "project")
		if err := os.WriteFile(note, []byte(project+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", note, err)
		}
	}
	if _, err := os.Stat(filepath.Join(l.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		opts.Logger.Info("initialising local PostgreSQL cluster", "dir", l.dataDir)
		if err := l.run(ctx, "initdb", "-D", l.dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
			return nil, fmt.Errorf("initdb: %w", err)
		}
	}
	if l.running(ctx) {
		opts.Logger.Info("local PostgreSQL cluster already running; attaching", "dir", l.dataDir)
	} else {
		o := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories='%s' -c max_connections=200", l.sockDir)
		if opts.Fast {
			o += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
		}
		for _, kv := range opts.Settings {
			o += " -c " + kv
		}
		logFile := filepath.Join(dir, "postgres.log")
		if err := l.run(ctx, "pg_ctl", "-D", l.dataDir, "-l", logFile, "-w", "-t", "60", "-o", o, "start"); err != nil {
			return nil, fmt.Errorf("start local PostgreSQL (log: %s): %w", logFile, err)
		}
		l.owned = true
	}
	if err := l.ensureDatabase(ctx); err != nil {
		_ = l.Stop()
		return nil, err
	}
	return l, nil
}

func (l *Local) chown(path string) error {
	if l.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(l.cred.Uid), int(l.cred.Gid)); err != nil {
		return fmt.Errorf("chown %s: %w", path, err)
	}
	return nil
}

func (l *Local) running(ctx context.Context) bool {
	return l.run(ctx, "pg_ctl", "-D", l.dataDir, "status") == nil
}

func (l *Local) run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(l.binDir, name), args...)
	// Own process group: a Ctrl-C in the terminal must reach us, not the
	// postmaster, so we can drain work before stopping the cluster.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: l.cred}
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if len(msg) > 600 {
			msg = msg[len(msg)-600:]
		}
		return fmt.Errorf("%s: %w: %s", name, err, msg)
	}
	return nil
}

// Dir is the directory holding the cluster: pgdata (data), run (socket),
// postgres.log.
func (l *Local) Dir() string { return l.dir }

// URL returns the connection URL of the given database of the cluster.
func (l *Local) URL(database string) string {
	if database == "" {
		database = l.opts.Database
	}
	return fmt.Sprintf("postgres:///%s?host=%s&user=postgres&sslmode=disable", database, l.sockDir)
}

func (l *Local) ensureDatabase(ctx context.Context) error {
	d, err := Open(ctx, l.URL("postgres"))
	if err != nil {
		return err
	}
	defer d.Close()
	var exists bool
	if err := d.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, l.opts.Database); err != nil {
		return fmt.Errorf("check database: %w", err)
	}
	if !exists {
		if _, err := d.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(l.opts.Database, `"`, ``)+`"`); err != nil && !IsUniqueViolation(err) {
			return fmt.Errorf("create database: %w", err)
		}
	}
	return nil
}

// Stop stops the cluster if this process started it.
func (l *Local) Stop() error {
	if !l.owned {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l.owned = false
	pid := l.postmasterPID()
	err := l.run(ctx, "pg_ctl", "-D", l.dataDir, "-m", "fast", "-w", "stop")
	if err != nil && pid > 0 && ProcessAlive(pid) {
		// a fast shutdown that did not finish: do not leave the
		// postmaster behind (the next start recovers from the WAL)
		if ierr := l.run(ctx, "pg_ctl", "-D", l.dataDir, "-m", "immediate", "-w", "stop"); ierr == nil {
			err = nil
		}
	}
	// pg_ctl returns when postmaster.pid is gone, which the postmaster
	// removes shortly before it exits: wait for the process itself, so
	// that no PostgreSQL process outlives the caller.
	for pid > 0 && ProcessAlive(pid) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if pid > 0 && ProcessAlive(pid) {
		err = errors.Join(err, fmt.Errorf("postmaster %d still running after stop", pid))
	}
	if err != nil {
		l.opts.Logger.Error("stopping the local PostgreSQL", "err", err, "dir", l.dir)
	}
	return err
}

// postmasterPID is the process id in the cluster's postmaster.pid (0 when
// there is none).
func (l *Local) postmasterPID() int {
	b, err := os.ReadFile(filepath.Join(l.dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}

// ProcessAlive reports whether a process with that id exists and is not a
// zombie.
func ProcessAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// the state follows the command name in parentheses
	if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) {
		return b[i+2] != 'Z'
	}
	return true
}
