package fieldstaff

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

func timeNow(t *testing.T, d *sqlx.DB) time.Time {
	t.Helper()
	var now time.Time
	if err := d.Get(&now, `SELECT now()`); err != nil {
		t.Fatal(err)
	}
	return now
}

func toLower(s string) string { return strings.ToLower(s) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
