package broadcast

import "time"

// QuietHours is a daily window, in whole local hours, in which ordinary
// posts wait (warnings do not). From 22, To 7 is 22:00-07:00. The zero
// value (From == To) means no quiet hours.
type QuietHours struct {
	From, To int
}

// Enabled reports whether there are quiet hours.
func (q QuietHours) Enabled() bool { return q.From != q.To }

// Active reports whether t lies in the quiet hours (local time in loc).
func (q QuietHours) Active(t time.Time, loc *time.Location) bool {
	if !q.Enabled() {
		return false
	}
	h := t.In(loc).Hour()
	if q.From < q.To {
		return h >= q.From && h < q.To
	}
	return h >= q.From || h < q.To
}

// NextAllowed returns t, or the end of the quiet hours t lies in.
func (q QuietHours) NextAllowed(t time.Time, loc *time.Location) time.Time {
	if !q.Active(t, loc) {
		return t
	}
	lt := t.In(loc)
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), q.To, 0, 0, 0, loc)
	if !end.After(lt) {
		end = time.Date(lt.Year(), lt.Month(), lt.Day()+1, q.To, 0, 0, 0, loc)
	}
	return end
}
