-- Indexes in the exact order lists are sorted by due (undated last), so a
-- page of "priority:high sort=due" or of the default order is read from the
-- index instead of sorting every matching task.
CREATE INDEX tasks_user_due_sort ON tasks(user_id, COALESCE(due_at, 9223372036854775807), id);
CREATE INDEX tasks_user_priority_due_sort ON tasks(user_id, priority, COALESCE(due_at, 9223372036854775807), id);
DROP INDEX tasks_user_due;
DROP INDEX tasks_user_priority_due;
