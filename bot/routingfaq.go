package bot

import (
	"context"

	"citybot/faq"
	"citybot/routing"
)

// Routing does not import faq: these convert the matcher's types to the
// classifier's (the wiring and the bot's handoff use them).

// RoutingFAQ gives routing's classifier the published entries of an FAQ
// store (routing.NewLiveRouter, routing.LoadClassifier).
func RoutingFAQ(st *faq.Store) routing.FAQSource {
	return routing.FAQFunc(func(ctx context.Context) ([]routing.FAQEntry, error) {
		es, err := st.Entries(ctx, faq.StatusPublished)
		if err != nil {
			return nil, err
		}
		return RoutingEntries(es), nil
	})
}

// RoutingEntries are the published entries of es (status published or
// none, as in a dataset) as the classifier learns from them.
func RoutingEntries(es []faq.Entry) []routing.FAQEntry {
	var out []routing.FAQEntry
	for _, e := range es {
		if e.Status != "" && e.Status != faq.StatusPublished {
			continue
		}
		out = append(out, routing.FAQEntry{
			Department: e.Department, Question: e.Question, Variants: e.Variants, Tags: e.Tags,
			Answer: e.Answer, Messages: faq.RoutingMessages(e),
		})
	}
	return out
}

// RoutingDepartments converts a dataset's departments.
func RoutingDepartments(ds []faq.Department) []routing.Department {
	out := make([]routing.Department, len(ds))
	for i, d := range ds {
		out[i] = routing.Department{ID: d.ID, Name: d.Name, Description: d.Description, Keywords: d.Keywords}
	}
	return out
}

// RoutingCandidates converts the matcher's candidates, in order.
func RoutingCandidates(cs []faq.Candidate) []routing.Candidate {
	if cs == nil {
		return nil
	}
	out := make([]routing.Candidate, len(cs))
	for i, c := range cs {
		out[i] = routing.Candidate{EntryID: c.EntryID, Department: c.Department, Score: c.Score}
	}
	return out
}

// FAQRouter makes a classifier a faq.Router (faq.Evaluate's department
// routing).
type FAQRouter struct{ C *routing.Classifier }

// Route routes text with the result's candidates.
func (r FAQRouter) Route(text string, res faq.Result) string {
	return r.C.Route(text, RoutingCandidates(res.Candidates))
}
