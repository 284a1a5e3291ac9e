-- +goose Up
-- Login throttling per account and client address (email, ip) and per
-- client address alone (email = ''): failures counted, growing delays
-- (blocked_until). Replaces login_attempts, whose per-email limit let
-- anyone lock an account's owner out.
CREATE TABLE login_throttles (
    email         text NOT NULL,
    ip            text NOT NULL,
    fails         integer NOT NULL DEFAULT 0 CHECK (fails >= 0),
    last_fail     timestamptz NOT NULL DEFAULT now(),
    blocked_until timestamptz,
    PRIMARY KEY (email, ip)
);
CREATE INDEX login_throttles_last_fail ON login_throttles (last_fail);
DROP TABLE login_attempts;

-- Open live-event streams re-check their session when its user changes:
-- a session ends (logout, password change, deactivation, expiry clean-up),
-- the user's role or active flag changes, or a department is added or
-- removed (also by deleting the department). The payload is the user id.
-- +goose StatementBegin
CREATE FUNCTION notify_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('user_changed', OLD.user_id::text);
    ELSIF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('user_changed', NEW.id::text);
    ELSE
        PERFORM pg_notify('user_changed', NEW.user_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER sessions_user_changed AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION notify_user_changed();
CREATE TRIGGER user_departments_user_changed AFTER INSERT OR DELETE ON user_departments
    FOR EACH ROW EXECUTE FUNCTION notify_user_changed();
CREATE TRIGGER users_user_changed AFTER UPDATE OF active, role ON users
    FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active OR OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION notify_user_changed();

-- +goose Down
DROP TRIGGER users_user_changed ON users;
DROP TRIGGER user_departments_user_changed ON user_departments;
DROP TRIGGER sessions_user_changed ON sessions;
DROP FUNCTION notify_user_changed();
CREATE TABLE login_attempts (
    id         bigserial PRIMARY KEY,
    email      text NOT NULL,
    ip         text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);
DROP TABLE login_throttles;
