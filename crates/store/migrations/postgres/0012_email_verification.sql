-- Product mail goes only to an address its owner has shown to receive: a
-- secret mailed to it came back. Addresses set before this start
-- unverified, and their owners ask for a verification mail.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- One row per verification mail: the SHA-256 digest of its secret (never
-- the secret), the address it went to, until when it verifies and when it
-- was used. Rows of the last day also limit how often a user can have one
-- sent; older ones are removed when the user asks for the next.
CREATE TABLE email_verifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    digest     BYTEA NOT NULL UNIQUE,
    address    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX email_verifications_user ON email_verifications(user_id, created_at);

-- A queued mail that carries a secret keeps its body only until it is sent
-- or given up.
ALTER TABLE emails ADD COLUMN holds_secret BOOLEAN NOT NULL DEFAULT FALSE;
