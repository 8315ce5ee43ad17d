-- sql/api/40_plans.sql - plans: create, get, list, export, summary.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

---------------------------------------------------------------------------
-- plans
---------------------------------------------------------------------------

CREATE FUNCTION api.pt_plan_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql SET work_mem = '64MB' AS $$
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
    PERFORM api.pt_check_as_of(p, a->'cfg');
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
                AND (archived_at IS NULL OR coalesce((a->>'archived')::boolean, false))
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
    PERFORM api.pt_check_as_of(p, a->'cfg');
    RETURN QUERY SELECT 200, jsonb_build_object('plan', api.pt_plan_json(p), 'as_of', api.pt_today(a->'cfg'),
        'rows', (SELECT coalesce(jsonb_agg(x.doc ORDER BY (x.ev).path), '[]')
                   FROM api.pt_eval_docs(p.id, a->'cfg') x));
END $$;

-- Leaf items (no live child) of an evaluation, not cancelled, with a lead unit.
CREATE FUNCTION api.pt_eval_items(plan uuid, cfg jsonb) RETURNS SETOF api.pt_ev
LANGUAGE sql STABLE AS $$
    WITH e AS MATERIALIZED (SELECT * FROM api.pt_eval(plan, cfg))
    SELECT e.* FROM e
     WHERE (e.t).status <> 'cancelled'
       AND NOT EXISTS (SELECT 1 FROM e c WHERE (c.t).parent_id = (e.t).id)
$$;

-- on time: finished no later than the effective due; the rate is on time /
-- (finished + overdue), a fraction 0..1, 1 when nothing is finished or overdue.
-- (generic plans for every statement run inside, the evaluation's too: custom
-- plans planned its inlined expressions again on every call)
CREATE FUNCTION api.pt_plan_summary(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    p public.plans := api.pt_plan_find(a->>'id');
    cfg jsonb := a->'cfg';
    today date := api.pt_today(cfg);
    res jsonb;
BEGIN
    PERFORM api.pt_check_as_of(p, cfg);
    WITH s AS MATERIALIZED (
        SELECT (e.t).id, (e.t).code, (e.t).title, (e.t).status, (e.t).lead_unit_id, (e.t).parent_id, (e.t).ord,
               e.eff_due, e.progress, e.light, e.late, e.path
          FROM api.pt_eval(p.id, cfg) e),
    leaf AS (SELECT * FROM s WHERE NOT EXISTS (SELECT 1 FROM s c WHERE c.parent_id = s.id) AND s.status <> 'cancelled'),
    u AS (
        SELECT un.name AS unit, count(*) AS tasks,
               count(*) FILTER (WHERE leaf.status IN ('done', 'verified')) AS done,
               count(*) FILTER (WHERE leaf.light = 'red') AS red,
               round(avg(leaf.progress), 1) AS avg_progress,
               coalesce(round(count(*) FILTER (WHERE leaf.status IN ('done', 'verified') AND NOT leaf.late)::numeric
                              / nullif(count(*) FILTER (WHERE leaf.status IN ('done', 'verified') OR leaf.late), 0), 4),
                        1) AS on_time_rate
          FROM leaf JOIN public.units un ON un.id = leaf.lead_unit_id
         GROUP BY un.name)
    SELECT jsonb_build_object(
        'plan_id', p.id,
        'as_of', today,
        'tasks', (SELECT count(*) FROM s),
        'by_status', (SELECT coalesce(jsonb_object_agg(x.status, x.n), '{}')
                        FROM (SELECT s.status, count(*) AS n FROM s GROUP BY s.status) x),
        'by_light', (SELECT coalesce(jsonb_object_agg(x.light, x.n), '{}')
                       FROM (SELECT s.light, count(*) AS n FROM s GROUP BY s.light) x),
        'progress', (SELECT coalesce(round(avg(s.progress))::int, 0) FROM s WHERE s.parent_id IS NULL AND s.status <> 'cancelled'),
        'overdue', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', s.id, 'code', s.code, 'title', s.title,
                                   'due_date', s.eff_due, 'lead_unit', api.pt_unit_name(s.lead_unit_id),
                                   'progress', s.progress) ORDER BY s.eff_due, s.path), '[]')
                      FROM s WHERE s.light = 'red' AND s.late),
        'units', (SELECT coalesce(jsonb_agg(jsonb_build_object('unit', r.unit, 'tasks', r.tasks, 'done', r.done,
                                 'on_time_rate', r.on_time_rate, 'avg_progress', r.avg_progress, 'red', r.red,
                                 'red_share', round(r.red::numeric / r.tasks, 4), 'rank', r.rank) ORDER BY r.rank, r.unit), '[]')
                    FROM (SELECT u.*, rank() OVER (ORDER BY u.red::numeric / u.tasks, u.avg_progress DESC,
                                                            u.on_time_rate DESC) AS rank
                            FROM u) r),
        'today', today)
      INTO res;
    RETURN QUERY SELECT 200, res;
END $$;

-- 季度赛马 {cfg, id, period:{label, from, to}}: per lead unit, from the plan as it
-- was at the end of the period (or today, while the period runs), over its leaf
-- items (cancelled ones out). See docs/sql-api.md "Ranking" for the formula.
-- (generic plans for every statement run inside, the evaluation's too: custom
-- plans planned its inlined expressions again on every call)
CREATE FUNCTION api.pt_plan_ranking(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    p public.plans := api.pt_plan_find(a->>'id');
    cfg jsonb := coalesce(a->'cfg', '{}');
    pfrom date := (a#>>'{period,from}')::date;
    pto date := (a#>>'{period,to}')::date;
    today date := api.pt_today(cfg - 'as_of');
    asof date := least(pto, today);
    w jsonb := coalesce(cfg->'ranking', '{}');
    w_on float8 := coalesce((w->>'on_time')::float8, 40);
    w_pr float8 := coalesce((w->>'progress')::float8, 40);
    w_red float8 := coalesce((w->>'red')::float8, 20);
    nlist int := coalesce((w->>'list_size')::int, 3);
    res jsonb;
BEGIN
    IF pfrom IS NULL OR pto IS NULL OR pto < pfrom THEN PERFORM api.pt_fail422('period', 'is not a period'); END IF;
    IF asof < least(make_date(coalesce(p.year, 9999), 1, 1), (p.created_at AT TIME ZONE api.pt_tz(cfg))::date) THEN
        PERFORM api.pt_fail('PT422', 'Validation failed',
            format('period %s ends before the plan existed', a#>>'{period,label}'),
            jsonb_build_array(jsonb_build_object('field', 'period', 'message', 'ends before the plan existed')));
    END IF;
    cfg := cfg || jsonb_build_object('as_of', asof);
    -- the task row's fields taken out once: each (e.t).field reads the whole row
    -- again, and the aggregates below read them several times per leaf
    -- (pt_eval_items' rule, leaf items not cancelled, on these columns)
    WITH e AS MATERIALIZED (
        SELECT (x.t).id, (x.t).parent_id, (x.t).lead_unit_id AS unit_id, (x.t).status, x.eff_due, x.late, x.light,
               x.progress, x.expected
          FROM api.pt_eval(p.id, cfg) x),
    leaf AS MATERIALIZED (
        SELECT e.* FROM e
         WHERE e.status <> 'cancelled' AND e.unit_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM e c WHERE c.parent_id = e.id)),
    u AS (
        SELECT un.name AS unit, count(*) AS tasks,
               count(*) FILTER (WHERE l.eff_due BETWEEN pfrom AND pto) AS due,
               count(*) FILTER (WHERE l.eff_due BETWEEN pfrom AND pto AND l.status IN ('done', 'verified')
                                AND NOT l.late) AS on_time,
               count(*) FILTER (WHERE l.light = 'red') AS red,
               avg(CASE WHEN l.expected <= 0 THEN 1 ELSE least(1.0, l.progress / l.expected) END) AS progress_ratio,
               avg(l.progress - l.expected) FILTER (WHERE l.status NOT IN ('done', 'verified')) AS progress_gap
          FROM leaf l JOIN public.units un ON un.id = l.unit_id
         GROUP BY un.name),
    sc AS (
        SELECT u.*, CASE WHEN u.due > 0 THEN u.on_time::float8 / u.due END AS on_time_rate,
               u.red::float8 / u.tasks AS red_share
          FROM u),
    sc2 AS (
        SELECT sc.*, round((100 * (coalesce(w_on * sc.on_time_rate, 0) + w_pr * sc.progress_ratio + w_red * (1 - sc.red_share))
                            / nullif(CASE WHEN sc.on_time_rate IS NULL THEN 0 ELSE w_on END + w_pr + w_red, 0))::numeric, 1)
                     AS score
          FROM sc),
    r AS (
        SELECT sc2.*, rank() OVER (ORDER BY sc2.score DESC) AS rank, rank() OVER (ORDER BY sc2.score) AS rrank FROM sc2)
    SELECT jsonb_build_object(
        'plan_id', p.id,
        'period', jsonb_build_object('label', a#>>'{period,label}', 'from', pfrom, 'to', pto),
        'as_of', asof,
        'final', pto < today,
        'weights', jsonb_build_object('on_time', w_on, 'progress', w_pr, 'red', w_red),
        'formula', 'score = 100 * (w_on_time * on_time_rate + w_progress * progress_ratio + w_red * (1 - red_share)) / (sum of the weights used); on_time_rate left out (with its weight) when nothing was due in the period',
        'units', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                        'unit', r.unit, 'tasks', r.tasks, 'due', r.due, 'on_time', r.on_time,
                        'on_time_rate', round(r.on_time_rate::numeric, 4), 'progress_ratio', round(r.progress_ratio::numeric, 4),
                        'progress_gap', round(r.progress_gap::numeric, 1),
                        'red', r.red, 'red_share', round(r.red_share::numeric, 4), 'score', r.score, 'rank', r.rank)
                        ORDER BY r.rank, r.unit), '[]') FROM r),
        'red_list', (SELECT coalesce(jsonb_agg(r.unit ORDER BY r.rank, r.unit), '[]') FROM r WHERE r.rank <= nlist),
        'black_list', (SELECT coalesce(jsonb_agg(r.unit ORDER BY r.rrank, r.unit), '[]') FROM r
                        WHERE r.rrank <= nlist AND r.rank > nlist))
      INTO res;
    RETURN QUERY SELECT 200, res;
END $$;

-- t in time zone tz as ISO 8601 with its offset: 2025-07-01T08:30:00+08:00.
CREATE FUNCTION api.pt_local_ts(t timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT to_char(t AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN m < 0 THEN '-' ELSE '+' END || lpad((abs(m) / 60)::text, 2, '0') || ':' || lpad((abs(m) % 60)::text, 2, '0')
      FROM (SELECT (extract(epoch FROM (t AT TIME ZONE tz) - (t AT TIME ZONE 'UTC')) / 60)::int AS m) x
$$;

-- The ledger document of docs/ledger.md: {cfg (as_of inside), id, period?:{label,from,to}}
-- (period absent: the quarter of the as-of day). Tasks in document order, as of the day,
-- with the last progress note on or before it; the ranking of the period.
CREATE FUNCTION api.pt_plan_ledger(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p public.plans := api.pt_plan_find(a->>'id');
    cfg jsonb := coalesce(a->'cfg', '{}');
    d date := api.pt_today(cfg);
    cut timestamptz := ((d + 1)::timestamp) AT TIME ZONE api.pt_tz(cfg);
    period jsonb := a->'period';
    q date;
    rk jsonb;
    res jsonb;
BEGIN
    PERFORM api.pt_check_as_of(p, cfg);
    IF jsonb_typeof(period) IS DISTINCT FROM 'object' THEN
        q := date_trunc('quarter', d)::date;
        period := jsonb_build_object('label', extract(year FROM q) || 'Q' || extract(quarter FROM q),
                                     'from', q, 'to', (q + interval '3 months' - interval '1 day')::date);
    END IF;
    SELECT x.body INTO rk FROM api.pt_plan_ranking(jsonb_build_object('cfg', cfg - 'as_of', 'id', p.id, 'period', period)) x;
    SELECT jsonb_build_object(
        'plan', jsonb_build_object('id', p.id, 'title', p.title, 'year', p.year),
        'as_of', d,
        'generated_at', api.pt_local_ts(now(), api.pt_tz(cfg)),
        'tasks', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                     'id', ((x.ev).t).id, 'code', ((x.ev).t).code, 'level', (x.ev).depth + 1, 'title', ((x.ev).t).title,
                     'lead_unit', x.doc->'lead_unit', 'co_units', x.doc->'co_units',
                     'owner', ((x.ev).t).owner, 'leader', ((x.ev).t).leader,
                     'due_date', ((x.ev).t).due_date, 'effective_due', (x.ev).eff_due, 'due_source', (x.ev).due_source,
                     'progress', (x.ev).progress,
                     'progress_source', CASE WHEN (x.ev).progress_source = 'children' THEN 'children'
                                             WHEN (x.ev).progress_source = 'reported' AND NOT ((x.ev).t).own_progress_reported
                                                  AND ((x.ev).t).status NOT IN ('done', 'verified') THEN 'none'
                                             ELSE 'own' END,
                     'status', ((x.ev).t).status, 'light', (x.ev).light,
                     'latest_note', (SELECT u.note FROM public.updates u
                                      WHERE u.task_id = ((x.ev).t).id AND u.at < cut AND u.note IS NOT NULL
                                      ORDER BY u.at DESC, u.id DESC LIMIT 1))
                     ORDER BY (x.ev).path), '[]')
                    FROM api.pt_eval_docs(p.id, cfg) x),
        'ranking', jsonb_build_object('period', rk->'period'->'label',
            'units', (SELECT coalesce(jsonb_agg(jsonb_build_object('rank', u->'rank', 'unit', u->'unit', 'score', u->'score',
                              'on_time_rate', u->'on_time_rate', 'progress_gap', u->'progress_gap',
                              'red_share', u->'red_share', 'tasks', u->'tasks',
                              'list', CASE WHEN rk->'red_list' ? (u->>'unit') THEN 'red'
                                           WHEN rk->'black_list' ? (u->>'unit') THEN 'black' END)
                              ORDER BY (u->>'rank')::int, u->>'unit'), '[]')
                        FROM jsonb_array_elements(rk->'units') u)))
      INTO res;
    RETURN QUERY SELECT 200, res;
END $$;

-- 月通报 {cfg, id, period:{label,from,to}}: the plan as of the period's last day
-- (today while it runs), from the journal: counts by light and status, what was
-- finished in the period, what is overdue, what falls due in the next 30 days,
-- and the period's ranking with its red and black lists.
CREATE FUNCTION api.pt_plan_bulletin(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p public.plans := api.pt_plan_find(a->>'id');
    cfg jsonb := coalesce(a->'cfg', '{}') - 'as_of';
    pfrom date := (a#>>'{period,from}')::date;
    pto date := (a#>>'{period,to}')::date;
    today date := api.pt_today(cfg);
    asof date := least(pto, today);
    tz text := api.pt_tz(cfg);
    rk jsonb;
    res jsonb;
BEGIN
    IF pfrom IS NULL OR pto IS NULL OR pto < pfrom THEN PERFORM api.pt_fail422('period', 'is not a period'); END IF;
    -- the ranking checks the period against the plan's existence (PT422 period)
    SELECT x.body INTO rk FROM api.pt_plan_ranking(jsonb_build_object('cfg', cfg, 'id', p.id, 'period', a->'period')) x;
    cfg := cfg || jsonb_build_object('as_of', asof);
    WITH e AS MATERIALIZED (SELECT x.ev, x.doc FROM api.pt_eval_docs(p.id, cfg) x),
    leaf AS (SELECT * FROM e WHERE NOT EXISTS (SELECT 1 FROM e c WHERE ((c.ev).t).parent_id = ((e.ev).t).id))
    SELECT jsonb_build_object(
        'plan', jsonb_build_object('id', p.id, 'title', p.title, 'year', p.year, 'org', p.org),
        'period', a->'period', 'as_of', asof, 'final', pto < today,
        'tasks', (SELECT count(*) FROM e),
        'items', (SELECT count(*) FROM leaf),
        'by_light', (SELECT coalesce(jsonb_object_agg(x.l, x.n), '{}')
                       FROM (SELECT (leaf.ev).light AS l, count(*) AS n FROM leaf GROUP BY 1) x),
        'by_status', (SELECT coalesce(jsonb_object_agg(x.s, x.n), '{}')
                        FROM (SELECT ((leaf.ev).t).status AS s, count(*) AS n FROM leaf GROUP BY 1) x),
        'progress', (SELECT coalesce(round(avg((e.ev).progress))::int, 0) FROM e
                      WHERE ((e.ev).t).parent_id IS NULL AND ((e.ev).t).status <> 'cancelled'),
        'done', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', ((e.ev).t).id, 'code', ((e.ev).t).code,
                        'title', ((e.ev).t).title, 'lead_unit', e.doc->'lead_unit',
                        'closed_on', (((e.ev).t).closed_at AT TIME ZONE tz)::date, 'effective_due', (e.ev).eff_due,
                        'late', (e.ev).late) ORDER BY (e.ev).path), '[]')
                   FROM e WHERE ((e.ev).t).status IN ('done', 'verified')
                    AND (((e.ev).t).closed_at AT TIME ZONE tz)::date BETWEEN pfrom AND pto),
        'overdue', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', ((e.ev).t).id, 'code', ((e.ev).t).code,
                        'title', ((e.ev).t).title, 'lead_unit', e.doc->'lead_unit', 'effective_due', (e.ev).eff_due,
                        'due_source', (e.ev).due_source, 'progress', (e.ev).progress, 'days_overdue', asof - (e.ev).eff_due)
                        ORDER BY (e.ev).eff_due, (e.ev).path), '[]')
                      FROM leaf e WHERE (e.ev).late AND ((e.ev).t).status NOT IN ('done', 'verified', 'cancelled')),
        'behind', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', ((e.ev).t).id, 'code', ((e.ev).t).code,
                        'title', ((e.ev).t).title, 'lead_unit', e.doc->'lead_unit', 'effective_due', (e.ev).eff_due,
                        'progress', (e.ev).progress, 'expected_progress', round((e.ev).expected::numeric, 1))
                        ORDER BY (e.ev).path), '[]')
                     FROM leaf e WHERE (e.ev).light = 'yellow'),
        'due_soon', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', ((e.ev).t).id, 'code', ((e.ev).t).code,
                        'title', ((e.ev).t).title, 'lead_unit', e.doc->'lead_unit', 'effective_due', (e.ev).eff_due,
                        'progress', (e.ev).progress) ORDER BY (e.ev).eff_due, (e.ev).path), '[]')
                       FROM leaf e WHERE (e.ev).eff_due > asof AND (e.ev).eff_due <= asof + 30
                        AND ((e.ev).t).status NOT IN ('done', 'verified', 'cancelled')),
        'ranking', rk->'units', 'red_list', rk->'red_list', 'black_list', rk->'black_list')
      INTO res;
    RETURN QUERY SELECT 200, res;
END $$;
