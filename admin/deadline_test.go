package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Every request's context has the deadline of RequestTimeout (media ten
// times as long), except the live-update stream's.
func TestRequestDeadline(t *testing.T) {
	s := &Server{cfg: Config{RequestTimeout: 2 * time.Second}}
	for _, tc := range []struct {
		path string
		want time.Duration // 0: no deadline
	}{
		{"/inbox", 2 * time.Second},
		{"/admin/faq", 2 * time.Second},
		{"/cases/7/media/9", 20 * time.Second},
		{"/inbox/events", 0},
	} {
		var deadline time.Time
		var ok bool
		h := s.withDeadline(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			deadline, ok = r.Context().Deadline()
		}))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tc.path, nil))
		switch {
		case tc.want == 0 && ok:
			t.Errorf("%s: deadline %v, want none", tc.path, time.Until(deadline))
		case tc.want > 0 && !ok:
			t.Errorf("%s: no deadline", tc.path)
		case tc.want > 0 && (time.Until(deadline) > tc.want || time.Until(deadline) < tc.want-time.Second):
			t.Errorf("%s: deadline in %v, want %v", tc.path, time.Until(deadline), tc.want)
		}
	}
}

// A passed deadline, or a database that is not there, is a 503 with the
// error page; a client that went away is 499 (nothing written).
func TestStatusOfUnavailable(t *testing.T) {
	s := &Server{}
	if got := s.statusOf(context.DeadlineExceeded); got != http.StatusServiceUnavailable {
		t.Errorf("deadline exceeded: %d", got)
	}
	if got := s.statusOf(context.Canceled); got != 499 {
		t.Errorf("canceled: %d", got)
	}
}
