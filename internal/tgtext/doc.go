// Package tgtext holds the small text and timing rules of Telegram that
// several packages share: text length in UTF-16 units (the unit of
// Telegram's limits and entity offsets), splitting a long message into
// parts within the limit, and the back-off between attempts after a
// failure. It imports nothing of the project and needs no database, so its
// tests and fuzz target run without one.
package tgtext
