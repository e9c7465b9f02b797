-- Users, their API tokens and web sessions, tasks with tags and a full-text index.
-- Instants are unix milliseconds (INTEGER); ids are prefixed text.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    tz            TEXT NOT NULL DEFAULT 'UTC',
    created_at    INTEGER NOT NULL
);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    digest     BLOB NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX tokens_user ON tokens(user_id);

CREATE TABLE tasks (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    notes        TEXT NOT NULL,
    status       TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    due          TEXT,
    due_at       INTEGER,
    overdue_at   INTEGER,
    tz           TEXT NOT NULL,
    tags         TEXT NOT NULL,
    tag_count    INTEGER NOT NULL,
    recurrence   TEXT,
    reminders    TEXT NOT NULL,
    series_id    TEXT,
    occurrence   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    completed_at INTEGER,
    version      INTEGER NOT NULL
);
CREATE UNIQUE INDEX tasks_series_occurrence ON tasks(series_id, occurrence) WHERE series_id IS NOT NULL;
CREATE INDEX tasks_user_due ON tasks(user_id, due_at);
CREATE INDEX tasks_user_priority_due ON tasks(user_id, priority, due_at);
CREATE INDEX tasks_user_created ON tasks(user_id, created_at);
CREATE INDEX tasks_user_updated ON tasks(user_id, updated_at);

CREATE TABLE task_tags (
    task_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    PRIMARY KEY (task_id, name)
) WITHOUT ROWID;
CREATE INDEX task_tags_user_name ON task_tags(user_id, name);

CREATE VIRTUAL TABLE tasks_fts USING fts5(
    title, notes, content = 'tasks', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO tasks_fts(rowid, title, notes) VALUES (new.seq, new.title, new.notes);
END;
CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO tasks_fts(tasks_fts, rowid, title, notes) VALUES ('delete', old.seq, old.title, old.notes);
END;
CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, notes ON tasks BEGIN
    INSERT INTO tasks_fts(tasks_fts, rowid, title, notes) VALUES ('delete', old.seq, old.title, old.notes);
    INSERT INTO tasks_fts(rowid, title, notes) VALUES (new.seq, new.title, new.notes);
END;
