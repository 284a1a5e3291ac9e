package faq

import (
	"math"
	"testing"
)

func TestAUC(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []float64
		pos  []bool
		want float64
	}{
		{"perfect", []float64{0.9, 0.8, 0.2, 0.1}, []bool{true, true, false, false}, 1},
		{"inverted", []float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{"one pair wrong", []float64{0.9, 0.3, 0.5, 0.1}, []bool{true, true, false, false}, 0.75},
		{"all tied", []float64{0.5, 0.5, 0.5}, []bool{true, false, false}, 0.5},
		{"tie across classes", []float64{0.9, 0.5, 0.5, 0.1}, []bool{true, true, false, false}, 0.875},
		{"no negatives", []float64{0.9, 0.5}, []bool{true, true}, 0},
		{"empty", nil, nil, 0},
	} {
		if got := auc(tc.p, tc.pos); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: auc = %v, want %v", tc.name, got, tc.want)
		}
	}
}
