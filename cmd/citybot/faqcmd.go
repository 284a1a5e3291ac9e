package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"citybot/bot"
	"citybot/faq"
	"citybot/internal/german"
	"citybot/routing"
)

func (a *app) faqCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("faq: expected import, export, eval or train (see 'citybot help')")
	}
	switch args[0] {
	case "import":
		return a.faqImport(ctx, args[1:])
	case "export":
		return a.faqExport(ctx, args[1:])
	case "eval":
		return a.faqEval(ctx, args[1:])
	case "train":
		return a.faqTrain(ctx, args[1:])
	default:
		return fmt.Errorf("faq: unknown command %q (expected import, export, eval or train)", args[0])
	}
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func (a *app) faqImport(ctx context.Context, args []string) error {
	fs := newFlags("faq import", a.stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() != 1 {
		return errors.New("faq import: expected one PATH (a directory with departments.json and faq.json, or one of the files)")
	}
	ds, err := faq.ReadDataset(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("faq import: %w", err)
	}
	d, err := a.openDatabase(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	st, err := faq.NewStore(d.DB).Import(ctx, ds)
	if err != nil {
		return fmt.Errorf("faq import: nothing imported: %w", err)
	}
	fmt.Fprintf(a.stdout, "imported: departments %d new, %d updated; entries %d new, %d updated\n",
		st.DepartmentsCreated, st.DepartmentsUpdated, st.EntriesCreated, st.EntriesUpdated)
	return nil
}

func (a *app) faqExport(ctx context.Context, args []string) error {
	fs := newFlags("faq export", a.stderr)
	dir := fs.String("dir", "", "write departments.json and faq.json into this directory (default: faq.json to standard output)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	d, err := a.openDatabase(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	ds, err := faq.NewStore(d.DB).Export(ctx)
	if err != nil {
		return err
	}
	if *dir == "" {
		return faq.WriteJSON(a.stdout, ds.Entries)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	for name, v := range map[string]any{"departments.json": ds.Departments, "faq.json": ds.Entries} {
		f, err := os.Create(filepath.Join(*dir, name))
		if err != nil {
			return err
		}
		if err := faq.WriteJSON(f, v); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stdout, "exported %d departments and %d entries to %s\n", len(ds.Departments), len(ds.Entries), *dir)
	return nil
}

func (a *app) faqEval(ctx context.Context, args []string) error {
	fs := newFlags("faq eval", a.stderr)
	qpath := fs.String("questions", "", "question set in JSON lines ({\"q\":...,\"expect\":\"faq:<id>|handoff|smalltalk\",\"department\":...})")
	saved := fs.Bool("saved", false, "use the regression questions editors saved in the admin UI")
	faqDir := fs.String("faq", "", "evaluate this FAQ (directory or faq.json) instead of the database's")
	verbose := fs.Bool("verbose", false, "list every miss")
	asJSON := fs.Bool("json", false, "one JSON object per question, then a summary object")
	lexicon := fs.Bool("lexicon", false, "add the general German thesaurus and word list to the analysis")
	thesaurus := fs.Bool("thesaurus", true, "with --lexicon: relate words through the thesaurus (--thesaurus=false: the word list alone, to compare)")
	englishDict := fs.Bool("english", true, "translate English messages through the English -> German dictionary (--english=false: off, to compare)")
	modelPath := fs.String("model", "", "decide with this confidence model (from 'faq train'; \"default\": the committed one)")
	gatePath := fs.String("gate", "", "check the score thresholds with this confidence model (default: the committed one, retrained by the service when the FAQ changes; \"off\": thresholds alone)")
	defOpts := faq.DefaultOptions()
	gateVeto := fs.Float64("gate-veto", defOpts.GateVetoAt, "with a gate: veto the thresholds' answer below this probability")
	gateAnswer := fs.Float64("gate-answer", defOpts.GateAnswerAt, "with a gate: answer the model's best entry from this probability on")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if (*qpath == "") == !*saved {
		return errors.New("faq eval: give either --questions FILE or --saved")
	}
	var qs []faq.EvalQuestion
	if *qpath != "" {
		f, err := os.Open(*qpath)
		if err != nil {
			return fmt.Errorf("faq eval: %w", err)
		}
		defer f.Close()
		if qs, err = faq.LoadQuestions(f); err != nil {
			return fmt.Errorf("faq eval: %s: %w", *qpath, err)
		}
	}
	if *saved && *faqDir != "" {
		return errors.New("faq eval: --saved evaluates the database's FAQ; it does not go with --faq")
	}
	var (
		entries []faq.Entry
		depts   []faq.Department
		syns    = german.DefaultSynonyms()
		rules   []routing.Rule
	)
	if *faqDir != "" {
		ds, err := faq.ReadDataset(*faqDir)
		if err != nil {
			return fmt.Errorf("faq eval: --faq: %w", err)
		}
		if err := ds.Validate(nil); err != nil && len(ds.Departments) > 0 {
			return fmt.Errorf("faq eval: --faq: %w", err)
		}
		entries, depts = ds.Entries, ds.Departments
	} else {
		d, err := a.openDatabase(ctx)
		if err != nil {
			return err
		}
		defer d.Close()
		st := faq.NewStore(d.DB)
		if entries, err = st.Entries(ctx, faq.StatusPublished); err != nil {
			return err
		}
		if depts, err = st.Departments(ctx); err != nil {
			return err
		}
		extra, err := st.Synonyms(ctx)
		if err != nil {
			return err
		}
		syns = append(syns, extra...)
		if rules, err = loadRules(ctx, d); err != nil {
			return err
		}
		if *saved {
			if qs, err = st.EvalQuestions(ctx); err != nil {
				return err
			}
			if len(qs) == 0 {
				return errors.New("faq eval: no saved questions yet (editors save them in the admin UI under FAQ > Testfragen)")
			}
		}
	}
	opts := faq.DefaultOptions()
	opts.Lexicon = *lexicon
	opts.LexiconWordsOnly = !*thesaurus
	opts.English = *englishDict
	opts.GateVetoAt, opts.GateAnswerAt = *gateVeto, *gateAnswer
	if *modelPath != "" {
		m, err := loadModel(*modelPath)
		if err != nil {
			return fmt.Errorf("faq eval: --model: %w", err)
		}
		opts.Model = m
	}
	switch *gatePath {
	case "":
	case "off":
		opts.Gate = nil
	default:
		m, err := loadModel(*gatePath)
		if err != nil {
			return fmt.Errorf("faq eval: --gate: %w", err)
		}
		opts.Gate = m
	}
	ix := faq.NewIndexWithOptions(entries, syns, opts)
	var router faq.Router
	if len(depts) > 0 {
		router = bot.FAQRouter{C: routing.NewClassifierWithFAQ(bot.RoutingDepartments(depts), rules, fallbackDepartment(depts), bot.RoutingEntries(entries))}
	}
	rep := faq.Evaluate(ix, qs, router)
	if *asJSON {
		return rep.WriteJSON(a.stdout)
	}
	return rep.WriteText(a.stdout, *verbose)
}

func fallbackDepartment(depts []faq.Department) string {
	for _, d := range depts {
		if d.ID == "zentrale" {
			return d.ID
		}
	}
	if len(depts) > 0 {
		return depts[0].ID
	}
	return ""
}

func loadRules(ctx context.Context, d *database) ([]routing.Rule, error) {
	return routing.NewRuleStore(d.DB).Active(ctx)
}

// faqTrain fits the matcher's confidence model on an FAQ (held-out variants
// and entries; no question set) and writes it as JSON.
func (a *app) faqTrain(ctx context.Context, args []string) error {
	fs := newFlags("faq train", a.stderr)
	faqDir := fs.String("faq", "", "train on this FAQ (directory or faq.json) instead of the database's")
	out := fs.String("out", "", "write the model here (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	var (
		entries []faq.Entry
		syns    = german.DefaultSynonyms()
	)
	if *faqDir != "" {
		ds, err := faq.ReadDataset(*faqDir)
		if err != nil {
			return fmt.Errorf("faq train: --faq: %w", err)
		}
		entries = ds.Entries
	} else {
		d, err := a.openDatabase(ctx)
		if err != nil {
			return err
		}
		defer d.Close()
		st := faq.NewStore(d.DB)
		if entries, err = st.Entries(ctx, faq.StatusPublished); err != nil {
			return err
		}
		extra, err := st.Synonyms(ctx)
		if err != nil {
			return err
		}
		syns = append(syns, extra...)
	}
	m, err := faq.Train(entries, syns, faq.DefaultOptions())
	if err != nil {
		return fmt.Errorf("faq train: %w", err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	f := m.Fit
	fmt.Fprintf(a.stderr, "trained on %d messages (%d held-out variants, %d held-out entries, %d reports), %d candidates, log loss %.3f\n"+
		"thresholds: answer at %.3f, answer where the score thresholds agree at %.3f, suggest at %.3f\n"+
		"on the training messages: answered right %.1f %%, wrong %.1f %%, answered or suggested %.1f %%, false answers on held-out entries %.1f %%, on reports %.1f %%\n",
		f.Queries, f.HeldVariants, f.HeldEntries, f.Reports, f.Samples, f.LogLoss, m.AnswerAt, m.VetoAt, m.SuggestAt,
		100*f.Answered, 100*f.WrongAnswers, 100*f.Suggested, 100*f.FalseAnswerRate, 100*f.ReportFalseRate)
	if *out == "" {
		_, err = a.stdout.Write(b)
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

func loadModel(path string) (*faq.Model, error) {
	if path == "default" {
		return faq.DefaultModel()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return faq.ParseModel(b)
}
