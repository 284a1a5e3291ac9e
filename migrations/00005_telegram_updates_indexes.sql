-- +goose Up
-- No query looks up a chat's open updates by chat any more: the dispatcher's
-- claim reads the open updates in update_id order (telegram_updates_open) and
-- finds each chat's oldest with a window function. The index cost an index
-- entry on every insert and claim, and the planner preferred its bitmap scan
-- (over entries of long-finished updates) to the ordered scan that the claim
-- can stop early.
DROP INDEX telegram_updates_open_chat;

-- +goose Down
CREATE INDEX telegram_updates_open_chat ON telegram_updates (chat_id, update_id) WHERE status IN ('pending', 'processing');
