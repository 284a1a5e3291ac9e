// Package apperr holds the kinds of error that domain packages return and
// their HTTP status (HTTPStatus, the one mapping the web UI and the web
// chat use). A domain package defines
// its own sentinel errors on top of a kind, so callers can test either:
//
//	var ErrNotFound = apperr.New(apperr.NotFound, "routing: not found")
//
//	errors.Is(err, routing.ErrNotFound) // the package's own sentinel
//	apperr.KindOf(err) == apperr.NotFound // its kind, whatever the package
package apperr

import (
	"errors"
	"net/http"
)

// Kind classifies an error for the callers that have to react to it the
// same way whatever package it came from (the HTTP layer, the bot).
type Kind int

// The kinds. Unknown is the zero value: an error without a kind is an
// internal failure.
const (
	Unknown       Kind = iota
	NotFound           // the object does not exist, or the caller may not know it exists
	Forbidden          // the caller may not do this
	Invalid            // the input is malformed or breaks a rule
	Conflict           // the object exists already or changed meanwhile
	State              // not allowed in the object's current state
	Unauthorized       // no valid identity (not signed in, wrong credentials)
	TooLarge           // the input is larger than allowed
	Unavailable        // a service that is needed is not reachable now
	NotConfigured      // a part this instance has not configured
	RateLimited        // the caller sent too much too fast; try again later

	numKinds // the number of kinds (not a kind)
)

var names = [numKinds]string{"unknown", "not found", "forbidden", "invalid", "conflict", "state", "unauthorized", "too large", "unavailable", "not configured", "rate limited"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(names) {
		return "unknown"
	}
	return names[k]
}

// HTTPStatus is the HTTP status of an error of the kind: the one mapping
// of kinds to statuses. Unknown (an internal failure) is 500; the web UI
// refines errors without a kind (a canceled request, a database that is
// away) itself.
func HTTPStatus(k Kind) int {
	switch k {
	case NotFound:
		return http.StatusNotFound
	case Forbidden:
		return http.StatusForbidden
	case Invalid:
		return http.StatusBadRequest
	case Conflict, State:
		return http.StatusConflict
	case Unauthorized:
		return http.StatusUnauthorized
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case Unavailable:
		return http.StatusServiceUnavailable
	case NotConfigured:
		return http.StatusNotImplemented
	case RateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
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
