// Package browsertest runs pages in a real headless Chromium (Debian's
// chromium package) through chromedp, for tests.
//
//	ctx := browsertest.New(t)
//	err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible("#main"))
//
// The browser is /usr/bin/chromium, or the path in CITYBOT_CHROMIUM. When it
// is missing the test fails with a message saying how to install it: a
// browser test never skips silently. CI installs it with
// `apt-get install -y chromium`.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// EnvPath names the environment variable that overrides DefaultPath.
const EnvPath = "CITYBOT_CHROMIUM"

// Path returns the browser binary to use and an error that says how to
// install it when it is not there.
func Path() (string, error) {
	p := os.Getenv(EnvPath)
	if p == "" {
		p = DefaultPath
	}
	if _, err := os.Stat(p); err != nil {
		if lp, lerr := exec.LookPath(p); lerr == nil {
			return lp, nil
		}
		return "", fmt.Errorf("browsertest: no Chromium at %s: install it with `apt-get install -y chromium` (Debian), or set %s to a Chromium/Chrome binary", p, EnvPath)
	}
	return p, nil
}

// Flags are the command-line flags every test browser gets (besides its own
// fresh --user-data-dir): headless, no sandbox (tests run as root in CI), and
// nothing that talks to the network on its own.
var flags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
	"no-default-browser-check", "disable-dev-shm-usage", "disable-extensions",
	"disable-default-apps", "disable-breakpad", "mute-audio", "password-store=basic",
}

// Flags returns the browser's flags (for documentation and tests).
func Flags() []string { return append([]string(nil), flags...) }

// Option configures New.
type Option func(*options)

type options struct {
	timeout time.Duration
	width   int
	height  int
}

// WithTimeout bounds the whole browser session (default 60 s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithWindowSize sets the window size (default 1280x900).
func WithWindowSize(w, h int) Option { return func(o *options) { o.width, o.height = w, h } }

// Browser is a running test browser.
type Browser struct {
	t       testing.TB
	ctx     context.Context
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// New starts a fresh headless Chromium with its own profile directory and
// returns the chromedp context of its first tab. The browser stops when the
// test ends. Console messages and uncaught exceptions of the pages are
// logged to the test log.
func New(t testing.TB, opts ...Option) context.Context {
	return Start(t, opts...).Context()
}

// Start is New returning the Browser, which also collects console messages.
func Start(t testing.TB, opts ...Option) *Browser {
	t.Helper()
	o := options{timeout: 60 * time.Second, width: 1280, height: 900}
	for _, f := range opts {
		f(&o)
	}
	path, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	alloc := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(o.width, o.height),
	}
	for _, f := range flags {
		name, val, ok := strings.Cut(f, "=")
		if ok {
			alloc = append(alloc, chromedp.Flag(name, val))
		} else {
			alloc = append(alloc, chromedp.Flag(name, true))
		}
	}
	base, cancelTimeout := context.WithTimeout(context.Background(), o.timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(base, alloc...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(func(f string, a ...any) {
		msg := fmt.Sprintf(f, a...)
		// chromedp reports protocol events it does not know; they are harmless.
		if !strings.Contains(msg, "unhandled") && !strings.Contains(msg, "could not unmarshal") {
			t.Logf("chromedp: %s", msg)
		}
	}))
	b := &Browser{t: t, ctx: ctx}
	// Start the browser now, so that a browser that cannot start fails here.
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
		<-done
		for _, m := range b.Console() {
			t.Logf("browser console: %s", m.String())
		}
	})
	return b
}

// Context is the chromedp context of the browser's tab.
func (b *Browser) Context() context.Context { return b.ctx }

// Console returns the console messages so far.
func (b *Browser) Console() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}

// Exceptions returns the uncaught exceptions of the pages so far.
func (b *Browser) Exceptions() []chromedp.ConsoleMessage {
	var out []chromedp.ConsoleMessage
	for _, m := range b.Console() {
		if m.IsException() {
			out = append(out, m)
		}
	}
	return out
}

// Do runs steps with a timeout of d and fails the test on error.
func (b *Browser) Do(d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s: %w", d, err)
		}
		b.t.Fatal(err)
	}
}

// Until waits until the JavaScript expression is truthy in the page. A
// navigation while it waits (the page's execution context replaced) is not
// an error: it polls again in the new document.
func Until(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			_, err := chromedp.Poll[any](expr)(ctx, t)
			if err == nil || !ContextReplaced(err) || ctx.Err() != nil {
				return chromedp.Void{}, err
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, err
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// ContextReplaced reports whether err says the page's JavaScript context
// went away under an evaluation: the page navigated or reloaded.
func ContextReplaced(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	for _, s := range []string{
		"Cannot find context with specified id",
		"Execution context was destroyed",
		"Inspected target navigated or closed",
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// Eval evaluates the JavaScript expression and ignores its value.
func Eval(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[any](expr)(ctx, t)
		return chromedp.Void{}, err
	}
}
