-- Per-user event sequence, advanced in every writing transaction, so live
-- clients of any replica can resume after the last number they saw.
ALTER TABLE users ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
