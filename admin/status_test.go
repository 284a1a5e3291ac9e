package admin

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"citybot/broadcast"
	"citybot/faq"
	"citybot/internal/apperr"
	"citybot/routing"
	"citybot/staff"
)

// statusOf maps every error kind to its status, whichever package the
// sentinel comes from and however deeply it is wrapped.
func TestStatusOfKinds(t *testing.T) {
	s := &Server{}
	byKind := map[apperr.Kind]int{
		apperr.NotFound:      http.StatusNotFound,
		apperr.Forbidden:     http.StatusForbidden,
		apperr.Invalid:       http.StatusBadRequest,
		apperr.Conflict:      http.StatusConflict,
		apperr.State:         http.StatusConflict,
		apperr.Unauthorized:  http.StatusUnauthorized,
		apperr.TooLarge:      http.StatusRequestEntityTooLarge,
		apperr.Unavailable:   http.StatusServiceUnavailable,
		apperr.NotConfigured: http.StatusNotImplemented,
		apperr.RateLimited:   http.StatusTooManyRequests,
		apperr.Unknown:       http.StatusInternalServerError,
	}
	for k, want := range byKind {
		err := fmt.Errorf("doing it: %w", apperr.New(k, "x"))
		if got := s.statusOf(err); got != want {
			t.Errorf("kind %v: status %d, want %d", k, got, want)
		}
	}
	for _, tc := range []struct {
		err  error
		want int
	}{
		{routing.ErrNotFound, http.StatusNotFound},
		{routing.ErrForbidden, http.StatusForbidden},
		{routing.ErrInvalid, http.StatusBadRequest},
		{routing.ErrCaseOpen, http.StatusConflict},
		{faq.ErrNotFound, http.StatusNotFound},
		{faq.ErrInvalid, http.StatusBadRequest},
		{&faq.ValidationError{Field: "question", Msg: "empty"}, http.StatusBadRequest},
		{faq.ErrForbidden, http.StatusForbidden},
		{faq.ErrConflict, http.StatusConflict},
		{broadcast.ErrNotFound, http.StatusNotFound},
		{broadcast.ErrInvalid, http.StatusBadRequest},
		{broadcast.ErrState, http.StatusConflict},
		{ErrNotFound, http.StatusNotFound},
		{ErrInvalid, http.StatusBadRequest},
		{ErrExists, http.StatusConflict},
		{errForbidden, http.StatusForbidden},
		{errCSRF, http.StatusForbidden},
		{errMethod, http.StatusMethodNotAllowed},
		{errTooLarge, http.StatusRequestEntityTooLarge},
		{errNoService, http.StatusNotImplemented},
		{staff.ErrBadLogin, http.StatusUnauthorized},
		{staff.ErrThrottled, http.StatusTooManyRequests},
		{staff.ErrExists, http.StatusConflict},
		{staff.ErrSelfAdmin, http.StatusConflict},
		{staff.ErrInvalid, http.StatusBadRequest},
		{errors.New("boom"), http.StatusInternalServerError},
	} {
		err := fmt.Errorf("case 7: %w", tc.err)
		if got := s.statusOf(err); got != tc.want {
			t.Errorf("%v: status %d, want %d", tc.err, got, tc.want)
		}
	}
}
