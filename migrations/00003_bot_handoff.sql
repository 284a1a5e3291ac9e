-- +goose Up
-- Server-side state of the bot's handoff buttons; a button carries only this
-- row's id and an index (Telegram's callback_data holds at most 64 bytes).
--   kind 'departments': the departments offered for "choose another office"
--                       (options: department ids, case_id: the case to move);
--   kind 'handoff':     the question to pass on after "not helpful" / "none of
--                       these" once the citizen confirms (question, reason).
-- case_id has no foreign key: this migration may run before the cases table
-- exists (out-of-order numbering); a stale id is checked when the button is pressed.
CREATE TABLE bot_choices (
    id         bigserial PRIMARY KEY,
    citizen_id bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('departments', 'handoff')),
    case_id    bigint,
    options    text[] NOT NULL DEFAULT '{}',
    question   text NOT NULL DEFAULT '',
    reason     text NOT NULL DEFAULT '',
    entry_id   text NOT NULL DEFAULT '',
    -- what the citizen chose; NULL while open
    chosen     text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bot_choices_citizen ON bot_choices (citizen_id);

-- When the bot last acknowledged a citizen message added to a case (so that
-- a series of photos gets one acknowledgement, not one each).
ALTER TABLE dialog_state ADD COLUMN case_ack_at timestamptz;

-- +goose Down
ALTER TABLE dialog_state DROP COLUMN case_ack_at;
DROP TABLE bot_choices;
