package faq_test

import (
	"os"
	"testing"

	"citybot/faq"
	"citybot/internal/german"
)

// TestEvalThresholdCV sweeps the answer threshold and the answer-text field
// weight and runs a 5-fold cross-validation of that choice (max top-1 with
// <= 5 % false answers on four folds, scored on the fifth). Set
// CITYBOT_EVAL_CV=1.
func TestEvalThresholdCV(t *testing.T) {
	if os.Getenv("CITYBOT_EVAL_CV") == "" {
		t.Skip()
	}
	entries, _, qs := loadDemo(t)
	type point struct{ th, fa float64 }
	var ths []point
	for _, fa := range []float64{0.30, 0.35, 0.40, 0.45} {
		for _, th := range []float64{0.36, 0.38, 0.40, 0.42, 0.44, 0.46, 0.48, 0.50, 0.52, 0.54, 0.56} {
			ths = append(ths, point{th, fa})
		}
	}
	reps := map[point]faq.EvalReport{}
	for _, p := range ths {
		o := faq.DefaultOptions()
		o.AnswerThreshold = p.th
		o.FieldAnswer = p.fa
		ix := faq.NewIndexWithOptions(entries, german.DefaultSynonyms(), o)
		r := faq.Evaluate(ix, qs, nil)
		reps[p] = r
		t.Logf("th %.2f answer weight %.2f top1 %.3f wrong %d missed %d false %d", p.th, p.fa, r.Top1(), r.WrongAnswers, r.Missed, r.FalseAnswers)
	}
	// 5-fold CV over rows: choose the threshold on 4 folds (max top-1 with
	// false-answer rate <= 5 %), score the held-out fold.
	for f := 0; f < 5; f++ {
		// ties on top-1 go to the point with fewer false answers
		best, bestTop, bestFA := point{}, -1.0, 0
		for _, th := range ths {
			var a, c, h, fa int
			for i, row := range reps[th].Rows {
				if i%5 == f {
					continue
				}
				switch {
				case row.Expect == "handoff":
					h++
					if len(row.Result) > 4 && row.Result[:4] == "faq:" {
						fa++
					}
				case row.Expect != "smalltalk":
					a++
					if row.Result == row.Expect {
						c++
					}
				}
			}
			top := float64(c) / float64(a)
			if float64(fa) <= 0.05*float64(h) && (top > bestTop || top == bestTop && fa < bestFA) {
				best, bestTop, bestFA = th, top, fa
			}
		}
		var a, c, h, fa int
		for i, row := range reps[best].Rows {
			if i%5 != f {
				continue
			}
			switch {
			case row.Expect == "handoff":
				h++
				if len(row.Result) > 4 && row.Result[:4] == "faq:" {
					fa++
				}
			case row.Expect != "smalltalk":
				a++
				if row.Result == row.Expect {
					c++
				}
			}
		}
		t.Logf("fold %d: chosen th %.2f answer weight %.2f (train top1 %.3f) held-out top1 %.3f (%d/%d) false %d/%d", f, best.th, best.fa, bestTop, float64(c)/float64(a), c, a, fa, h)
	}
}
