-- Rotating a webhook's signing secret keeps the previous one signing too,
-- until `previous_until` (unix ms), so receivers can switch without
-- dropping a message (Standard Webhooks' space-separated signatures).
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_until BIGINT;
