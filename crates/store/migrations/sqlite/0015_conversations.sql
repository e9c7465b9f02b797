-- Chat conversations with the assistant, per user: the turns and the
-- action waiting for the user's yes are JSON the assistant writes.
CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    title      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    turns      TEXT NOT NULL,
    pending    TEXT,
    version    INTEGER NOT NULL
);
CREATE INDEX conversations_user_recent ON conversations(user_id, updated_at DESC, id DESC);
