-- One task created as dueflow creates it on PostgreSQL (a task with two tags,
-- its advance of the user's event sequence and its outbox row), as a
-- pgbench script; see docs/benchmarks.md, "PostgreSQL write costs".
\set u random(1, 16)
\set r random(1, 1000000000)
WITH task AS (INSERT INTO tasks (id, user_id, title, notes, status, priority, due, due_at, overdue_at, tz, tags, tag_count, recurrence, reminders, series_id, occurrence, created_at, updated_at, completed_at, version) VALUES (gen_random_uuid()::text, 'usr_' || :u, 'Quarterly report draft ' || :r, 'Some notes about the meeting and the budget review', 'open', 2, '2026-12-10', 1765324800000 + :r, 1765324800000 + :r, 'UTC', '["work","home"]', 2, NULL, '[]', NULL, 0, 1765324800000 + :r, 1765324800000 + :r, NULL, 1) RETURNING id),
tags AS (INSERT INTO task_tags (task_id, user_id, name) SELECT task.id, 'usr_' || :u, unnest(ARRAY['work','home']::text[]) FROM task),
seq AS (UPDATE users SET event_seq = event_seq + 1 WHERE id = 'usr_' || :u AND EXISTS (SELECT 1 FROM task) RETURNING event_seq)
INSERT INTO outbox (id, topic, partition_key, payload, created_at) SELECT e.id, e.topic, 'usr_' || :u, replace(e.payload, '"usersequence":0', '"usersequence":' || (seq.event_seq - 1 + e.n)), e.created_at FROM seq, unnest(ARRAY[gen_random_uuid()::text], ARRAY['task-events'], ARRAY[repeat('{"specversion":"1.0","usersequence":0,"data":{"title":"Quarterly report draft"}}', 12)], ARRAY[1765324800000::bigint]) WITH ORDINALITY AS e(id, topic, payload, created_at, n) ORDER BY e.n;
