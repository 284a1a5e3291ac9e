// Package faq holds FAQ entries and departments, their storage, import and
// export, and the German-first matcher that answers citizen questions.
package faq

import (
	"time"

	"citybot/internal/apperr"
	"citybot/internal/german"
)

// Sentinel errors of the faq package.
var (
	ErrNotFound = apperr.New(apperr.NotFound, "faq: not found")
	ErrInvalid  = apperr.New(apperr.Invalid, "faq: invalid")
)

// Status of an FAQ entry.
const (
	StatusDraft     = "draft"
	StatusPublished = "published"
	StatusArchived  = "archived"
)

// Department is an office of the city that owns FAQ entries and receives
// handed-off questions. The JSON form is the dataset's departments.json.
type Department struct {
	ID          string   `json:"id" db:"id"`
	Name        string   `json:"name" db:"name"`
	Description string   `json:"description" db:"description"`
	Keywords    []string `json:"keywords" db:"-"`
}

// Entry is one FAQ entry. The JSON form is the dataset's faq.json.
type Entry struct {
	ID         string   `json:"id" db:"id"`
	Department string   `json:"department" db:"department_id"`
	Question   string   `json:"question" db:"question"`
	Variants   []string `json:"variants" db:"-"`
	Answer     string   `json:"answer" db:"answer"`
	// AnswerEN, optional, is the answer for citizens who write English
	// (without it they get the German answer with a short English note).
	AnswerEN  string    `json:"answer_en,omitempty" db:"answer_en"`
	Tags      []string  `json:"tags" db:"-"`
	Status    string    `json:"status,omitempty" db:"status"`
	CreatedAt time.Time `json:"-" db:"created_at"`
	UpdatedAt time.Time `json:"-" db:"updated_at"`
}

// Synonym maps an everyday word or phrase to the official term the FAQ uses
// ("Perso" -> "Personalausweis").
type Synonym = german.Synonym
