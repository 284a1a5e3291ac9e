// Package routing decides which department a handed-off question goes to and
// runs what follows: citizens and their conversations, cases in the staff
// inbox (with department isolation enforced in the queries), staff replies
// through the durable outbox, office hours and public holidays, routing rules,
// canned answers and retention.
//
// It knows nothing of HTTP or Telegram: the bot and the admin UI call it.
package routing

import "citybot/internal/apperr"

// Sentinel errors of the routing package.
var (
	// ErrNotFound: the thing does not exist, or the viewer may not see it.
	ErrNotFound = apperr.New(apperr.NotFound, "routing: not found")
	// ErrForbidden: the viewer sees the thing but may not do this to it.
	ErrForbidden = apperr.New(apperr.Forbidden, "routing: forbidden")
	// ErrInvalid: the input or the state transition is not valid.
	ErrInvalid = apperr.New(apperr.Invalid, "routing: invalid")
)
