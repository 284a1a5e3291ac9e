// Package apperr holds the kinds of error that domain packages return and
// that the web UI maps to HTTP status in one place. A domain package defines
// its own sentinel errors on top of a kind, so callers can test either:
//
//	var ErrNotFound = apperr.New(apperr.NotFound, "routing: not found")
//
//	errors.Is(err, routing.ErrNotFound) // the package's own sentinel
//	apperr.KindOf(err) == apperr.NotFound // its kind, whatever the package
package apperr

import "errors"

// Kind classifies an error for the callers that have to react to it the
// same way whatever package it came from (the HTTP layer, the bot).
type Kind int

// The kinds. Unknown is the zero value: an error without a kind is an
// internal failure.
const (
	Unknown      Kind = iota
	NotFound          // the object does not exist, or the caller may not know it exists
	Forbidden         // the caller may not do this
	Invalid           // the input is malformed or breaks a rule
	Conflict          // the object exists already or changed meanwhile
	State             // not allowed in the object's current state
	Unauthorized      // no valid identity (not signed in, wrong credentials)
	TooLarge          // the input is larger than allowed
	Unavailable       // a service that is needed is not configured or not reachable
)

var names = [...]string{"unknown", "not found", "forbidden", "invalid", "conflict", "state", "unauthorized", "too large", "unavailable"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(names) {
		return "unknown"
	}
	return names[k]
}

// kindError is a sentinel error of a kind.
type kindError struct {
	kind Kind
	msg  string
}

func (e *kindError) Error() string { return e.msg }

// New returns a new sentinel error of the kind. Each call returns a
// distinct error (like errors.New).
func New(kind Kind, msg string) error { return &kindError{kind: kind, msg: msg} }

// KindOf returns the kind of the first error in err's chain that has one,
// or Unknown.
func KindOf(err error) Kind {
	var ke *kindError
	if errors.As(err, &ke) {
		return ke.kind
	}
	return Unknown
}

// Is reports whether err (or an error it wraps) is of the kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }
