-- +goose Up
-- The time within which a department means to answer a waiting citizen,
-- counted in its office hours (the inbox colours each wait against it).
ALTER TABLE departments ADD COLUMN answer_target_minutes integer NOT NULL DEFAULT 240
    CHECK (answer_target_minutes > 0);

-- +goose Down
ALTER TABLE departments DROP COLUMN answer_target_minutes;
