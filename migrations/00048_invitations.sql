-- +goose Up
-- Staff are invited by a one-time link instead of a password an admin
-- types: the link's token is stored as its SHA-256 hash only, is valid
-- until expires_at, and is used at most once (used_at). A re-issued
-- invitation revokes the user's open ones (revoked_at).
CREATE TABLE user_invitations (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX user_invitations_user ON user_invitations (user_id);

-- A password an admin set (or reset) is only good for the next login:
-- the user must then choose their own before doing anything else.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE users DROP COLUMN must_change_password;
DROP TABLE user_invitations;
