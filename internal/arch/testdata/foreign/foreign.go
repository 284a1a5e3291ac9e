// Package foreign is a test input of the ownership checker: SQL on tables
// the package does not own.
package foreign

const caseCols = `id, status`

const own = `SELECT x FROM foreign_own`

func f() []string {
	return []string{
		`UPDATE cases SET status = 'closed' WHERE id = $1`,
		`SELECT id FROM faq_entries`,
		own,
		// a concatenation with a package constant and a non-constant part
		`SELECT ` + caseCols +
			` FROM messages WHERE id = ` + param(),
		"no SQL here: from the city",
	}
}

func g() string {
	return "SELECT * FROM mystery"
}

func h() string {
	return "INSERT INTO audit_log (action) VALUES ('x')"
}

func param() string { return "$1" }
