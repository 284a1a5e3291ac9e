-- +goose Up
-- An optional English answer of an FAQ entry, for citizens who write
-- English; without it they get the German answer with a short English note.
ALTER TABLE faq_entries ADD COLUMN answer_en text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE faq_entries DROP COLUMN answer_en;
