-- +goose Up
-- The instance that claimed a delivery for sending (internal/db.Instance):
-- when it is no longer running, the others send the row again at once
-- instead of after the lease.
ALTER TABLE deliveries ADD COLUMN claimed_by integer;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN claimed_by;
