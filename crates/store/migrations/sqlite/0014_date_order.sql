-- The order a user writes numeric dates in (3/4 is 3 April or 4 March):
-- quick add reads them so, and the pages show dates so. Day first until
-- the user chooses.
ALTER TABLE users ADD COLUMN date_order TEXT NOT NULL DEFAULT 'dmy'
    CHECK (date_order IN ('dmy', 'mdy', 'ymd'));
