-- Users, their API tokens and web sessions, tasks with tags and a full-text index.
-- Instants are unix milliseconds (BIGINT) so both backends share one query compiler.

-- Full-text search folds diacritics (café = cafe) like SQLite's unicode61
-- tokenizer; unaccent is STABLE, so an IMMUTABLE wrapper pins its dictionary
-- for use in the generated column.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE FUNCTION dueflow_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    tz            TEXT NOT NULL DEFAULT 'UTC',
    created_at    BIGINT NOT NULL
);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    digest     BYTEA NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE tasks (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    notes        TEXT NOT NULL,
    status       TEXT NOT NULL,
    priority     BIGINT NOT NULL,
    due          TEXT,
    due_at       BIGINT,
    overdue_at   BIGINT,
    tz           TEXT NOT NULL,
    tags         TEXT NOT NULL,
    tag_count    BIGINT NOT NULL,
    recurrence   TEXT,
    reminders    TEXT NOT NULL,
    series_id    TEXT,
    occurrence   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    completed_at BIGINT,
    version      BIGINT NOT NULL,
    search       TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', dueflow_unaccent(title || ' ' || notes))) STORED
);
CREATE UNIQUE INDEX tasks_series_occurrence ON tasks(series_id, occurrence) WHERE series_id IS NOT NULL;
CREATE INDEX tasks_user_due ON tasks(user_id, due_at);
CREATE INDEX tasks_user_priority_due ON tasks(user_id, priority, due_at);
CREATE INDEX tasks_user_created ON tasks(user_id, created_at);
CREATE INDEX tasks_user_updated ON tasks(user_id, updated_at);
CREATE INDEX tasks_search ON tasks USING GIN (search);

CREATE TABLE task_tags (
    task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    PRIMARY KEY (task_id, name)
);
CREATE INDEX task_tags_user_name ON task_tags(user_id, name);
