package apperr

import (
	"errors"
	"fmt"
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
