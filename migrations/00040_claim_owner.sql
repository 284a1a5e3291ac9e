-- +goose Up
-- The instance that claimed an update or an outbox row (its id, see
-- internal/db.Instance). When that instance is no longer running, other
-- instances end the claim's lease at once instead of waiting for it.
ALTER TABLE telegram_updates ADD COLUMN claimed_by integer;
ALTER TABLE outbox ADD COLUMN claimed_by integer;

-- +goose Down
ALTER TABLE outbox DROP COLUMN claimed_by;
ALTER TABLE telegram_updates DROP COLUMN claimed_by;
