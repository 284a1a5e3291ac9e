-- +goose Up
-- Handed-off conversations in a department's staff inbox. A case belongs to
-- a citizen (ON DELETE CASCADE: erasure removes it) and to one department at
-- a time.
CREATE TABLE cases (
    id               bigserial PRIMARY KEY,
    citizen_id       bigint NOT NULL REFERENCES citizens (id) ON DELETE CASCADE,
    department_id    text NOT NULL REFERENCES departments (id) ON UPDATE CASCADE,
    status           text NOT NULL DEFAULT 'waiting'
                     CHECK (status IN ('waiting', 'assigned', 'answered', 'closed')),
    assignee_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    -- why it was opened: no_match, not_helpful, no_suggestion_fit, requested, personal
    reason           text NOT NULL DEFAULT '',
    -- the citizen's question that led to the handoff
    subject          text NOT NULL DEFAULT '',
    -- the latest citizen text, for the inbox list
    preview          text NOT NULL DEFAULT '',
    -- citizen texts, for the inbox search
    search           tsvector NOT NULL DEFAULT ''::tsvector,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- since when it is in the waiting list (oldest first)
    waiting_since    timestamptz NOT NULL DEFAULT now(),
    -- last thing that needs staff attention (opened, citizen wrote,
    -- transferred in, reopened): newer than a viewer's read mark = unread
    attention_at     timestamptz NOT NULL DEFAULT now(),
    -- last change of any kind, for the "mine" and "departments" lists
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz,
    -- staff, withdrawn (the citizen's /abbrechen)
    close_reason     text NOT NULL DEFAULT '',
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CHECK (status <> 'assigned' OR assignee_id IS NOT NULL)
);
-- Exactly one open case per citizen.
CREATE UNIQUE INDEX cases_one_open ON cases (citizen_id) WHERE status <> 'closed';
CREATE INDEX cases_citizen ON cases (citizen_id, id DESC);
-- Inbox lists (keyset order), per department and across all (admins).
CREATE INDEX cases_waiting_dept ON cases (department_id, waiting_since, id) WHERE status = 'waiting';
CREATE INDEX cases_waiting ON cases (waiting_since, id) WHERE status = 'waiting';
CREATE INDEX cases_open_dept ON cases (department_id, last_activity_at DESC, id DESC) WHERE status <> 'closed';
CREATE INDEX cases_open ON cases (last_activity_at DESC, id DESC) WHERE status <> 'closed';
CREATE INDEX cases_mine ON cases (assignee_id, last_activity_at DESC, id DESC) WHERE status <> 'closed';
CREATE INDEX cases_closed_dept ON cases (department_id, closed_at DESC, id DESC) WHERE status = 'closed';
CREATE INDEX cases_closed ON cases (closed_at DESC, id DESC) WHERE status = 'closed';
CREATE INDEX cases_search ON cases USING gin (search);

-- The messages of a case: the transcript up to the handoff, then everything
-- the citizen sent and staff answered while it was open.
CREATE TABLE case_messages (
    case_id    bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (case_id, message_id)
);
CREATE INDEX case_messages_message ON case_messages (message_id);

-- State changes, staff actions and internal notes (kind 'note', never sent
-- to the citizen). actor_user_id is NULL for the citizen and the system.
CREATE TABLE case_events (
    id            bigserial PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    actor         text NOT NULL CHECK (actor IN ('citizen', 'staff', 'system')),
    actor_user_id bigint REFERENCES users (id) ON DELETE SET NULL,
    kind          text NOT NULL CHECK (kind <> ''),
    details       jsonb NOT NULL DEFAULT '{}',
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- What each user has seen of a case, for unread marks.
CREATE TABLE case_reads (
    case_id bigint NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX case_reads_user ON case_reads (user_id);

-- Admin-defined routing rules: a phrase or keyword that sends a question to
-- a department; higher priority wins.
CREATE TABLE routing_rules (
    id            bigserial PRIMARY KEY,
    department_id text NOT NULL REFERENCES departments (id) ON UPDATE CASCADE ON DELETE CASCADE,
    pattern       text NOT NULL CHECK (btrim(pattern) <> ''),
    priority      integer NOT NULL DEFAULT 0,
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_rules_department ON routing_rules (department_id);

-- Canned answers staff insert into replies, per department.
CREATE TABLE canned_answers (
    id            bigserial PRIMARY KEY,
    department_id text NOT NULL REFERENCES departments (id) ON UPDATE CASCADE ON DELETE CASCADE,
    title         text NOT NULL CHECK (btrim(title) <> ''),
    body          text NOT NULL CHECK (btrim(body) <> ''),
    created_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX canned_answers_department ON canned_answers (department_id, title);

-- Every instance rebuilds its classifier when the rules change.
CREATE TRIGGER routing_rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON routing_rules
    FOR EACH STATEMENT EXECUTE FUNCTION notify_faq_changed();

-- +goose Down
DROP TABLE canned_answers;
DROP TABLE routing_rules;
DROP TABLE case_reads;
DROP TABLE case_events;
DROP TABLE case_messages;
DROP TABLE cases;
