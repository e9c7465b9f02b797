-- A colour a user gave a tag (`#rrggbb`); it outlives the tag's last task.
CREATE TABLE tag_colours (
    user_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    colour  TEXT NOT NULL,
    PRIMARY KEY (user_id, name)
);

-- Saved views: a name for a query and a sort, per user.
CREATE TABLE saved_views (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    sort       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
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
