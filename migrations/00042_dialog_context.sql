-- +goose Up
-- The dialog's context per citizen (bot/dialog.go): the FAQ entry answered
-- last (follow-up questions refer to it for a few minutes), when the bot
-- asked "what is it about?" after a request for staff, and the language the
-- citizen writes in (from the text, when it says so clearly).
ALTER TABLE dialog_state
    ADD COLUMN topic_entry_id text NOT NULL DEFAULT '',
    ADD COLUMN topic_question text NOT NULL DEFAULT '',
    ADD COLUMN topic_at       timestamptz,
    ADD COLUMN ask_topic_at   timestamptz,
    ADD COLUMN lang           text NOT NULL DEFAULT '';

-- A case opens only after the citizen confirms ('handoff' rows, options: the
-- departments proposed, best first); a closed case reopens only after the
-- citizen confirms ('reopen' rows, case_id: the case, options: the ids of the
-- messages that go to it). A newer question supersedes an open confirmation
-- (chosen = 'superseded').
ALTER TABLE bot_choices DROP CONSTRAINT bot_choices_kind_check;
ALTER TABLE bot_choices ADD CONSTRAINT bot_choices_kind_check CHECK (kind IN ('departments', 'handoff', 'reopen'));

-- An answer to a follow-up question ("und was kostet das?") is the part of
-- the last topic's entry about that detail.
ALTER TABLE bot_answers DROP CONSTRAINT bot_answers_via_check;
ALTER TABLE bot_answers ADD CONSTRAINT bot_answers_via_check CHECK (via IN ('direct', 'suggestion', 'follow_up'));

-- +goose Down
DELETE FROM bot_answers WHERE via = 'follow_up';
ALTER TABLE bot_answers DROP CONSTRAINT bot_answers_via_check;
ALTER TABLE bot_answers ADD CONSTRAINT bot_answers_via_check CHECK (via IN ('direct', 'suggestion'));
DELETE FROM bot_choices WHERE kind = 'reopen';
ALTER TABLE bot_choices DROP CONSTRAINT bot_choices_kind_check;
ALTER TABLE bot_choices ADD CONSTRAINT bot_choices_kind_check CHECK (kind IN ('departments', 'handoff'));
ALTER TABLE dialog_state
    DROP COLUMN topic_entry_id,
    DROP COLUMN topic_question,
    DROP COLUMN topic_at,
    DROP COLUMN ask_topic_at,
    DROP COLUMN lang;
