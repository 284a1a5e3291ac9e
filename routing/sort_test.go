package routing_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"citybot/routing"
)

// TestListSorted: every sort column, both ways, paginated in pages of 2,
// gives each visible case exactly once in the order the column defines
// (ties by case number); a cursor of another order is refused.
func TestListSorted(t *testing.T) {
	f := newFixture(t)
	ctx := f.ctx
	// Cases in three departments and all four states, waits in another
	// order than the case numbers, and ties (same wait, same department).
	var cases []routing.Case
	for i, dept := range []string{"bauamt", "ordnungsamt", "zentrale", "bauamt", "ordnungsamt", "bauamt", "zentrale", "bauamt"} {
		cases = append(cases, f.open(f.citizen(fmt.Sprint(900+i)), dept, fmt.Sprintf("Frage %d", i)))
	}
	for i, c := range cases {
		f.exec(`UPDATE cases SET waiting_since = now() - make_interval(mins => $2) WHERE id = $1`, c.ID, []int{30, 300, 5, 300, 60, 1, 120, 45}[i])
	}
	f.exec(`UPDATE cases SET status = 'assigned', assignee_id = $2 WHERE id = $1`, cases[1].ID, f.admin.ID)
	f.exec(`UPDATE cases SET status = 'answered' WHERE id = $1`, cases[4].ID)
	f.exec(`UPDATE cases SET status = 'closed', closed_at = now() WHERE id IN ($1, $2)`, cases[2].ID, cases[5].ID)

	all, _, err := f.cases.List(ctx, f.admin, routing.ListFilter{View: routing.ViewAll, Query: "Frage", Limit: 200})
	if err != nil || len(all) != len(cases) {
		t.Fatalf("all: %d cases, %v", len(all), err)
	}
	rank := map[string]int{routing.CaseWaiting: 0, routing.CaseAssigned: 1, routing.CaseAnswered: 2, routing.CaseClosed: 3}
	less := map[string]func(a, b routing.CaseSummary) int{
		routing.SortWait:   func(a, b routing.CaseSummary) int { return a.WaitingSince.Compare(b.WaitingSince) },
		routing.SortNumber: func(a, b routing.CaseSummary) int { return 0 },
		routing.SortDepartment: func(a, b routing.CaseSummary) int {
			return strings.Compare(a.DepartmentName, b.DepartmentName)
		},
		routing.SortStatus: func(a, b routing.CaseSummary) int { return rank[a.Status] - rank[b.Status] },
	}
	for _, col := range []string{routing.SortWait, routing.SortNumber, routing.SortDepartment, routing.SortStatus} {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(all)
			slices.SortFunc(want, func(a, b routing.CaseSummary) int {
				c := less[col](a, b)
				if c == 0 {
					c = int(a.ID - b.ID)
				}
				if desc {
					c = -c
				}
				return c
			})
			var got []int64
			cursor, pages := "", 0
			for {
				page, next, err := f.cases.List(ctx, f.admin, routing.ListFilter{View: routing.ViewAll, Query: "Frage", Limit: 2, Cursor: cursor, Sort: col, Desc: desc})
				if err != nil {
					t.Fatalf("%s desc=%v: %v", col, desc, err)
				}
				pages++
				got = append(got, ids(page)...)
				if next == "" || pages > 10 {
					break
				}
				cursor = next
			}
			if fmt.Sprint(got) != fmt.Sprint(ids(want)) {
				t.Errorf("%s desc=%v: %v, want %v", col, desc, got, ids(want))
			}
			if pages != 4 {
				t.Errorf("%s desc=%v: %d pages", col, desc, pages)
			}
		}
	}
	// The wait: the longest first unless reversed.
	page, _, err := f.cases.List(ctx, f.bau, routing.ListFilter{View: routing.ViewWaiting, Sort: routing.SortWait})
	if err != nil || fmt.Sprint(ids(page)) != fmt.Sprint([]int64{cases[3].ID, cases[7].ID, cases[0].ID}) {
		t.Errorf("waiting by wait: %v %v", ids(page), err)
	}
	// A cursor of one order does not continue another.
	_, next, err := f.cases.List(ctx, f.admin, routing.ListFilter{View: routing.ViewAll, Query: "Frage", Limit: 2, Sort: routing.SortNumber})
	if err != nil || next == "" {
		t.Fatal(next, err)
	}
	_, _, err = f.cases.List(ctx, f.admin, routing.ListFilter{View: routing.ViewAll, Query: "Frage", Limit: 2, Sort: routing.SortDepartment, Cursor: next})
	wantErr(t, "cursor of another order", err, routing.ErrInvalid)
	_, _, err = f.cases.List(ctx, f.admin, routing.ListFilter{View: routing.ViewAll, Query: "Frage", Sort: routing.SortStatus, Cursor: "garbage!"})
	wantErr(t, "bad cursor", err, routing.ErrInvalid)
	_, _, err = f.cases.List(ctx, f.admin, routing.ListFilter{Sort: "c.id; DROP TABLE cases"})
	wantErr(t, "bad sort", err, routing.ErrInvalid)
}
