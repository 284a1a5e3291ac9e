-- +goose Up
-- Citizens as the channels know them: one row per (channel, chat). Everything
-- stored about a citizen hangs off this row with ON DELETE CASCADE, so that
-- erasure (/loeschen) is one DELETE. Tables added later that hold citizen data
-- must do the same.
CREATE TABLE citizens (
    id           bigserial PRIMARY KEY,
    channel      text NOT NULL CHECK (channel IN ('telegram', 'web')),
    external_id  text NOT NULL CHECK (external_id <> ''),
    language     text NOT NULL DEFAULT 'de',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, external_id)
);

-- Every inbound and outbound message of a citizen's chat.
CREATE TABLE messages (
    id                  bigserial PRIMARY KEY,
    citizen_id          bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    direction           text NOT NULL CHECK (direction IN ('in', 'out')),
    kind                text NOT NULL CHECK (kind IN ('text', 'button', 'photo', 'document', 'location', 'sticker', 'voice', 'other')),
    text                text NOT NULL DEFAULT '',
    -- file ids, file names, mime types, sizes, latitude/longitude
    media               jsonb,
    sender              text NOT NULL CHECK (sender IN ('citizen', 'bot', 'staff')),
    -- the staff user who wrote it (FK once users exist)
    staff_user_id       bigint,
    -- the channel's id of an inbound message
    external_message_id text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((sender = 'citizen') = (direction = 'in'))
);
CREATE INDEX messages_citizen ON messages (citizen_id, id);

-- Durable outgoing messages: written in the same transaction as the message
-- row, sent by the delivery worker (FOR UPDATE SKIP LOCKED), retried on
-- transient errors. One message may need several rows (long texts are split).
CREATE TABLE outbox (
    id                  bigserial PRIMARY KEY,
    -- NULL only for ephemeral rows (the confirmation of an erasure), which are
    -- deleted as soon as they are sent or given up.
    citizen_id          bigint REFERENCES citizens (id) ON DELETE CASCADE,
    message_id          bigint REFERENCES messages (id) ON DELETE CASCADE,
    channel             text NOT NULL,
    chat_id             text NOT NULL,
    -- text, parse mode, buttons, or a document
    payload             jsonb NOT NULL,
    ephemeral           boolean NOT NULL DEFAULT false,
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'undeliverable')),
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    locked_until        timestamptz,
    last_error          text NOT NULL DEFAULT '',
    external_message_id text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    CHECK (ephemeral OR citizen_id IS NOT NULL)
);
-- The worker's queue: open rows in order, and per chat (one chat's messages
-- are sent in order).
CREATE INDEX outbox_open ON outbox (channel, id) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_open_chat ON outbox (channel, chat_id, id) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_citizen ON outbox (citizen_id);
CREATE INDEX outbox_message ON outbox (message_id);

-- Telegram updates as received, stored before Telegram is told they arrived.
-- The payload is the raw update (bytea, not jsonb: a malformed update, with
-- \u0000 or lone surrogates, must still be stored and then answered, never
-- block the intake). Processed updates keep only update_id and status for
-- deduplication (payload and chat_id are cleared: they are citizen data) and
-- are purged after 48 hours; Telegram keeps undelivered updates 24 hours.
CREATE TABLE telegram_updates (
    update_id       bigint PRIMARY KEY,
    chat_id         bigint,
    payload         bytea,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'processing', 'done', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NOT NULL DEFAULT '',
    received_at     timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    processed_at    timestamptz
);
CREATE INDEX telegram_updates_open ON telegram_updates (update_id) WHERE status IN ('pending', 'processing');
CREATE INDEX telegram_updates_open_chat ON telegram_updates (chat_id, update_id) WHERE status IN ('pending', 'processing');
CREATE INDEX telegram_updates_finished ON telegram_updates (processed_at) WHERE status IN ('done', 'failed');
CREATE INDEX telegram_updates_chat ON telegram_updates (chat_id) WHERE chat_id IS NOT NULL;

-- FAQ answers the bot gave, and the citizen's feedback on them. entry_id has
-- no foreign key: the statistics outlive an entry's removal.
CREATE TABLE bot_answers (
    id          bigserial PRIMARY KEY,
    citizen_id  bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    entry_id    text NOT NULL,
    question    text NOT NULL,
    score       double precision NOT NULL,
    -- 'direct' (matched) or 'suggestion' (chosen from candidate buttons)
    via         text NOT NULL CHECK (via IN ('direct', 'suggestion')),
    helpful     boolean,
    feedback_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bot_answers_citizen ON bot_answers (citizen_id);
CREATE INDEX bot_answers_entry ON bot_answers (entry_id, created_at);

-- Candidates offered as buttons; the button carries only this row's id.
CREATE TABLE bot_suggestions (
    id         bigserial PRIMARY KEY,
    citizen_id bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    question   text NOT NULL,
    entry_ids  text[] NOT NULL,
    scores     double precision[] NOT NULL,
    -- the chosen entry id, '' for "none of these", NULL while open
    chosen     text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bot_suggestions_citizen ON bot_suggestions (citizen_id);

-- Small per-citizen dialog state of the bot.
CREATE TABLE dialog_state (
    citizen_id         bigint PRIMARY KEY REFERENCES citizens (id) ON DELETE CASCADE,
    -- when the citizen asked for erasure; the confirmation button is valid a while
    erase_requested_at timestamptz,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Questions the FAQ could not answer (or whose answer did not help), for
-- editors and, with the handoff, for staff.
CREATE TABLE unanswered (
    id         bigserial PRIMARY KEY,
    citizen_id bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    message_id bigint REFERENCES messages (id) ON DELETE SET NULL,
    text       text NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('no_match', 'personal', 'not_helpful', 'no_suggestion_fit')),
    -- the entry that did not help (not_helpful), or the best candidate
    entry_id   text,
    status     text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'resolved')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unanswered_open ON unanswered (created_at DESC) WHERE status = 'open';
CREATE INDEX unanswered_citizen ON unanswered (citizen_id);

-- +goose Down
DROP TABLE unanswered;
DROP TABLE dialog_state;
DROP TABLE bot_suggestions;
DROP TABLE bot_answers;
DROP TABLE telegram_updates;
DROP TABLE outbox;
DROP TABLE messages;
DROP TABLE citizens;
