-- +goose Up
-- "Frage dazu" under a broadcast post: the post a citizen asked about, for
-- the citizen's next message (one pending question per citizen; it expires,
-- see bot.Config.PostQuestionWindow). Citizen data: cascades with the
-- citizen. No foreign key to posts (00030 may be applied later on a fresh
-- database); a deleted post is simply not found any more.
CREATE TABLE bot_post_questions (
    citizen_id bigint PRIMARY KEY REFERENCES citizens (id) ON DELETE CASCADE,
    post_id    bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE bot_post_questions;
