-- +goose Up
-- The web chat (package webchat): a second channel beside Telegram.
--
-- A conversation is bound to a random token the widget keeps in
-- localStorage; only the token's SHA-256 hash is stored. The citizen of the
-- conversation is citizens (channel 'web', external_id = the conversation's
-- id), as for Telegram chats.
--
-- A new conversation may have to bring a proof of work (a salt and a
-- nonce whose SHA-256 has leading zero bits), so that every case a script
-- could open costs it CPU time; pow_salt keeps a proof from being reused.
CREATE TABLE webchat_conversations (
    id           bigserial PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- the proof of work that started it (webchat.Config.ProofOfWork): a
    -- salt is good for one conversation only
    pow_salt     text UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

-- The conversation as the widget shows it, in order: the citizen's
-- messages (stored by the POST that brings them, in the transaction that
-- runs the dialog engine) and what the outbox delivered to the channel
-- 'web' (one row per outbox row: outbox_id makes delivery idempotent). The
-- widget reads it as server-sent events with these ids, so a reconnect
-- resumes after its Last-Event-ID. Every insert NOTIFYs webchat_events.
CREATE TABLE webchat_events (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES webchat_conversations (id) ON DELETE CASCADE,
    sender          text NOT NULL CHECK (sender IN ('citizen', 'bot', 'staff', 'system')),
    payload         jsonb NOT NULL,
    -- the widget's id of a citizen message: a repeated POST is stored once
    client_id       text CHECK (length(client_id) BETWEEN 1 AND 64),
    outbox_id       bigint UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, client_id)
);
CREATE INDEX webchat_events_conversation ON webchat_events (conversation_id, id);
CREATE INDEX webchat_events_created ON webchat_events (created_at);

-- +goose Down
DROP TABLE webchat_events;
DROP TABLE webchat_conversations;
