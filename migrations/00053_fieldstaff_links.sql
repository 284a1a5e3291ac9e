-- +goose Up
-- Staff link their Telegram account to their web UI user (package
-- fieldstaff). A link code is shown once and stored as its SHA-256 hash
-- only; it is valid until expires_at and is used at most once (used_at).
CREATE TABLE fieldstaff_link_codes (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash   bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    used_chat   bigint
);
CREATE INDEX fieldstaff_link_codes_user ON fieldstaff_link_codes (user_id);
CREATE INDEX fieldstaff_link_codes_expires ON fieldstaff_link_codes (expires_at);

-- One Telegram chat per user and one user per chat.
CREATE TABLE fieldstaff_links (
    chat_id    bigint PRIMARY KEY,
    user_id    bigint NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    linked_at  timestamptz NOT NULL DEFAULT now()
);

-- Chats whose link ended because the user was deactivated: the bot
-- refuses them and never treats them as citizens. A new link of the chat
-- ends the refusal.
CREATE TABLE fieldstaff_refused_chats (
    chat_id     bigint PRIMARY KEY,
    user_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    refused_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE fieldstaff_refused_chats;
DROP TABLE fieldstaff_links;
DROP TABLE fieldstaff_link_codes;
