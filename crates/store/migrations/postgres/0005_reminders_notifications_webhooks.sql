-- Scheduled reminders (one row per task and instant, so editing a task
-- never fires a reminder twice), in-app notifications (one per fired
-- reminder event), mails (queued once per event, retried), webhook endpoints and
-- their deliveries (one per endpoint and event; the id is the stable
-- `webhook-id`).

ALTER TABLE users ADD COLUMN email TEXT;

CREATE TABLE reminders (
    id       TEXT PRIMARY KEY,
    user_id  TEXT NOT NULL,
    task_id  TEXT NOT NULL,
    at       BIGINT NOT NULL,
    fire_at  BIGINT NOT NULL,
    state    TEXT NOT NULL,
    fired_at BIGINT,
    UNIQUE (task_id, at)
);
CREATE INDEX reminders_pending ON reminders(fire_at) WHERE state = 'pending';
CREATE INDEX reminders_user ON reminders(user_id, fire_at, id);

CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    event_id    TEXT NOT NULL UNIQUE,
    task_id     TEXT NOT NULL,
    reminder_id TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    read_at     BIGINT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at, id);

CREATE TABLE emails (
    event_id        TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX emails_due ON emails(next_attempt_at) WHERE state = 'pending';

CREATE TABLE webhooks (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    secret          TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    disabled_reason TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhooks_user ON webhooks(user_id, created_at, id);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    webhook_id      TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at, id);
