-- +goose Up
-- The flood limit of staff chats (package fieldstaff), the one citizens'
-- chats have: for a chat that is linked, refused or sends a link code, the
-- times of its latest counted messages within the limit's window (a few
-- more than the limit, older ones are dropped). last_group is the album of
-- the last photo: an album counts as one message. Rows unused for a day
-- are deleted by the link code sweep.
CREATE TABLE fieldstaff_chat_flood (
    chat_id     bigint PRIMARY KEY,
    recent      timestamptz[] NOT NULL DEFAULT '{}',
    last_group  text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fieldstaff_chat_flood_updated ON fieldstaff_chat_flood (updated_at);

-- +goose Down
DROP TABLE fieldstaff_chat_flood;
