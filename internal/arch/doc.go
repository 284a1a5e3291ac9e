// Package arch holds tests of the project's architecture rules that need no
// database: ownership_test.go checks that every table is written only by
// the package that owns it (DESIGN.md, "Tables and their owners") and read
// only by its owner or a declared read-only reader; imports_test.go checks
// the import rules of DESIGN.md "Packages" (routing does not import faq, gin
// only in admin, go-telegram/bot only in bot, ...).
package arch
