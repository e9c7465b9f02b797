-- A user's tags with how many tasks carry each and how many of those are
-- open: the web app shows them on every page. Counting them from task_tags
-- joined to tasks took 50 ms for a user with 10,000 tasks and 100 ms with
-- 100,000. These counters are kept instead, by a trigger on every change
-- of a task's tags or status, in the writing transaction; a row goes when
-- its count reaches zero.
--
-- The trigger is deferred to the commit. By then every task write has
-- appended its events, which takes its user's row (the event sequence),
-- so one user's writers queue on that row before they touch the counters
-- and never take them in opposite orders.
--
-- Writes of a release still running during an upgrade wait for this step:
-- the lock keeps tasks unchanged from the count below until the trigger is
-- in place, so no write is missed by both.
LOCK TABLE tasks IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE tag_counts (
    user_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    count   BIGINT NOT NULL,
    open    BIGINT NOT NULL,
    PRIMARY KEY (user_id, name)
);
INSERT INTO tag_counts (user_id, name, count, open)
SELECT g.user_id, g.name, COUNT(*), COUNT(*) FILTER (WHERE t.status = 'open')
FROM task_tags g JOIN tasks t ON t.id = g.task_id
GROUP BY g.user_id, g.name;

CREATE FUNCTION dueflow_count_tags() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner    TEXT;
    old_tags JSONB := '[]';
    new_tags JSONB := '[]';
    was_open INT := 0;
    is_open  INT := 0;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        owner := OLD.user_id;
        old_tags := OLD.tags::jsonb;
        was_open := (OLD.status = 'open')::int;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        owner := NEW.user_id;
        new_tags := NEW.tags::jsonb;
        is_open := (NEW.status = 'open')::int;
    END IF;
    IF old_tags = new_tags AND was_open = is_open THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tag_counts AS c (user_id, name, count, open)
        SELECT owner, n.name, 1, is_open
        FROM jsonb_array_elements_text(new_tags) AS n(name)
        ORDER BY n.name
        ON CONFLICT (user_id, name) DO UPDATE
        SET count = c.count + 1, open = c.open + excluded.open;
        RETURN NULL;
    END IF;
    INSERT INTO tag_counts AS c (user_id, name, count, open)
    SELECT owner, d.name, SUM(d.count), SUM(d.open)
    FROM (
        SELECT o.name, -1 AS count, -was_open AS open
        FROM jsonb_array_elements_text(old_tags) AS o(name)
        UNION ALL
        SELECT n.name, 1, is_open
        FROM jsonb_array_elements_text(new_tags) AS n(name)
    ) d
    GROUP BY d.name
    HAVING SUM(d.count) <> 0 OR SUM(d.open) <> 0
    ORDER BY d.name
    ON CONFLICT (user_id, name) DO UPDATE
    SET count = c.count + excluded.count, open = c.open + excluded.open;
    DELETE FROM tag_counts
    WHERE user_id = owner AND count <= 0
      AND name IN (SELECT o.name FROM jsonb_array_elements_text(old_tags) AS o(name));
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER tasks_count_tags
AFTER INSERT OR DELETE OR UPDATE OF tags, status ON tasks
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION dueflow_count_tags();
