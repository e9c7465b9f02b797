-- Relevance puts tasks that match in the title before those that match only
-- in the notes. The tsvector now labels title words A and notes words B, so
-- one GIN lookup with `'word':A` finds title matches.
DROP INDEX tasks_user_search;
ALTER TABLE tasks DROP COLUMN search;
ALTER TABLE tasks ADD COLUMN search TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', dueflow_unaccent(title)), 'A')
    || setweight(to_tsvector('simple', dueflow_unaccent(notes)), 'B')
) STORED;
CREATE INDEX tasks_user_search ON tasks USING GIN (user_id, search);
-- Relevance lists each tier newest first, ties by id: this index holds that
-- order, so a common word's first page is the first matches met walking it.
CREATE INDEX tasks_user_created_id ON tasks (user_id, created_at, id);
DROP INDEX tasks_user_created;
