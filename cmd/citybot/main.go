// Command citybot runs the city's citizen service: the Telegram bot, the
// staff inbox and the admin web UI. With no configuration it starts a
// private local PostgreSQL cluster and loads demo data.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"citybot/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "citybot:", err)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// app carries what every command needs.
type app struct {
	cfg    config.Config
	logger *slog.Logger
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		usage(stdout)
		return nil
	}
	cfg, err := config.Load(environ)
	if err != nil {
		return err
	}
	a := &app{cfg: cfg, logger: newLogger(cfg, stderr), stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return a.serve(ctx)
	}
	switch args[0] {
	case "serve":
		if len(args) > 1 {
			return fmt.Errorf("serve takes no arguments, got %q (settings are environment variables: see 'citybot help')", args[1])
		}
		return a.serve(ctx)
	case "migrate":
		return a.migrate(ctx)
	case "faq":
		return a.faqCmd(ctx, args[1:])
	case "user":
		return a.userCmd(ctx, args[1:])
	default:
		usage(stderr)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `citybot: the city's citizen service (Telegram bot, staff inbox, FAQ admin)

Commands:
  citybot [serve]                      run the service (web UI, bot when a token is set)
  citybot migrate                      apply database migrations and exit
  citybot faq import PATH              import departments.json / faq.json (a directory or one file)
  citybot faq export [--dir DIR]       export the FAQ (to DIR, or faq.json to stdout)
  citybot faq eval --questions FILE    score the matcher on a question set (JSON lines)
        [--faq DIR] [--verbose] [--json]
  citybot faq eval --saved             the same on the questions editors saved
  citybot faq train [--faq DIR] [--out FILE]
                                       fit the matcher's confidence model on the FAQ
  citybot user add --email E --name N --role admin|editor|staff [--departments a,b]
        (password from CITYBOT_NEW_PASSWORD_FILE or standard input)

Settings (environment variables):
`)
	for _, k := range sortedKeys() {
		fmt.Fprintf(w, "  %-38s %s\n", k, config.Known[k])
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
