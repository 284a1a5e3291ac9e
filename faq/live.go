package faq

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"citybot/internal/german"
	"citybot/internal/pglisten"
)

// Live holds the matcher index of the published FAQ and rebuilds it when the
// FAQ changes, on this instance (Reload) or any other (LISTEN faq_changed).
type Live struct {
	store  *Store
	logger *slog.Logger
	cur    atomic.Pointer[snapshot]
	mu     sync.Mutex // serialises reloads
	hooks  []func(context.Context)
	// listener is set by Listen and used by Run.
	listener *pglisten.Listener
	// gate is the confidence model the index is built with (Options.Gate):
	// the committed one until the published FAQ differs from what it was
	// trained on; then, when RetrainAfter is set (the service sets
	// DefaultRetrainAfter), Run retrains it on the published FAQ once that
	// has stayed unchanged for RetrainAfter. 0 (the default of NewLive,
	// for tests and tools): never.
	gate         atomic.Pointer[Model]
	RetrainAfter time.Duration
	retrain      chan struct{}
	pending      *trainJob // guarded by mu
}

// OnReload registers fn to run after every reload (e.g. to rebuild what
// depends on departments or rules). Register before Run.
func (l *Live) OnReload(fn func(context.Context)) { l.hooks = append(l.hooks, fn) }

type snapshot struct {
	index   *Index
	entries map[string]Entry
	depts   []Department
	builtAt time.Time
}

// NewLive returns a Live with an empty index; call Reload before use.
func NewLive(store *Store, logger *slog.Logger) *Live {
	l := &Live{store: store, logger: logger, retrain: make(chan struct{}, 1)}
	l.gate.Store(DefaultOptions().Gate)
	l.cur.Store(&snapshot{index: NewIndex(nil, german.DefaultSynonyms()), entries: map[string]Entry{}})
	return l
}

// Index returns the current index.
func (l *Live) Index() *Index { return l.cur.Load().index }

// Match matches text against the current index.
func (l *Live) Match(text string) Result { return l.Index().Match(text) }

// Entry returns a published entry of the current index.
func (l *Live) Entry(id string) (Entry, bool) {
	e, ok := l.cur.Load().entries[id]
	return e, ok
}

// Options are the options the bot's index is built with: DefaultOptions
// with the confidence model in use (the committed one, or the one retrained
// on the published FAQ). Try-it builds its indexes with them, so editors
// see what the bot does.
func (l *Live) Options() Options {
	opts := DefaultOptions()
	opts.Gate = l.gate.Load()
	return opts
}

// Departments returns the departments as of the last reload.
func (l *Live) Departments() []Department { return l.cur.Load().depts }

// Reload rebuilds the index from the database.
func (l *Live) Reload(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := time.Now()
	entries, err := l.store.Entries(ctx, StatusPublished)
	if err != nil {
		return err
	}
	syns, err := l.store.Synonyms(ctx)
	if err != nil {
		return err
	}
	depts, err := l.store.Departments(ctx)
	if err != nil {
		return err
	}
	all := append(german.DefaultSynonyms(), syns...)
	byID := make(map[string]Entry, len(entries))
	for _, e := range entries {
		byID[e.ID] = e
	}
	opts := l.Options()
	l.cur.Store(&snapshot{index: NewIndexWithOptions(entries, all, opts), entries: byID, depts: depts, builtAt: time.Now()})
	l.logger.Info("faq index built", "entries", len(entries), "synonyms", len(syns), "took_ms", time.Since(start).Milliseconds())
	if l.RetrainAfter > 0 && (opts.Gate == nil || opts.Gate.FAQ != Fingerprint(entries, all)) {
		l.logger.Info("the published FAQ differs from what the confidence model was trained on; retraining when it stays unchanged", "after", l.RetrainAfter.String())
		l.wantRetrain(trainJob{entries: entries, synonyms: all})
	}
	for _, fn := range l.hooks {
		fn(ctx)
	}
	return nil
}

// Listen subscribes to faq_changed on its own connection to url. Calling it
// before the first Reload means no change made in between is missed, and
// Run then needs no reload of its own at start.
func (l *Live) Listen(url string) error {
	listener, err := pglisten.New(url, l.logger, "faq_changed")
	if err != nil {
		return err
	}
	l.listener = listener
	return nil
}

// Run reloads the index on every faq_changed notification until ctx is
// done. Without a prior Listen it subscribes on its own connection to url
// and reloads once.
func (l *Live) Run(ctx context.Context, url string) error {
	if l.listener == nil {
		if err := l.Listen(url); err != nil {
			return err
		}
		if err := l.Reload(ctx); err != nil {
			l.logger.Error("faq reload", "err", err)
		}
	}
	go l.retrainLoop(ctx)
	return l.listener.Run(ctx, l.Reload)
}
