-- +goose Up
-- Routing rules notify a channel of their own: a rule change reloads the
-- routers, not the FAQ index (it used to notify faq_changed).
-- +goose StatementBegin
CREATE FUNCTION notify_routing_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('routing_changed', TG_TABLE_NAME);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
DROP TRIGGER routing_rules_changed ON routing_rules;
CREATE TRIGGER routing_rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON routing_rules
    FOR EACH STATEMENT EXECUTE FUNCTION notify_routing_changed();

-- +goose Down
DROP TRIGGER routing_rules_changed ON routing_rules;
CREATE TRIGGER routing_rules_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON routing_rules
    FOR EACH STATEMENT EXECUTE FUNCTION notify_faq_changed();
DROP FUNCTION notify_routing_changed();
