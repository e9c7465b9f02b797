-- Cheaper task writes, part two. Each foreign key on a written table runs a
-- trigger per inserted row, and the trigger runs a query of its own
-- (`SELECT 1 … FOR KEY SHARE`): two or more per created task. Tasks are only
-- ever written for the authenticated user, in the same statement that
-- advances that user's event sequence, and their tags in the same statement
-- as the task; deleting a task deletes its tags in the same transaction.
-- Users are never deleted, so no cascade was ever taken. Measured with
-- pgbench on the create statement: 15 % more creates per second without them.
ALTER TABLE tasks DROP CONSTRAINT tasks_user_id_fkey;
ALTER TABLE task_tags DROP CONSTRAINT task_tags_task_id_fkey;
