-- The transactional outbox (rows are deleted once published, so a relay
-- never depends on sequence order to find work) and the activity log.

CREATE TABLE outbox (
    seq           BIGSERIAL PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    topic         TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    payload       TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE activity (
    id      TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    type    TEXT NOT NULL,
    subject TEXT NOT NULL,
    time    BIGINT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX activity_user_time ON activity(user_id, time, id);
CREATE INDEX activity_user_subject ON activity(user_id, subject, time, id);
