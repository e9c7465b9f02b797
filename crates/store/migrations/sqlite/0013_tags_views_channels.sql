-- Every page of the web app shows the user's tags with their counts.
-- Counting them from task_tags joined to tasks took 20 ms for a user with
-- 10,000 tasks; these counters are kept by each task write in the same
-- transaction instead, and a row goes when its count reaches zero.
CREATE TABLE tag_counts (
    user_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    count   INTEGER NOT NULL,
    open    INTEGER NOT NULL,
    PRIMARY KEY (user_id, name)
) WITHOUT ROWID;
INSERT INTO tag_counts (user_id, name, count, open)
SELECT g.user_id, g.name, COUNT(*), SUM(CASE WHEN t.status = 'open' THEN 1 ELSE 0 END)
FROM task_tags g JOIN tasks t ON t.id = g.task_id
GROUP BY g.user_id, g.name;

-- A colour a user gave a tag (`#rrggbb`); it outlives the tag's last task.
CREATE TABLE tag_colours (
    user_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    colour  TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
) WITHOUT ROWID;

-- Saved views: a name for a query and a sort, per user.
CREATE TABLE saved_views (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    sort       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX saved_views_user_name ON saved_views(user_id, name);

-- Where a user's fired reminders go; a user without a row gets them
-- everywhere.
CREATE TABLE reminder_channels (
    user_id TEXT PRIMARY KEY,
    in_app  BOOLEAN NOT NULL,
    email   BOOLEAN NOT NULL,
    webhook BOOLEAN NOT NULL
);
