package faq_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"citybot/faq"
	"citybot/internal/demodata"
	"citybot/internal/german"
)

func loadDemo(t testing.TB) ([]faq.Entry, []faq.Department, []faq.EvalQuestion) {
	t.Helper()
	ds, err := faq.ReadDatasetFS(demodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := faq.LoadQuestionsFS(demodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	return ds.Entries, ds.Departments, qs
}

// Regression guards on the demo dev set. The project targets are top-1 >=
// 0.90 and false answers <= 5 % (<= 3 of 79); the matcher reaches them
// (top-1 0.902 with 1 false answer at the default operating point), so the
// guards sit at the targets and any regression fails. Raise them as the
// matcher improves; never lower them to make a change pass.
const (
	guardTop1         = 0.90
	guardFalseAnswers = 3
)

// TestEvalDevSet is the regression guard on the demo city's dev set (no
// router here; routing is guarded in package routing). Set
// CITYBOT_EVAL_VERBOSE=1 to print every miss.
func TestEvalDevSet(t *testing.T) {
	entries, _, qs := loadDemo(t)
	ix := faq.NewIndex(entries, german.DefaultSynonyms())
	if ix.Len() != 118 {
		t.Fatalf("Len = %d, want 118", ix.Len())
	}
	rep := faq.Evaluate(ix, qs, nil)
	var buf bytes.Buffer
	if err := rep.WriteText(&buf, os.Getenv("CITYBOT_EVAL_VERBOSE") != ""); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + buf.String())
	if rep.Answerable != 193 || rep.Handoff != 79 || rep.Smalltalk != 11 {
		t.Fatalf("dataset counts %d/%d/%d, want 193/79/11", rep.Answerable, rep.Handoff, rep.Smalltalk)
	}
	if got := rep.Top1(); got < guardTop1 {
		t.Errorf("top-1 = %.3f, want >= %.2f", got, guardTop1)
	}
	if rep.FalseAnswers > guardFalseAnswers || rep.FalseAnswerRate() > 0.05 {
		t.Errorf("false answers = %d (%.3f), want <= %d and <= 5 %%", rep.FalseAnswers, rep.FalseAnswerRate(), guardFalseAnswers)
	}
	if rep.SmalltalkRecall() < 0.9 {
		t.Errorf("smalltalk recall = %.3f, want >= 0.9", rep.SmalltalkRecall())
	}
	if rep.SmalltalkFP > 0 {
		t.Errorf("smalltalk false positives = %d, want 0", rep.SmalltalkFP)
	}
	if rep.SmalltalkFalseAnswers > 0 {
		t.Errorf("smalltalk rows answered from the FAQ: %d", rep.SmalltalkFalseAnswers)
	}
	// the gate's separation of right from wrong best candidates, free of
	// thresholds: 0.926 on 207 messages with the committed model
	if rep.ConfidenceRows < 200 || rep.ConfidenceAUC < 0.91 {
		t.Errorf("confidence AUC %.3f over %d messages, want >= 0.91 over >= 200", rep.ConfidenceAUC, rep.ConfidenceRows)
	}
}

// TestEvalHalves reports both halves of the dev set (even and odd lines)
// separately: a method tuned on one half should not collapse on the other.
func TestEvalHalves(t *testing.T) {
	entries, _, qs := loadDemo(t)
	ix := faq.NewIndex(entries, german.DefaultSynonyms())
	var halves [2][]faq.EvalQuestion
	for i, q := range qs {
		halves[i%2] = append(halves[i%2], q)
	}
	for h, part := range halves {
		rep := faq.Evaluate(ix, part, nil)
		t.Logf("half %d: top-1 %.3f (%d/%d, wrong %d), false answers %d/%d, smalltalk %d/%d",
			h, rep.Top1(), rep.Top1Correct, rep.Answerable, rep.WrongAnswers, rep.FalseAnswers, rep.Handoff, rep.SmalltalkOK, rep.Smalltalk)
		if rep.Top1() < 0.80 || rep.FalseAnswerRate() > 0.06 {
			t.Errorf("half %d: top-1 %.3f, false answer rate %.3f", h, rep.Top1(), rep.FalseAnswerRate())
		}
	}
}

func TestLoadQuestionsErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
		n                 int
	}{
		{"ok", `{"q":"Hallo","expect":"smalltalk"}` + "\n\n" + `{"q":"x","expect":"faq:a"}`, "", 2},
		{"bad json", `{"q":"Hallo","expect":"smalltalk"}` + "\n{oops", "line 2", 0},
		{"bad expect", `{"q":"Hallo","expect":"answer"}`, "line 1", 0},
		{"empty q", `{"q":"","expect":"handoff"}`, "line 1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qs, err := faq.LoadQuestions(strings.NewReader(tt.in))
			if tt.wantErr == "" {
				if err != nil || len(qs) != tt.n {
					t.Fatalf("got %d, %v", len(qs), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	entries, _, qs := loadDemo(t)
	ix := faq.NewIndex(entries, german.DefaultSynonyms())
	rep := faq.Evaluate(ix, qs[:5], nil)
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("got %d lines, want 6", len(lines))
	}
	var last map[string]map[string]any
	if err := json.Unmarshal([]byte(lines[5]), &last); err != nil {
		t.Fatal(err)
	}
	if _, ok := last["summary"]["top1_accuracy"]; !ok {
		t.Fatalf("summary without top1_accuracy: %s", lines[5])
	}
}

// TestEvalDevSetThresholdsOnly guards the score thresholds without the
// confidence model (Options.Gate nil, `faq eval --gate off`) on the dev set
// like TestEvalDevSet guards the default (thresholds checked by the gate).
func TestEvalDevSetThresholdsOnly(t *testing.T) {
	entries, _, qs := loadDemo(t)
	opts := faq.DefaultOptions()
	if opts.Gate == nil {
		t.Fatal("the default options have no gate")
	}
	opts.Gate = nil
	ix := faq.NewIndexWithOptions(entries, german.DefaultSynonyms(), opts)
	rep := faq.Evaluate(ix, qs, nil)
	t.Logf("thresholds only: top-1 %.3f (%d/%d, wrong %d), false answers %d/%d", rep.Top1(), rep.Top1Correct, rep.Answerable, rep.WrongAnswers, rep.FalseAnswers, rep.Handoff)
	if rep.ConfidenceRows != 0 || rep.ConfidenceAUC != 0 {
		t.Errorf("without a model: confidence AUC %v over %d messages, want none", rep.ConfidenceAUC, rep.ConfidenceRows)
	}
	if got := rep.Top1(); got < guardTop1 {
		t.Errorf("top-1 = %.3f, want >= %.2f", got, guardTop1)
	}
	if rep.FalseAnswers > guardFalseAnswers {
		t.Errorf("false answers = %d, want <= %d", rep.FalseAnswers, guardFalseAnswers)
	}
	if rep.SmalltalkFalseAnswers > 0 {
		t.Errorf("smalltalk rows answered from the FAQ: %d", rep.SmalltalkFalseAnswers)
	}
}
