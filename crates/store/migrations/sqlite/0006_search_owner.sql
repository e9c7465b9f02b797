-- The full-text index gains an `owner` column: the user id without its
-- `usr_` prefix, a single token. Searches put it in the MATCH, so FTS5 walks
-- only the searching user's matches instead of every user's. The index reads
-- its content through a view that derives the owner; existing rows are
-- re-indexed by the rebuild.
DROP TRIGGER tasks_fts_insert;
DROP TRIGGER tasks_fts_delete;
DROP TRIGGER tasks_fts_update;
DROP TABLE tasks_fts;

CREATE VIEW tasks_fts_source AS
    SELECT seq, title, notes, substr(user_id, 5) AS owner FROM tasks;
CREATE VIRTUAL TABLE tasks_fts USING fts5(
    title, notes, owner, content = 'tasks_fts_source', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO tasks_fts(tasks_fts) VALUES ('rebuild');

CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
    INSERT INTO tasks_fts(rowid, title, notes, owner)
        VALUES (new.seq, new.title, new.notes, substr(new.user_id, 5));
END;
CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
    INSERT INTO tasks_fts(tasks_fts, rowid, title, notes, owner)
        VALUES ('delete', old.seq, old.title, old.notes, substr(old.user_id, 5));
END;
CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, notes, user_id ON tasks BEGIN
    INSERT INTO tasks_fts(tasks_fts, rowid, title, notes, owner)
        VALUES ('delete', old.seq, old.title, old.notes, substr(old.user_id, 5));
    INSERT INTO tasks_fts(rowid, title, notes, owner)
        VALUES (new.seq, new.title, new.notes, substr(new.user_id, 5));
END;
