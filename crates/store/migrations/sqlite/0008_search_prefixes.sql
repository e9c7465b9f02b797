-- Relevance walks the index newest first and stops at the page size, and
-- the last word typed is matched as a prefix. Without prefix indexes FTS5
-- first merges the lists of every word starting with that prefix, for all
-- users; with them a prefix of 2 to 8 characters reads one list, seeking like
-- a whole word. The content view and the triggers of 0006 stay: they name
-- the table, which is recreated under the same name.
DROP TABLE tasks_fts;
CREATE VIRTUAL TABLE tasks_fts USING fts5(
    title, notes, owner, content = 'tasks_fts_source', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6 7 8'
);
INSERT INTO tasks_fts(tasks_fts) VALUES ('rebuild');
-- The writer merges index segments while idle; it merges any level that
-- holds two, so a settled index has about one segment per level.
INSERT INTO tasks_fts(tasks_fts, rank) VALUES ('usermerge', 2);
