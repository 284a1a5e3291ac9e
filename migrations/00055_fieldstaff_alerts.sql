-- +goose Up
-- Case alerts for linked staff chats (package fieldstaff): per user and
-- department a mode, off (no row, or 'off'), each (one message per new
-- case) or digest (one message per interval listing the new cases).
-- enabled_at is when alerts were switched on: cases that waited before
-- are not alerted. last_digest_at is when the last digest was queued.
CREATE TABLE fieldstaff_alert_settings (
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    department_id   text NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    mode            text NOT NULL CHECK (mode IN ('off', 'each', 'digest')),
    enabled_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_digest_at  timestamptz,
    PRIMARY KEY (user_id, department_id)
);

-- One row per case and user that was alerted: the key makes an alert
-- happen at most once. outbox_id is the message that carried it (an
-- alert of its own, or a digest shared by several rows); message_id is its
-- Telegram message id once sent (copied from the outbox), so that a reply
-- to the message finds its case.
CREATE TABLE fieldstaff_alerts (
    case_id     bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    chat_id     bigint NOT NULL,
    digest      boolean NOT NULL DEFAULT false,
    outbox_id   bigint,
    message_id  bigint,
    queued_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX fieldstaff_alerts_message ON fieldstaff_alerts (chat_id, message_id);
CREATE INDEX fieldstaff_alerts_unsent ON fieldstaff_alerts (outbox_id) WHERE message_id IS NULL;
CREATE INDEX fieldstaff_alerts_user ON fieldstaff_alerts (user_id);

-- Messages to a linked staff chat go through the outbox like citizens'
-- ones but belong to no citizen; unlike ephemeral rows they keep their
-- Telegram message id once sent.
ALTER TABLE outbox ADD COLUMN staff_chat boolean NOT NULL DEFAULT false;
ALTER TABLE outbox DROP CONSTRAINT outbox_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_check CHECK (ephemeral OR staff_chat OR citizen_id IS NOT NULL);

-- +goose Down
ALTER TABLE outbox DROP CONSTRAINT outbox_check;
DELETE FROM outbox WHERE staff_chat;
ALTER TABLE outbox ADD CONSTRAINT outbox_check CHECK (ephemeral OR citizen_id IS NOT NULL);
ALTER TABLE outbox DROP COLUMN staff_chat;
DROP TABLE fieldstaff_alerts;
DROP TABLE fieldstaff_alert_settings;
