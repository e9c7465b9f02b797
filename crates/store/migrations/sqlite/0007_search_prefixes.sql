-- Relevance walks the index newest first and stops at the page size, and
-- the last word typed is matched as a prefix. Without prefix indexes FTS5
-- first merges the lists of every word starting with that prefix, for all
-- users; with them a prefix of 2 to 8 characters reads one list, seeking like
-- a whole word. The content view of 0006 stays.
DROP TRIGGER tasks_fts_insert;
DROP TRIGGER tasks_fts_delete;
DROP TRIGGER tasks_fts_update;
DROP TABLE tasks_fts;

CREATE VIRTUAL TABLE tasks_fts USING fts5(
    title, notes, owner, content = 'tasks_fts_source', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6 7 8'
);
INSERT INTO tasks_fts(tasks_fts) VALUES ('rebuild');
-- The writer merges index segments while idle; it merges any level that
-- holds two, so a settled index has about one segment per level.
INSERT INTO tasks_fts(tasks_fts, rank) VALUES ('usermerge', 2);

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
