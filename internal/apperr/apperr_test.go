package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestKindOf(t *testing.T) {
	errGone := New(NotFound, "x: not found")
	errOther := New(NotFound, "y: not found")
	wrapped := fmt.Errorf("loading case 7: %w", errGone)
	if KindOf(wrapped) != NotFound || !Is(wrapped, NotFound) {
		t.Fatalf("kind of wrapped = %v, want not found", KindOf(wrapped))
	}
	if !errors.Is(wrapped, errGone) || errors.Is(wrapped, errOther) {
		t.Fatal("sentinels of the same kind must stay distinct")
	}
	if KindOf(errors.New("plain")) != Unknown || Is(nil, Unknown) {
		t.Fatal("a plain error has no kind, nil is of no kind")
	}
	if Kind(99).String() != "unknown" || Forbidden.String() != "forbidden" {
		t.Fatal("kind names")
	}
}

// TestHTTPStatusTotal: every kind has a status of its own, and only
// Unknown (and what is no kind) is an internal error.
func TestHTTPStatusTotal(t *testing.T) {
	want := map[Kind]int{
		Unknown:       http.StatusInternalServerError,
		NotFound:      http.StatusNotFound,
		Forbidden:     http.StatusForbidden,
		Invalid:       http.StatusBadRequest,
		Conflict:      http.StatusConflict,
		State:         http.StatusConflict,
		Unauthorized:  http.StatusUnauthorized,
		TooLarge:      http.StatusRequestEntityTooLarge,
		Unavailable:   http.StatusServiceUnavailable,
		NotConfigured: http.StatusNotImplemented,
		RateLimited:   http.StatusTooManyRequests,
	}
	for k := Unknown; k < numKinds; k++ {
		st, ok := want[k]
		if !ok {
			t.Errorf("kind %d (%v): no status in this test; add it", k, k)
			continue
		}
		if got := HTTPStatus(k); got != st {
			t.Errorf("HTTPStatus(%v) = %d, want %d", k, got, st)
		}
		if k != Unknown && HTTPStatus(k) == http.StatusInternalServerError {
			t.Errorf("kind %v falls through to 500", k)
		}
		if k != Unknown && (k.String() == "unknown" || k.String() == "") {
			t.Errorf("kind %d has no name", k)
		}
	}
	if len(want) != int(numKinds) {
		t.Errorf("the test names %d kinds, the package has %d", len(want), numKinds)
	}
	if HTTPStatus(numKinds) != http.StatusInternalServerError || HTTPStatus(-1) != http.StatusInternalServerError {
		t.Error("a value that is no kind must be 500")
	}
}
