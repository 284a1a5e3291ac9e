-- +goose Up
-- Field reports (issue 13): a linked staff member's photos, position and
-- text become a case in a department's inbox. A report has no citizen
-- chat: each report gets a citizens row of its own on the channel
-- 'fieldstaff' (external_id 'report-<draft id>'), so that the case, its
-- messages and photos hang on it as a citizen's do, and erasing the row
-- erases the report.
ALTER TABLE citizens DROP CONSTRAINT citizens_channel_check;
ALTER TABLE citizens ADD CONSTRAINT citizens_channel_check CHECK (channel IN ('telegram', 'web', 'fieldstaff'));

ALTER TABLE cases
    ADD COLUMN field_report    boolean NOT NULL DEFAULT false,
    ADD COLUMN field_report_by bigint REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE cases ADD CONSTRAINT cases_field_report_by CHECK (field_report OR field_report_by IS NULL);
CREATE INDEX cases_field_report_by ON cases (field_report_by) WHERE field_report;

-- Field report photos may show people or number plates: closed field
-- reports are erased after this many days, per department.
ALTER TABLE departments
    ADD COLUMN field_report_retention_days integer NOT NULL DEFAULT 90
        CHECK (field_report_retention_days BETWEEN 1 AND 3650);

-- The report a linked chat is putting together (package fieldstaff): kept
-- in the database so that a restart loses nothing; it goes with the link.
CREATE TABLE fieldstaff_drafts (
    id          bigserial PRIMARY KEY,
    chat_id     bigint NOT NULL UNIQUE REFERENCES fieldstaff_links (chat_id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text        text NOT NULL DEFAULT '',
    -- [{"file_id":..,"file_unique_id":..,"file_size":..}], in the order sent
    photos      jsonb NOT NULL DEFAULT '[]',
    -- {"latitude":..,"longitude":..,"title":..,"address":..}
    location    jsonb,
    -- the media group (album) of the last photo: its later photos are
    -- taken in silently
    last_group  text NOT NULL DEFAULT '',
    -- the departments offered on the buttons, in their order
    offered     text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE fieldstaff_drafts;
ALTER TABLE departments DROP COLUMN field_report_retention_days;
DROP INDEX cases_field_report_by;
ALTER TABLE cases DROP CONSTRAINT cases_field_report_by;
ALTER TABLE cases DROP COLUMN field_report_by, DROP COLUMN field_report;
DELETE FROM citizens WHERE channel = 'fieldstaff';
ALTER TABLE citizens DROP CONSTRAINT citizens_channel_check;
ALTER TABLE citizens ADD CONSTRAINT citizens_channel_check CHECK (channel IN ('telegram', 'web'));
