-- Full-text search scoped by owner: a GIN index over (user_id, search)
-- (btree_gin supplies the text operator class) finds one user's matches
-- without visiting and rechecking every user's. It replaces the index on
-- `search` alone; the tsvector column itself is unchanged.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX tasks_user_search ON tasks USING GIN (user_id, search);
DROP INDEX tasks_search;
