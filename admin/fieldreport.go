package admin

import "citybot/routing"

// fieldPosition is the position of a field report (its first location
// message) for the case facts, nil for other cases or a report without one.
func fieldPosition(cs routing.Case, tv []transcriptView) *transcriptView {
	if !cs.FieldReport {
		return nil
	}
	for i := range tv {
		if tv[i].HasLoc {
			return &tv[i]
		}
	}
	return nil
}
