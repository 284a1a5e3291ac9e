-- +goose Up
-- Every change of an FAQ entry is a revision: a full snapshot of the entry
-- after the change, who made it and when. entry_id has no foreign key: the
-- history outlives an entry's removal. Rows are only ever inserted.
CREATE TABLE faq_revisions (
    id            bigserial PRIMARY KEY,
    entry_id      text NOT NULL,
    -- create, update, status (draft/published/archived), restore (of an older
    -- revision), publish (of a pending draft), import (the state an entry had
    -- before its first recorded change, or an import from a file)
    action        text NOT NULL CHECK (action IN ('create', 'update', 'status', 'restore', 'publish', 'import')),
    snapshot      jsonb NOT NULL,
    author_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    restored_from bigint REFERENCES faq_revisions (id),
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX faq_revisions_entry ON faq_revisions (entry_id, id DESC);

-- A pending change of an entry: editors work on it without affecting the
-- bot; publishing applies it as a revision. One per entry.
CREATE TABLE faq_drafts (
    entry_id      text PRIMARY KEY REFERENCES faq_entries (id) ON UPDATE CASCADE ON DELETE CASCADE,
    snapshot      jsonb NOT NULL,
    -- the revision the draft was started from (to tell a stale draft)
    base_revision bigint REFERENCES faq_revisions (id),
    author_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Saved citizen questions with the outcome editors expect: an entry id, or
-- 'staff' (the bot must hand off). Checked before a change is published and
-- usable by 'citybot faq eval'. Editors save them deliberately and must not
-- include personal data.
CREATE TABLE faq_regressions (
    id            bigserial PRIMARY KEY,
    question      text NOT NULL CHECK (question <> '' AND length(question) <= 1000),
    expect        text NOT NULL CHECK (expect ~ '^[a-z0-9-]+$'),
    note          text NOT NULL DEFAULT '',
    created_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX faq_regressions_question ON faq_regressions (lower(question));

-- +goose Down
DROP TABLE faq_regressions;
DROP TABLE faq_drafts;
DROP TABLE faq_revisions;
