-- sql/api/20_events.sql - the change feed: emitting, publishing and reading events.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

-- Writes add events to the outbox unnumbered and without NOTIFY (a NOTIFY
-- serialises every committing transaction of the database); the daemon calls
-- pt_events_publish after each write and on a timer. Returns the event's id.
-- The id is also left in the transaction's plantrack.event_id setting, which
-- the daemon's write statements return (X-Event-Id), so a client can wait for
-- the event of its own write (GET /v1/events?wait_for=ID).
CREATE FUNCTION api.pt_emit(etype text, plan uuid, task uuid, data jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE eid bigint;
BEGIN
    INSERT INTO public.events (type, plan_id, task_id, payload)
    VALUES (etype, plan, task, coalesce(data, '{}')) RETURNING id INTO eid;
    PERFORM set_config('plantrack.event_id', eid::text, true);
    RETURN eid;
END $$;

-- task.created for many tasks in one statement.
CREATE FUNCTION api.pt_emit_created(ids uuid[]) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE eid bigint;
BEGIN
    WITH ins AS (
        INSERT INTO public.events (type, plan_id, task_id, payload)
        SELECT 'task.created', t.plan_id, t.id,
               jsonb_build_object('code', t.code, 'title', t.title, 'parent_id', t.parent_id, 'version', t.version)
          FROM public.tasks t WHERE t.id = ANY (ids) ORDER BY t.ord
        RETURNING id)
    SELECT max(id) INTO eid FROM ins;
    IF eid IS NOT NULL THEN
        PERFORM set_config('plantrack.event_id', eid::text, true);
    END IF;
    RETURN eid;
END $$;

-- Numbers the committed, unpublished events: their feed seq, in one step
-- serialised by an advisory lock held to commit. Event ids are taken before
-- commit and may commit out of order; seqs are taken here, after commit, so a
-- reader that has seen seq N never later finds an event below N. Returns the
-- highest seq published (one NOTIFY per batch), or NULL when nothing was
-- pending or another publisher holds the lock (the next call takes the rest).
CREATE FUNCTION api.pt_events_publish() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE top bigint;
BEGIN
    IF NOT pg_try_advisory_xact_lock(7262610425) THEN
        RETURN NULL;
    END IF;
    WITH pending AS (SELECT id FROM public.events WHERE seq IS NULL ORDER BY id),
         numbered AS (SELECT id, nextval('public.events_feed_seq') AS s FROM pending)
    UPDATE public.events e SET seq = n.s FROM numbered n WHERE e.id = n.id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    SELECT max(seq) INTO top FROM public.events;
    PERFORM pg_notify('plantrack_events', top::text);
    RETURN top;
END $$;

---------------------------------------------------------------------------
-- change feed
---------------------------------------------------------------------------

CREATE FUNCTION api.pt_events_after(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    after bigint := greatest(coalesce((a->>'after')::bigint, 0), 0);
    lim int := api.pt_limit(a);
    evs jsonb;
    last bigint;
BEGIN
    SELECT coalesce(jsonb_agg(api.pt_event_json(e) ORDER BY e.seq), '[]'), max(e.seq) INTO evs, last
      FROM (SELECT * FROM public.events WHERE seq > after ORDER BY seq LIMIT lim) e;
    IF a ? 'wait_for' THEN
        -- whether event wait_for has its seq yet (unknown or uncommitted: not yet)
        RETURN QUERY SELECT 200, jsonb_build_object('events', evs, 'next_after', coalesce(last, after),
            'published', EXISTS (SELECT 1 FROM public.events WHERE id = (a->>'wait_for')::bigint AND seq IS NOT NULL));
        RETURN;
    END IF;
    RETURN QUERY SELECT 200, jsonb_build_object('events', evs, 'next_after', coalesce(last, after));
END $$;
