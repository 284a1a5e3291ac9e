package faq_test

import (
	"os"
	"testing"

	"citybot/faq"
)

// TestEvalThresholdCV sweeps the answer threshold and runs a 5-fold
// cross-validation of the threshold choice (max top-1 with <= 5 % false
// answers on four folds, scored on the fifth). Set CITYBOT_EVAL_CV=1.
func TestEvalThresholdCV(t *testing.T) {
	if os.Getenv("CITYBOT_EVAL_CV") == "" {
		t.Skip()
	}
	entries, _, qs := loadDemo(t)
	ths := []float64{0.40, 0.42, 0.44, 0.46, 0.48, 0.50, 0.52, 0.54, 0.56}
	reps := map[float64]faq.EvalReport{}
	for _, th := range ths {
		o := faq.DefaultOptions()
		o.AnswerThreshold = th
		ix := faq.NewIndexWithOptions(entries, faq.DefaultSynonyms(), o)
		r := faq.Evaluate(ix, qs, nil)
		reps[th] = r
		t.Logf("th %.2f top1 %.3f wrong %d missed %d false %d", th, r.Top1(), r.WrongAnswers, r.Missed, r.FalseAnswers)
	}
	// 5-fold CV over rows: choose the threshold on 4 folds (max top-1 with
	// false-answer rate <= 5 %), score the held-out fold.
	for f := 0; f < 5; f++ {
		best, bestTop := 0.0, -1.0
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
			if float64(fa) <= 0.05*float64(h) && top > bestTop {
				best, bestTop = th, top
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
		t.Logf("fold %d: chosen %.2f (train top1 %.3f) held-out top1 %.3f (%d/%d) false %d/%d", f, best, bestTop, float64(c)/float64(a), c, a, fa, h)
	}
}
