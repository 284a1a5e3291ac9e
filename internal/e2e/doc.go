// Package e2e holds the end-to-end tests of citybot: a citizen writes
// through the fake Telegram Bot API server (internal/tgfake) to the real bot
// service, the question is handed off to a department, and staff answer in
// the real web inbox in a headless Chromium (internal/browsertest), all on a
// real PostgreSQL with the production migrations. It has no non-test code.
package e2e
