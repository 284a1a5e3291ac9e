-- +goose Up
-- Departments of the city: they own FAQ entries and receive handed-off cases.
CREATE TABLE departments (
    id             text PRIMARY KEY CHECK (id ~ '^[a-z0-9-]+$'),
    name           text NOT NULL CHECK (name <> ''),
    description    text NOT NULL DEFAULT '',
    keywords       text[] NOT NULL DEFAULT '{}',
    email          text NOT NULL DEFAULT '',
    phone          text NOT NULL DEFAULT '',
    address        text NOT NULL DEFAULT '',
    -- office hours per ISO weekday (1=Monday): {"1":[["08:00","12:00"],["14:00","16:00"]], ...}
    office_hours   jsonb NOT NULL DEFAULT '{}',
    -- days closed cases are kept; NULL = the global setting
    retention_days integer CHECK (retention_days IS NULL OR retention_days > 0),
    is_fallback    boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX departments_one_fallback ON departments (is_fallback) WHERE is_fallback;

CREATE TABLE faq_entries (
    id            text PRIMARY KEY CHECK (id ~ '^[a-z0-9-]+$'),
    department_id text NOT NULL REFERENCES departments (id) ON UPDATE CASCADE,
    question      text NOT NULL CHECK (question <> ''),
    variants      text[] NOT NULL DEFAULT '{}',
    answer        text NOT NULL CHECK (answer <> ''),
    tags          text[] NOT NULL DEFAULT '{}',
    status        text NOT NULL DEFAULT 'published' CHECK (status IN ('draft', 'published', 'archived')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX faq_entries_department ON faq_entries (department_id);

-- Everyday words mapped to the official terms the FAQ uses.
CREATE TABLE synonyms (
    id         bigserial PRIMARY KEY,
    term       text NOT NULL UNIQUE CHECK (term <> ''),
    canonical  text NOT NULL CHECK (canonical <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Key/value settings admins can change at run time.
CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every instance rebuilds its matcher index when the FAQ changes.
-- +goose StatementBegin
CREATE FUNCTION notify_faq_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('faq_changed', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER faq_entries_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON faq_entries
    FOR EACH STATEMENT EXECUTE FUNCTION notify_faq_changed();
CREATE TRIGGER synonyms_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON synonyms
    FOR EACH STATEMENT EXECUTE FUNCTION notify_faq_changed();
CREATE TRIGGER departments_changed AFTER INSERT OR UPDATE OR DELETE ON departments
    FOR EACH STATEMENT EXECUTE FUNCTION notify_faq_changed();

-- +goose Down
DROP TABLE settings;
DROP TABLE synonyms;
DROP TABLE faq_entries;
DROP TABLE departments;
DROP FUNCTION notify_faq_changed();
