-- sql/api/40_plans.sql - plans: create, get, list, export, summary.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

---------------------------------------------------------------------------
-- plans
---------------------------------------------------------------------------

CREATE FUNCTION api.pt_plan_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    pl jsonb := coalesce(a->'plan', '{}');
    p public.plans;
    sha text := lower(api.pt_text(pl->'source_sha256'));
    ids uuid[] := '{}';
BEGIN
    PERFORM api.pt_actor_begin(a);
    IF api.pt_text(pl->'title') IS NULL THEN PERFORM api.pt_fail422('title', 'is required'); END IF;
    IF sha IS NOT NULL AND sha !~ '^[0-9a-f]{64}$' THEN
        PERFORM api.pt_fail422('source_sha256', 'must be 64 hex digits');
    END IF;
    IF sha IS NOT NULL THEN
        SELECT * INTO p FROM public.plans WHERE source_sha256 = sha;
        IF FOUND THEN
            RETURN QUERY SELECT 200, api.pt_plan_tree_json(p, a->'cfg');
            RETURN;
        END IF;
    END IF;
    BEGIN
        INSERT INTO public.plans (title, year, org, source_sha256, source_text, owner)
        VALUES (api.pt_text(pl->'title'), (pl->>'year')::int, api.pt_text(pl->'org'), sha, pl->>'source_text',
                api.pt_text(pl->'owner'))
        ON CONFLICT (source_sha256) DO NOTHING
        RETURNING * INTO p;
        IF p.id IS NULL THEN
            -- the same document, imported concurrently
            SELECT * INTO p FROM public.plans WHERE source_sha256 = sha;
            RETURN QUERY SELECT 200, api.pt_plan_tree_json(p, a->'cfg');
            RETURN;
        END IF;
        ids := api.pt_tasks_insert(p.id, NULL, NULL, pl->'tasks', 1, a->'actor', 'tasks', ids, 0, a->'cfg');
    EXCEPTION WHEN data_exception THEN
        PERFORM api.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    PERFORM api.pt_emit('plan.created', p.id, NULL,
        jsonb_build_object('title', p.title, 'year', p.year, 'task_count', cardinality(ids)));
    RETURN QUERY SELECT 201, api.pt_plan_tree_json(p, a->'cfg');
END $$;

CREATE FUNCTION api.pt_plan_find(id text) RETURNS public.plans
LANGUAGE plpgsql STABLE AS $$
DECLARE p public.plans;
BEGIN
    SELECT * INTO p FROM public.plans WHERE plans.id = api.pt_uuid(pt_plan_find.id) AND deleted_at IS NULL;
    IF NOT FOUND THEN PERFORM api.pt_fail('PT404', 'Plan not found', 'no plan with id ' || coalesce(id, 'null')); END IF;
    RETURN p;
END $$;

CREATE FUNCTION api.pt_plan_get(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE p public.plans := api.pt_plan_find(a->>'id');
BEGIN
    IF coalesce((a->>'tree')::boolean, false) THEN
        RETURN QUERY SELECT 200, api.pt_plan_tree_json(p, a->'cfg');
    ELSE
        RETURN QUERY SELECT 200, api.pt_plan_json(p);
    END IF;
END $$;

-- Keyset cursor "created_at-in-microseconds_uuid" for newest-first lists.
CREATE FUNCTION api.pt_ts_cursor(t timestamptz, id uuid) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM t) * 1000000)::bigint::text || '_' || id::text
$$;

CREATE FUNCTION api.pt_parse_ts_cursor(c text, OUT t timestamptz, OUT id uuid)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF c IS NULL THEN RETURN; END IF;
    IF c !~ '^-?[0-9]{1,17}_[0-9a-fA-F-]{36}$' OR api.pt_uuid(split_part(c, '_', 2)) IS NULL THEN
        PERFORM api.pt_fail422('cursor', 'is not a cursor from this API');
    END IF;
    t := to_timestamp(split_part(c, '_', 1)::numeric / 1000000);
    id := split_part(c, '_', 2)::uuid;
END $$;

CREATE FUNCTION api.pt_plans_list(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := api.pt_limit(a);
    cur record := api.pt_parse_ts_cursor(a->>'cursor');
    items jsonb[] := '{}';
    n int := 0;
    last public.plans;
    p public.plans;
BEGIN
    FOR p IN SELECT * FROM public.plans
              WHERE deleted_at IS NULL AND (cur.t IS NULL OR (created_at, plans.id) < (cur.t, cur.id))
              ORDER BY created_at DESC, id DESC LIMIT lim + 1 LOOP
        n := n + 1;
        EXIT WHEN n > lim;
        items := items || api.pt_plan_json(p);
        last := p;
    END LOOP;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(to_jsonb(items), '[]'),
        'next_cursor', CASE WHEN n > lim THEN api.pt_ts_cursor(last.created_at, last.id) END);
END $$;

-- Live tasks of a plan with their document-order path (depth first, siblings by ord).
CREATE FUNCTION api.pt_plan_tasks(plan uuid) RETURNS TABLE(task public.tasks, path bigint[])
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE tr AS (
        SELECT t AS task, ARRAY[t.ord] AS path FROM public.tasks t
         WHERE t.plan_id = plan AND t.parent_id IS NULL AND t.deleted_at IS NULL
        UNION ALL
        SELECT c, tr.path || c.ord FROM public.tasks c JOIN tr ON c.parent_id = (tr.task).id
         WHERE c.deleted_at IS NULL AND cardinality(tr.path) < 32)
    SELECT tr.task, tr.path FROM tr
$$;

CREATE FUNCTION api.pt_plan_export(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE p public.plans := api.pt_plan_find(a->>'id');
BEGIN
    RETURN QUERY SELECT 200, jsonb_build_object('plan', api.pt_plan_json(p),
        'rows', (SELECT coalesce(jsonb_agg(api.pt_task_json(x.task, a->'cfg') ORDER BY x.path), '[]')
                   FROM api.pt_plan_tasks(p.id) x));
END $$;

CREATE FUNCTION api.pt_plan_summary(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p public.plans := api.pt_plan_find(a->>'id');
    cfg jsonb := a->'cfg';
    today date := api.pt_today(cfg);
    res jsonb;
BEGIN
    WITH s AS (
        SELECT t.id, t.code, t.title, t.status, t.due_date, t.closed_at, t.lead_unit_id, t.parent_id,
               x.progress, x.light, t.child_count = 0 AS leaf, t.ord
          FROM public.tasks t CROSS JOIN LATERAL api.pt_task_state(t, cfg) x
         WHERE t.plan_id = p.id AND t.deleted_at IS NULL),
    u AS (
        SELECT un.name AS unit, count(*) AS tasks,
               count(*) FILTER (WHERE s.status IN ('done', 'verified')) AS done,
               count(*) FILTER (WHERE s.light = 'red') AS red,
               round(avg(s.progress), 1) AS avg_progress,
               -- closed on time / (closed + overdue); 100 when nothing is due yet
               coalesce(round(100.0 * count(*) FILTER (WHERE s.status IN ('done', 'verified')
                                           AND (s.due_date IS NULL OR (s.closed_at AT TIME ZONE 'UTC')::date <= s.due_date))
                              / nullif(count(*) FILTER (WHERE s.status IN ('done', 'verified') OR s.light = 'red'), 0), 1),
                        100) AS on_time_rate
          FROM s JOIN public.units un ON un.id = s.lead_unit_id
         WHERE s.leaf AND s.status <> 'cancelled'
         GROUP BY un.name)
    SELECT jsonb_build_object(
        'plan_id', p.id,
        'tasks', (SELECT count(*) FROM s),
        'by_status', (SELECT coalesce(jsonb_object_agg(x.status, x.n), '{}')
                        FROM (SELECT s.status, count(*) AS n FROM s GROUP BY s.status) x),
        'by_light', (SELECT coalesce(jsonb_object_agg(x.light, x.n), '{}')
                       FROM (SELECT s.light, count(*) AS n FROM s GROUP BY s.light) x),
        'progress', (SELECT coalesce(round(avg(s.progress))::int, 0) FROM s WHERE s.parent_id IS NULL),
        'overdue', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'code', s.code, 'title', s.title,
                                   'due_date', s.due_date, 'lead_unit', api.pt_unit_name(s.lead_unit_id),
                                   'progress', s.progress) ORDER BY s.due_date, s.ord), '[]')
                      FROM s WHERE s.light = 'red'),
        'units', (SELECT coalesce(jsonb_agg(jsonb_build_object('unit', r.unit, 'tasks', r.tasks, 'done', r.done,
                                 'on_time_rate', r.on_time_rate, 'avg_progress', r.avg_progress, 'red', r.red,
                                 'rank', r.rank) ORDER BY r.rank, r.unit), '[]')
                    FROM (SELECT u.*, rank() OVER (ORDER BY u.red, u.avg_progress DESC, u.on_time_rate DESC) AS rank
                            FROM u) r),
        'today', today)
      INTO res;
    RETURN QUERY SELECT 200, res;
END $$;
