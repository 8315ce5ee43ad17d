-- sql/api/05_eval.sql - the state of a plan on a day (from the journal), effective
-- due dates, 序时进度, progress by source, lights rolled up (issue 10).
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path. The rules are written down in docs/sql-api.md,
-- "Progress and lights".

---------------------------------------------------------------------------
-- days and time zones
---------------------------------------------------------------------------

-- The configured time zone (cfg.tz), Asia/Shanghai by default.
CREATE FUNCTION api.pt_tz(cfg jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(nullif(cfg->>'tz', ''), 'Asia/Shanghai')
$$;

-- The as-of day asked for (cfg.as_of), NULL when the caller wants the present.
CREATE FUNCTION api.pt_as_of(cfg jsonb) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT nullif(cfg->>'as_of', '')::date
$$;

-- The end of the as-of day in the time zone: journal entries before it are the
-- state of that day. NULL without as_of (the live tables).
CREATE FUNCTION api.pt_cutoff(cfg jsonb) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT ((api.pt_as_of(cfg) + 1)::timestamp) AT TIME ZONE api.pt_tz(cfg)
$$;

-- 422 as_of unless the plan existed on the as-of day: from the start of its
-- year (a 2025 plan entered in 2026 still describes 2025), else from its
-- creation day.
CREATE FUNCTION api.pt_check_as_of(p public.plans, cfg jsonb) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE d date := api.pt_as_of(cfg);
BEGIN
    IF d IS NOT NULL AND d < least(make_date(coalesce(p.year, 9999), 1, 1),
                                   (p.created_at AT TIME ZONE api.pt_tz(cfg))::date) THEN
        PERFORM api.pt_fail('PT422', 'Validation failed',
            format('as_of %s is before the plan existed (%s)', d,
                   least(make_date(coalesce(p.year, 9999), 1, 1), (p.created_at AT TIME ZONE api.pt_tz(cfg))::date)),
            jsonb_build_array(jsonb_build_object('field', 'as_of', 'message', 'is before the plan existed')));
    END IF;
END $$;

---------------------------------------------------------------------------
-- rows as of a moment (the journal's snapshots)
---------------------------------------------------------------------------

-- The moment whose journal state is the plan's state at cut: cut itself, or when
-- cut is before the plan was entered (a 2025 plan entered in 2026, read as of
-- 2025-06-30), the plan as it was set up: every change up to its first
-- progress report (lead units assigned, dates corrected after the import
-- count; reports never do), or up to now while nothing is reported. pt_eval
-- asks once and hands the answer to pt_tasks_at, pt_targets_at and
-- pt_milestones_at (finding the first report scans the plan's journal).
CREATE FUNCTION api.pt_state_cut(plan uuid, cut timestamptz) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE created timestamptz;
BEGIN
    SELECT p.created_at INTO created FROM public.plans p WHERE p.id = plan;
    IF cut < created THEN
        -- (a report's journal action says what it did: report, done, verify, reject; a
        -- first report may sign for the task first; 签收/退回 and 协办反馈 are work too)
        SELECT coalesce(min(j.at), 'infinity') INTO cut FROM public.journal j
         WHERE j.plan_id = plan
           AND j.action IN ('report', 'done', 'verify', 'reject', 'sign', 'return', 'co_report');
    END IF;
    RETURN cut;
END $$;

-- Journal entries of a plan that make up its state at cut: per entity its last
-- entry before cut. When cut is before the plan was entered (a 2025 plan entered
-- in 2026, read as of 2025-06-30), the plan as it was set up: every change up to
-- its first progress report (lead units assigned, dates corrected after the
-- import count; reports never do), or up to now while nothing is reported.
-- tasks: only the entries of these tasks (NULL: the plan's), by journal.task_id.
CREATE FUNCTION api.pt_state_entries(plan uuid, ent text, cut timestamptz, tasks uuid[] DEFAULT NULL)
RETURNS TABLE(action text, snapshot jsonb)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    cut := api.pt_state_cut(plan, cut);
    IF tasks IS NOT NULL THEN
        RETURN QUERY SELECT DISTINCT ON (j.entity_id) j.action, j.snapshot FROM public.journal j
          WHERE j.task_id = ANY (tasks) AND j.plan_id = plan AND j.entity = ent AND j.at < cut
          ORDER BY j.entity_id, j.at DESC, j.id DESC;
        RETURN;
    END IF;
    RETURN QUERY SELECT DISTINCT ON (j.entity_id) j.action, j.snapshot FROM public.journal j
      WHERE j.plan_id = plan AND j.entity = ent AND j.at < cut
      ORDER BY j.entity_id, j.at DESC, j.id DESC;
END $$;

-- The plan's live tasks at cut (NULL: now). With root (and no cut), only what
-- evaluating root needs: its ancestors and its subtree. (jit off here and in
-- pt_eval: the recursive CTEs' row estimates are huge, and compiling them
-- took longer than running them.)
CREATE FUNCTION api.pt_tasks_at(plan uuid, cut timestamptz, root uuid DEFAULT NULL) RETURNS SETOF public.tasks
LANGUAGE plpgsql STABLE SET jit = off AS $$
BEGIN
    IF cut IS NULL AND root IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM public.tasks t WHERE t.id = root AND t.child_count > 0) THEN
        -- a leaf (the hot read): its ancestors only
        RETURN QUERY
        WITH RECURSIVE up AS (
            SELECT t.* FROM public.tasks t WHERE t.id = root AND t.plan_id = plan AND t.deleted_at IS NULL
            UNION ALL
            SELECT t.* FROM public.tasks t JOIN up ON t.id = up.parent_id WHERE t.deleted_at IS NULL)
        SELECT * FROM up;
    ELSIF cut IS NULL AND root IS NOT NULL THEN
        RETURN QUERY
        WITH RECURSIVE up AS (
            SELECT t.* FROM public.tasks t WHERE t.id = root AND t.plan_id = plan AND t.deleted_at IS NULL
            UNION ALL
            SELECT t.* FROM public.tasks t JOIN up ON t.id = up.parent_id WHERE t.deleted_at IS NULL),
        down AS (
            SELECT t.* FROM public.tasks t WHERE t.parent_id = root AND t.deleted_at IS NULL
            UNION ALL
            SELECT t.* FROM public.tasks t JOIN down ON t.parent_id = down.id WHERE t.deleted_at IS NULL)
        SELECT * FROM up UNION ALL SELECT * FROM down;
    ELSIF cut IS NULL THEN
        RETURN QUERY SELECT * FROM public.tasks t WHERE t.plan_id = plan AND t.deleted_at IS NULL;
    ELSE
        RETURN QUERY SELECT r.*
          FROM api.pt_state_entries(plan, 'task', cut) e,
               LATERAL jsonb_populate_record(NULL::public.tasks, e.snapshot) r
         WHERE e.action <> 'delete' AND e.snapshot->>'deleted_at' IS NULL;
    END IF;
END $$;

-- Targets and milestones at cut; ids: only those of these tasks (NULL: the plan's).
CREATE FUNCTION api.pt_targets_at(plan uuid, cut timestamptz, ids uuid[] DEFAULT NULL) RETURNS SETOF public.targets
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF cut IS NULL AND ids IS NOT NULL THEN
        RETURN QUERY SELECT g.* FROM public.targets g JOIN unnest(ids) AS i(id) ON g.task_id = i.id;
    ELSIF cut IS NULL THEN
        RETURN QUERY SELECT g.* FROM public.targets g JOIN public.tasks t ON t.id = g.task_id WHERE t.plan_id = plan;
    ELSE
        RETURN QUERY SELECT r.*
          FROM api.pt_state_entries(plan, 'target', cut, ids) e,
               LATERAL jsonb_populate_record(NULL::public.targets, e.snapshot) r
         WHERE e.action <> 'delete';
    END IF;
END $$;

CREATE FUNCTION api.pt_milestones_at(plan uuid, cut timestamptz, ids uuid[] DEFAULT NULL) RETURNS SETOF public.milestones
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF cut IS NULL AND ids IS NOT NULL THEN
        RETURN QUERY SELECT m.* FROM public.milestones m JOIN unnest(ids) AS i(id) ON m.task_id = i.id;
    ELSIF cut IS NULL THEN
        RETURN QUERY SELECT m.* FROM public.milestones m JOIN public.tasks t ON t.id = m.task_id WHERE t.plan_id = plan;
    ELSE
        RETURN QUERY SELECT r.*
          FROM api.pt_state_entries(plan, 'milestone', cut, ids) e,
               LATERAL jsonb_populate_record(NULL::public.milestones, e.snapshot) r
         WHERE e.action <> 'delete';
    END IF;
END $$;

---------------------------------------------------------------------------
-- targets
---------------------------------------------------------------------------

-- Does the target say "by" (下降5%, 提高10个百分点) rather than "to"?
CREATE FUNCTION api.pt_target_by(g public.targets) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(g.label, '') || coalesce(g.text, '') ~ '(下降|减少|降低|压减|压降|提高|提升|增长|增加)'
       AND coalesce(g.label, '') || coalesce(g.text, '') !~ '(下降|减少|降低|压减|压降|提高|提升|增长|增加)(至|到)'
$$;

CREATE FUNCTION api.pt_target_down(g public.targets) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT g.comparator = '<=' OR coalesce(g.label, '') || coalesce(g.text, '') ~ '(下降|减少|降低|压减|压降)'
$$;

-- How far a target is reached, 0..100 (NULL without value; 0 without current).
--  increase (>=, =): current / value; with a baseline b: (current - b) / (level - b)
--  decrease: with a baseline b: (b - current) / (b - level); without one, a "by"
--  target's current is the decrease reached (current / value), a "to" target
--  (控制在, <=) is met when current <= value, else value / current.
--  level = value, or for "by" targets b ± value (value % of b when the unit is %).
CREATE FUNCTION api.pt_target_score(g public.targets) RETURNS float8
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    is_by boolean := api.pt_target_by(g);
    down boolean := api.pt_target_down(g);
    level numeric;
    s numeric;
BEGIN
    IF g.value IS NULL THEN RETURN NULL; END IF;
    IF g.current IS NULL THEN RETURN 0; END IF;
    IF g.baseline IS NOT NULL THEN
        level := CASE WHEN NOT is_by THEN g.value
                      WHEN g.unit = '%' THEN g.baseline * (1 + CASE WHEN down THEN -1 ELSE 1 END * g.value / 100)
                      ELSE g.baseline + CASE WHEN down THEN -1 ELSE 1 END * g.value END;
        IF level = g.baseline THEN RETURN CASE WHEN (down AND g.current <= level) OR (NOT down AND g.current >= level)
                                               THEN 100 ELSE 0 END; END IF;
        s := 100 * (g.current - g.baseline) / (level - g.baseline);
    ELSIF down AND NOT is_by THEN
        s := CASE WHEN g.current <= g.value THEN 100 WHEN g.current = 0 THEN 100 ELSE 100 * g.value / g.current END;
    ELSIF g.value = 0 THEN
        s := CASE WHEN g.current >= 0 THEN 100 ELSE 0 END;
    ELSE
        s := 100 * g.current / g.value;
    END IF;
    RETURN greatest(0, least(100, s))::float8;
END $$;

---------------------------------------------------------------------------
-- evaluation
---------------------------------------------------------------------------

-- One task as evaluated: its row (as of the day), place in the tree and what
-- issue 10 computes for it.
CREATE TYPE api.pt_ev AS (
    t               public.tasks,
    depth           int,
    path            bigint[],
    eff_due         date,
    due_source      text,        -- own | parent | plan
    start_on        date,        -- own start, else the plan's year start
    tg_n            int,         -- targets with a value
    tg_reported     int,         -- ... of which with a current value
    tg_score        float8,      -- their mean score (0..100)
    ms_n            int,
    ms_done         int,
    expected        float8,      -- 序时进度 0..100
    progress        int,
    progress_source text,        -- reported | targets | milestones | children
    own_light       text,
    light           text,        -- worst of own and live children's
    light_counts    jsonb,       -- lights of every live descendant
    late            boolean      -- overdue, or finished after its effective due
);

CREATE FUNCTION api.pt_light_rank(l text) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE l WHEN 'red' THEN 2 WHEN 'yellow' THEN 1 ELSE 0 END
$$;

-- 序时进度: the share (0..100) of [start, due] (calendar days, both included)
-- elapsed at the end of day d. In working days: api.pt_expected_workdays
-- (sql/api/90_calendar.sql), used by pt_eval when cfg.working_days.
CREATE FUNCTION api.pt_expected(start date, due date, d date) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$
    -- SQL (inlined where it is called): a plpgsql call per task was a part of pt_eval's cost
    SELECT CASE WHEN d < start THEN 0::float8 WHEN d >= due THEN 100::float8
                ELSE (100.0 * (d - start + 1) / (due - start + 1))::float8 END
$$;

-- One node, given the aggregates of its live children (agg: {w, wp, n, worst,
-- counts} or NULL) and the day d. See docs/sql-api.md "Progress and lights".
-- A set-returning SQL function so that pt_eval's level query inlines it (one
-- row in, one row out) instead of calling plpgsql once per task (pt_eval: 35
-- to 28 ms of CPU for 2,000 tasks).
CREATE FUNCTION api.pt_eval_rows(e api.pt_ev, agg jsonb, d date, cfg jsonb, tz text, expected float8)
RETURNS SETOF api.pt_ev
LANGUAGE sql STABLE AS $$
    -- (OFFSET 0: each step computed once per row, not copied into the next one's expressions)
    SELECT (e).t, (e).depth, (e).path, (e).eff_due, (e).due_source, (e).start_on, (e).tg_n, (e).tg_reported,
           (e).tg_score, (e).ms_n, (e).ms_done, b.xp, round(b.p)::int, b.src, b.own_light,
           CASE WHEN b.st IN ('done', 'verified', 'cancelled') THEN b.st
                WHEN greatest(api.pt_light_rank(b.own_light), b.worst) = 2 THEN 'red'
                WHEN greatest(api.pt_light_rank(b.own_light), b.worst) = 1 THEN 'yellow'
                ELSE 'green' END,
           coalesce(agg->'counts', '{"red":0,"yellow":0,"green":0,"done":0,"verified":0,"cancelled":0}'::jsonb),
           CASE WHEN b.finished THEN (coalesce(b.closed_at AT TIME ZONE tz, d::timestamp))::date > b.eff_due
                WHEN b.st = 'cancelled' THEN false
                ELSE d > b.eff_due END
      FROM (
        SELECT q.*,
               -- lights
               CASE WHEN q.st IN ('done', 'verified', 'cancelled') THEN q.st
                    WHEN d > q.eff_due THEN 'red'
                    WHEN (cfg->>'red_lag_points')::float8 IS NOT NULL
                         AND q.xp - q.p > (cfg->>'red_lag_points')::float8 THEN 'red'
                    WHEN q.eff_due - d <= coalesce((cfg->>'due_soon_days')::int, 7)
                         AND q.p < coalesce((cfg->>'due_soon_progress')::int, 80) THEN 'yellow'
                    WHEN q.xp - q.p > coalesce((cfg->>'lag_points')::float8, 20) THEN 'yellow'
                    ELSE 'green' END AS own_light
          FROM (
            SELECT a.*,
                   (CASE WHEN a.finished THEN 100::float8 ELSE CASE a.src
                       WHEN 'targets' THEN coalesce(a.tg_score, 0)
                       WHEN 'milestones' THEN CASE WHEN a.ms_n > 0 THEN (100.0 * a.ms_done / a.ms_n)::float8 ELSE 0 END
                       WHEN 'children' THEN CASE WHEN a.kids AND (agg->>'w')::float8 > 0
                                                 THEN (agg->>'wp')::float8 / (agg->>'w')::float8 ELSE a.progress END
                       ELSE a.progress END END)::float8 AS p
              FROM (
                SELECT s.*,
                       -- progress and its source
                       CASE WHEN s.finished THEN 'reported'
                            WHEN s.progress_source IS NOT NULL THEN s.progress_source
                            WHEN s.own_progress_reported THEN 'reported'
                            WHEN s.tg_reported > 0 THEN 'targets'
                            WHEN s.ms_n > 0 THEN 'milestones'
                            WHEN s.kids THEN 'children'
                            ELSE 'reported' END AS src
                  FROM (
                    SELECT ((e).t).status AS st, ((e).t).status IN ('done', 'verified') AS finished,
                           ((e).t).progress_source, ((e).t).own_progress_reported, ((e).t).progress,
                           ((e).t).closed_at, (e).eff_due, (e).tg_reported, (e).tg_score, (e).ms_n, (e).ms_done,
                           coalesce((agg->>'n')::int, 0) > 0 AS kids, coalesce((agg->>'worst')::int, 0) AS worst,
                           coalesce(expected, api.pt_expected((e).start_on, (e).eff_due, d)) AS xp
                    OFFSET 0) s
                OFFSET 0) a
            OFFSET 0) q
        OFFSET 0) b
$$;

-- (a generic plan: a custom plan per call planned the inlined expressions every time)
-- The same for one node in plpgsql (pt_leaf_ev: one task per call, where a
-- query's executor start cost more than these assignments). pt_eval_rows and
-- pt_eval_node must agree: tests/sql/smoke.sql compares pt_leaf_ev with
-- pt_eval_docs on every leaf.
CREATE FUNCTION api.pt_eval_node(e api.pt_ev, agg jsonb, d date, cfg jsonb, tz text, expected float8 DEFAULT NULL)
RETURNS api.pt_ev
LANGUAGE plpgsql STABLE AS $$
DECLARE
    st text := (e.t).status;
    src text := (e.t).progress_source;
    kids boolean := coalesce((agg->>'n')::int, 0) > 0;
    p float8;
    lag float8 := coalesce((cfg->>'lag_points')::float8, 20);
    redlag float8 := (cfg->>'red_lag_points')::float8;
    behind float8;
    worst int := coalesce((agg->>'worst')::int, 0);
    finished boolean := st IN ('done', 'verified');
BEGIN
    e.expected := coalesce(expected, api.pt_expected(e.start_on, e.eff_due, d));
    -- progress and its source
    IF finished THEN
        p := 100; src := 'reported';
    ELSIF src IS NULL THEN
        src := CASE WHEN (e.t).own_progress_reported THEN 'reported'
                    WHEN e.tg_reported > 0 THEN 'targets'
                    WHEN e.ms_n > 0 THEN 'milestones'
                    WHEN kids THEN 'children'
                    ELSE 'reported' END;
    END IF;
    IF NOT finished THEN
        p := CASE src
               WHEN 'targets' THEN coalesce(e.tg_score, 0)
               WHEN 'milestones' THEN CASE WHEN e.ms_n > 0 THEN 100.0 * e.ms_done / e.ms_n ELSE 0 END
               WHEN 'children' THEN CASE WHEN kids AND (agg->>'w')::float8 > 0
                                         THEN (agg->>'wp')::float8 / (agg->>'w')::float8 ELSE (e.t).progress END
               ELSE (e.t).progress END;
    END IF;
    e.progress := round(p)::int;
    e.progress_source := src;
    -- lights
    behind := e.expected - p;
    e.own_light := CASE
        WHEN st IN ('done', 'verified', 'cancelled') THEN st
        WHEN d > e.eff_due THEN 'red'
        WHEN redlag IS NOT NULL AND behind > redlag THEN 'red'
        WHEN e.eff_due - d <= coalesce((cfg->>'due_soon_days')::int, 7)
             AND p < coalesce((cfg->>'due_soon_progress')::int, 80) THEN 'yellow'
        WHEN behind > lag THEN 'yellow'
        ELSE 'green' END;
    e.light := CASE WHEN st IN ('done', 'verified', 'cancelled') THEN st
                    WHEN greatest(api.pt_light_rank(e.own_light), worst) = 2 THEN 'red'
                    WHEN greatest(api.pt_light_rank(e.own_light), worst) = 1 THEN 'yellow'
                    ELSE 'green' END;
    e.light_counts := coalesce(agg->'counts',
        '{"red":0,"yellow":0,"green":0,"done":0,"verified":0,"cancelled":0}'::jsonb);
    e.late := CASE WHEN finished THEN (coalesce((e.t).closed_at AT TIME ZONE tz, d::timestamp))::date > e.eff_due
                   WHEN st = 'cancelled' THEN false
                   ELSE d > e.eff_due END;
    RETURN e;
END $$;

-- Every live task of the plan (or only root and its subtree) as of cfg.as_of
-- (else now, lights measured on today), leaves first. Effective due dates
-- always come from the whole tree.
CREATE FUNCTION api.pt_eval(plan uuid, cfg jsonb, root uuid DEFAULT NULL) RETURNS SETOF api.pt_ev
LANGUAGE plpgsql STABLE SET jit = off AS $$
DECLARE
    p public.plans;
    cut timestamptz := api.pt_cutoff(cfg);
    d date := api.pt_today(cfg);
    tz text := api.pt_tz(cfg);
    yr int;
    evs api.pt_ev[];
    lvl api.pt_ev[];
    agg jsonb := '{}';
    maxd int;
    mind int;
    wd jsonb;
BEGIN
    SELECT * INTO p FROM public.plans WHERE id = plan;
    yr := coalesce(p.year, extract(year FROM p.created_at AT TIME ZONE tz)::int);
    IF cut IS NOT NULL THEN cut := api.pt_state_cut(plan, cut); END IF;
    -- (the tree is walked on ids; the rows join it at the end: carrying them
    -- through the recursion copied each into the join's hash table)
    WITH RECURSIVE s AS MATERIALIZED (SELECT x AS r, x.id, x.parent_id, x.ord, x.due_date
                                        FROM api.pt_tasks_at(plan, cut, root) x),
    tr AS (
        SELECT x.id, 0 AS depth, ARRAY[x.ord] AS path, coalesce(x.due_date, make_date(yr, 12, 31)) AS eff_due,
               CASE WHEN x.due_date IS NOT NULL THEN 'own' ELSE 'plan' END AS due_source
          FROM s x WHERE x.parent_id IS NULL
        UNION ALL
        SELECT c.id, tr.depth + 1, tr.path || c.ord, coalesce(c.due_date, tr.eff_due),
               CASE WHEN c.due_date IS NOT NULL THEN 'own' WHEN tr.due_source = 'plan' THEN 'plan' ELSE 'parent' END
          FROM s c JOIN tr ON c.parent_id = tr.id WHERE tr.depth < 32),
    sel AS (
        SELECT x.r AS t, tr.id, tr.depth, tr.path, tr.eff_due, tr.due_source FROM tr JOIN s x ON x.id = tr.id
         WHERE root IS NULL OR tr.path @> ARRAY[(SELECT x.ord FROM s x WHERE x.id = root)]),
    ids AS (SELECT CASE WHEN root IS NOT NULL THEN array_agg(sel.id) END AS a FROM sel),
    tg AS (
        SELECT g.task_id, count(*)::int AS n, count(*) FILTER (WHERE g.current IS NOT NULL)::int AS reported,
               avg(api.pt_target_score(g)) AS score
          FROM ids, api.pt_targets_at(plan, cut, ids.a) g WHERE g.value IS NOT NULL GROUP BY g.task_id),
    ms AS (
        SELECT m.task_id, count(*)::int AS n,
               count(*) FILTER (WHERE m.done_at IS NOT NULL AND (m.done_at AT TIME ZONE tz)::date <= d)::int AS done
          FROM ids, api.pt_milestones_at(plan, cut, ids.a) m GROUP BY m.task_id)
    SELECT array_agg(ROW(sel.t, sel.depth, sel.path, sel.eff_due, sel.due_source,
                         coalesce((sel.t).start_date, make_date(yr, 1, 1)),
                         coalesce(tg.n, 0), coalesce(tg.reported, 0), tg.score, coalesce(ms.n, 0), coalesce(ms.done, 0),
                         NULL, NULL, NULL, NULL, NULL, NULL, NULL)::api.pt_ev),
           max(sel.depth), min(sel.depth)
      INTO evs, maxd, mind
      FROM sel LEFT JOIN tg ON tg.task_id = sel.id LEFT JOIN ms ON ms.task_id = sel.id;
    IF evs IS NULL THEN RETURN; END IF;
    IF coalesce((cfg->>'working_days')::boolean, false) THEN
        -- working-day 序时进度, once per distinct (start, due)
        SELECT jsonb_object_agg(x.k, api.pt_expected_workdays(x.s, x.e, d)) INTO wd
          FROM (SELECT DISTINCT u.start_on || '/' || u.eff_due AS k, u.start_on AS s, u.eff_due AS e
                  FROM unnest(evs) u) x;
    END IF;
    FOR lv IN REVERSE maxd..mind LOOP
        lvl := ARRAY(SELECT r FROM unnest(evs) e,
                            LATERAL api.pt_eval_rows(e, agg->((e.t).id::text), d, cfg, tz,
                                                     (wd->>(e.start_on || '/' || e.eff_due))::float8) r
                      WHERE e.depth = lv);
        RETURN QUERY SELECT * FROM unnest(lvl);
        SELECT coalesce(jsonb_object_agg(k.parent_id, jsonb_build_object(
                   'n', k.n, 'w', k.w, 'wp', k.wp, 'worst', k.worst,
                   'counts', jsonb_build_object('red', k.red, 'yellow', k.yellow, 'green', k.green, 'done', k.done,
                                                'verified', k.verified, 'cancelled', k.cancelled))), '{}')
          INTO agg
          FROM (SELECT x.parent_id,
                       count(*) FILTER (WHERE x.status <> 'cancelled') AS n,
                       sum(coalesce(x.weight, 1)::float8) FILTER (WHERE x.status <> 'cancelled') AS w,
                       sum(coalesce(x.weight, 1)::float8 * x.progress) FILTER (WHERE x.status <> 'cancelled') AS wp,
                       coalesce(max(api.pt_light_rank(x.light)) FILTER (WHERE x.status <> 'cancelled'), 0) AS worst,
                       sum((x.light_counts->>'red')::int + (x.light = 'red')::int) AS red,
                       sum((x.light_counts->>'yellow')::int + (x.light = 'yellow')::int) AS yellow,
                       sum((x.light_counts->>'green')::int + (x.light = 'green')::int) AS green,
                       sum((x.light_counts->>'done')::int + (x.light = 'done')::int) AS done,
                       sum((x.light_counts->>'verified')::int + (x.light = 'verified')::int) AS verified,
                       sum((x.light_counts->>'cancelled')::int + (x.light = 'cancelled')::int) AS cancelled
                  -- (the row's fields taken out once: each (x.t).field reads the whole row again)
                  FROM (SELECT (y.t).parent_id, (y.t).status, (y.t).weight, y.progress, y.light, y.light_counts
                          FROM unnest(lvl) y OFFSET 0) x
                 WHERE x.parent_id IS NOT NULL GROUP BY x.parent_id) k;
    END LOOP;
END $$;

-- A task's accountability keys (docs/workflow.md): original due date, 交办,
-- 签收, 退回 and who reported it done. Both task JSON builders add them.
CREATE FUNCTION api.pt_acct_doc(t public.tasks) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'original_due_date', t.original_due_date, 'assigned_at', api.pt_ts(t.assigned_at),
        'signed_at', api.pt_ts(t.signed_at), 'signed_by', t.signed_by,
        'returned', CASE WHEN t.returned_at IS NOT NULL THEN jsonb_build_object(
                        'at', api.pt_ts(t.returned_at), 'by', t.returned_by,
                        'unit', api.pt_unit_name(t.returned_unit_id), 'reason', t.return_reason) END,
        'done_by', t.done_by)
$$;

-- The task JSON (docs/sql-api.md "Shapes") of evaluated tasks, with their
-- targets and milestones as of the same moment.
CREATE FUNCTION api.pt_eval_docs(plan uuid, cfg jsonb, root uuid DEFAULT NULL)
RETURNS TABLE(ev api.pt_ev, doc jsonb)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- plpgsql, not sql: its plan is cached for the session (a SQL function is planned on every call)
    RETURN QUERY
    WITH e AS MATERIALIZED (SELECT x FROM api.pt_eval(pt_eval_docs.plan, pt_eval_docs.cfg, pt_eval_docs.root) x),
    ids AS (SELECT CASE WHEN root IS NOT NULL THEN array_agg((e.x).t.id) END AS a FROM e),
    g AS (SELECT g.task_id, jsonb_agg(jsonb_build_object('id', g.id, 'label', g.label, 'value', g.value,
                   'unit', g.unit, 'comparator', g.comparator, 'current', g.current, 'baseline', g.baseline,
                   'text', g.text, 'verb', g.verb, 'strive', coalesce(g.strive, false)) ORDER BY g.ord, g.id) AS list
            FROM ids, api.pt_targets_at(plan, api.pt_cutoff(cfg), ids.a) g GROUP BY g.task_id),
    m AS (SELECT m.task_id, jsonb_agg(jsonb_build_object('id', m.id, 'title', m.title,
                   'due_date', m.due_date, 'done_at', api.pt_ts(m.done_at), 'target', m.target) ORDER BY m.ord, m.id) AS list
            FROM ids, api.pt_milestones_at(plan, api.pt_cutoff(cfg), ids.a) m GROUP BY m.task_id)
    -- the same shape as api.pt_ev_doc, written out: a SQL function per row is not
    -- inlined here and made a 10 000-task plan ten times slower (smoke.sql compares them)
    SELECT e.x, jsonb_build_object(
        'id', (e.x).t.id, 'plan_id', (e.x).t.plan_id, 'parent_id', (e.x).t.parent_id, 'code', (e.x).t.code,
        'seq', (e.x).t.seq, 'title', (e.x).t.title, 'body', (e.x).t.body, 'status', (e.x).t.status,
        'progress', (e.x).progress, 'progress_source', (e.x).progress_source,
        'expected_progress', round((e.x).expected::numeric, 1), 'weight', (e.x).t.weight,
        'light', (e.x).light, 'own_light', (e.x).own_light, 'light_counts', (e.x).light_counts, 'late', (e.x).late,
        -- a sub-query, not api.pt_unit_name(): a SQL function with a FROM is not inlined,
        -- and its call per row was a good part of a 10 000-row import's answer
        'lead_unit', (SELECT u.name FROM public.units u WHERE u.id = (e.x).t.lead_unit_id),
        'co_units', CASE WHEN cardinality((e.x).t.co_unit_ids) = 0 THEN '[]'::jsonb ELSE
                    (SELECT coalesce(jsonb_agg(u.name ORDER BY c.n), '[]')
                       FROM unnest((e.x).t.co_unit_ids) WITH ORDINALITY AS c(id, n) JOIN public.units u ON u.id = c.id) END,
        'owner', (e.x).t.owner, 'leader', (e.x).t.leader,
        'start_date', (e.x).t.start_date, 'due_date', (e.x).t.due_date,
        'effective_due', (e.x).eff_due, 'due_source', (e.x).due_source,
        'cadence', (e.x).t.cadence, 'tags', to_jsonb((e.x).t.tags),
        'targets', coalesce(g.list, '[]'), 'milestones', coalesce(m.list, '[]'),
        'facts', coalesce((e.x).t.facts, '[]'), 'note', (e.x).t.note, 'due_date_source', (e.x).t.due_source,
        'version', (e.x).t.version, 'created_at', api.pt_ts((e.x).t.created_at),
        'updated_at', api.pt_ts((e.x).t.updated_at), 'closed_at', api.pt_ts((e.x).t.closed_at))
        || api.pt_acct_doc((e.x).t)
      FROM e LEFT JOIN g ON g.task_id = (e.x).t.id LEFT JOIN m ON m.task_id = (e.x).t.id;
END $$;

---------------------------------------------------------------------------
-- the hot path: one live leaf
---------------------------------------------------------------------------

-- A live leaf task (no live children) evaluated on cfg's day without as_of:
-- the same rules as pt_eval (pt_eval_node), but only its ancestors' due dates
-- and its own targets and milestones are read, by primary key. pt_task_get,
-- pt_task_json and pt_task_eval use it for leaves; tests/sql/smoke.sql checks
-- that it agrees with pt_eval_docs on every leaf.
CREATE FUNCTION api.pt_leaf_ev(t public.tasks, cfg jsonb) RETURNS api.pt_ev
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d date := api.pt_today(cfg);
    tz text := api.pt_tz(cfg);
    yr int;
    pid uuid := t.parent_id;
    nxt uuid;
    pdue date;
    pord bigint;
    path bigint[] := ARRAY[t.ord];
    due date := t.due_date;
    src text := CASE WHEN t.due_date IS NOT NULL THEN 'own' END;
    start date;
    tg record;
    ms record;
    wd float8;
BEGIN
    SELECT coalesce(p.year, extract(year FROM p.created_at AT TIME ZONE tz)::int) INTO yr
      FROM public.plans p WHERE p.id = t.plan_id;
    -- up the tree: the nearest ancestor's due date, and the document path
    WHILE pid IS NOT NULL AND cardinality(path) <= 32 LOOP
        SELECT a.parent_id, a.due_date, a.ord INTO nxt, pdue, pord FROM public.tasks a WHERE a.id = pid;
        EXIT WHEN NOT FOUND;
        path := pord || path;
        IF due IS NULL AND pdue IS NOT NULL THEN
            due := pdue;
            src := 'parent';
        END IF;
        pid := nxt;
    END LOOP;
    due := coalesce(due, make_date(yr, 12, 31));
    start := coalesce(t.start_date, make_date(yr, 1, 1));
    SELECT count(*)::int AS n, count(*) FILTER (WHERE g.current IS NOT NULL)::int AS reported,
           avg(api.pt_target_score(g)) AS score INTO tg
      FROM public.targets g WHERE g.task_id = t.id AND g.value IS NOT NULL;
    SELECT count(*)::int AS n,
           count(*) FILTER (WHERE m.done_at IS NOT NULL AND (m.done_at AT TIME ZONE tz)::date <= d)::int AS done INTO ms
      FROM public.milestones m WHERE m.task_id = t.id;
    IF coalesce((cfg->>'working_days')::boolean, false) THEN
        wd := api.pt_expected_workdays(start, due, d);
    END IF;
    RETURN api.pt_eval_node(ROW(t, cardinality(path) - 1, path, due, coalesce(src, 'plan'), start,
                                tg.n, tg.reported, tg.score, ms.n, ms.done,
                                NULL, NULL, NULL, NULL, NULL, NULL, NULL)::api.pt_ev,
                            NULL, d, cfg, tz, wd);
END $$;

-- The same leaf after a write that changed only its row's status, progress,
-- own_progress_reported, closed_at (and bookkeeping) and, when targets_changed,
-- its targets' current values: a progress report. e is pt_leaf_ev of the row
-- before; what a report cannot change (the ancestors' dues, the path, start,
-- milestones, 序时进度) is taken from it, the targets' score is read again only
-- when they changed, and only pt_eval_node runs again. tests/sql/smoke.sql
-- checks it against pt_leaf_ev.
CREATE FUNCTION api.pt_leaf_ev_after(e api.pt_ev, t public.tasks, targets_changed boolean, cfg jsonb)
RETURNS api.pt_ev
LANGUAGE plpgsql STABLE AS $$
BEGIN
    e.t := t;
    IF targets_changed THEN
        SELECT count(*) FILTER (WHERE g.current IS NOT NULL)::int, avg(api.pt_target_score(g))
          INTO e.tg_reported, e.tg_score
          FROM public.targets g WHERE g.task_id = t.id AND g.value IS NOT NULL;
    END IF;
    RETURN api.pt_eval_node(e, NULL, api.pt_today(cfg), cfg, api.pt_tz(cfg), e.expected);
END $$;

-- Live leaves (ids: tasks without live children) evaluated on cfg's day without
-- as_of, in one query: pt_leaf_ev's rules for many tasks at once (the nearest
-- ancestor's due date and the path, own targets and milestones), the nodes by
-- pt_eval_rows. pt_tasks_list renders a page of leaves with it (a plpgsql
-- call per leaf cost 0.1 ms of CPU).
CREATE FUNCTION api.pt_leaves_ev(ids uuid[], cfg jsonb) RETURNS SETOF api.pt_ev
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    d date := api.pt_today(cfg);
    tz text := api.pt_tz(cfg);
    wdays boolean := coalesce((cfg->>'working_days')::boolean, false);
BEGIN
    RETURN QUERY
    WITH RECURSIVE l AS (
        SELECT t AS t, coalesce(p.year, extract(year FROM p.created_at AT TIME ZONE tz)::int) AS yr
          FROM public.tasks t JOIN public.plans p ON p.id = t.plan_id
         WHERE t.id = ANY (ids)),
    -- up the tree: the nearest ancestor's due date, and the document path
    up AS (
        SELECT (l.t).id AS leaf, (l.t).parent_id AS pid, ARRAY[(l.t).ord] AS path, (l.t).due_date AS due,
               CASE WHEN (l.t).due_date IS NOT NULL THEN 'own' END AS src
          FROM l
        UNION ALL
        SELECT up.leaf, a.parent_id, a.ord || up.path, coalesce(up.due, a.due_date),
               CASE WHEN up.due IS NULL AND a.due_date IS NOT NULL THEN 'parent' ELSE up.src END
          FROM up JOIN public.tasks a ON a.id = up.pid
         WHERE up.pid IS NOT NULL AND cardinality(up.path) <= 32),
    top AS (SELECT DISTINCT ON (up.leaf) up.* FROM up ORDER BY up.leaf, cardinality(up.path) DESC),
    tg AS (
        SELECT g.task_id, count(*)::int AS n, count(*) FILTER (WHERE g.current IS NOT NULL)::int AS reported,
               avg(api.pt_target_score(g)) AS score
          FROM public.targets g WHERE g.task_id = ANY (ids) AND g.value IS NOT NULL GROUP BY g.task_id),
    ms AS (
        SELECT m.task_id, count(*)::int AS n,
               count(*) FILTER (WHERE m.done_at IS NOT NULL AND (m.done_at AT TIME ZONE tz)::date <= d)::int AS done
          FROM public.milestones m WHERE m.task_id = ANY (ids) GROUP BY m.task_id),
    e AS (
        SELECT ROW(l.t, cardinality(top.path) - 1, top.path, coalesce(top.due, make_date(l.yr, 12, 31)),
                   coalesce(top.src, 'plan'), coalesce((l.t).start_date, make_date(l.yr, 1, 1)),
                   coalesce(tg.n, 0), coalesce(tg.reported, 0), tg.score, coalesce(ms.n, 0), coalesce(ms.done, 0),
                   NULL, NULL, NULL, NULL, NULL, NULL, NULL)::api.pt_ev AS e
          FROM l JOIN top ON top.leaf = (l.t).id
          LEFT JOIN tg ON tg.task_id = (l.t).id LEFT JOIN ms ON ms.task_id = (l.t).id)
    SELECT r.* FROM e, LATERAL api.pt_eval_rows(e.e, NULL, d, cfg, tz,
        CASE WHEN wdays THEN api.pt_expected_workdays((e.e).start_on, (e.e).eff_due, d) END) r;
END $$;

-- The task JSON of an evaluated task, given its targets and milestones as JSON
-- arrays (docs/sql-api.md "Shapes"; pt_eval_docs writes the same out for many,
-- and tests/sql/smoke.sql checks that both agree).
CREATE FUNCTION api.pt_ev_doc(x api.pt_ev, targets jsonb, milestones jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- plpgsql: its statement's plan is cached; a non-inlined SQL function is planned per call
    RETURN jsonb_build_object(
        'id', (x.t).id, 'plan_id', (x.t).plan_id, 'parent_id', (x.t).parent_id, 'code', (x.t).code,
        'seq', (x.t).seq, 'title', (x.t).title, 'body', (x.t).body, 'status', (x.t).status,
        'progress', x.progress, 'progress_source', x.progress_source,
        'expected_progress', round(x.expected::numeric, 1), 'weight', (x.t).weight,
        'light', x.light, 'own_light', x.own_light, 'light_counts', x.light_counts, 'late', x.late,
        'lead_unit', (SELECT u.name FROM public.units u WHERE u.id = (x.t).lead_unit_id),
        'co_units', CASE WHEN cardinality((x.t).co_unit_ids) = 0 THEN '[]'::jsonb ELSE
                    (SELECT coalesce(jsonb_agg(u.name ORDER BY c.n), '[]')
                       FROM unnest((x.t).co_unit_ids) WITH ORDINALITY AS c(id, n) JOIN public.units u ON u.id = c.id) END,
        'owner', (x.t).owner, 'leader', (x.t).leader,
        'start_date', (x.t).start_date, 'due_date', (x.t).due_date,
        'effective_due', x.eff_due, 'due_source', x.due_source,
        'cadence', (x.t).cadence, 'tags', to_jsonb((x.t).tags),
        'targets', coalesce(targets, '[]'), 'milestones', coalesce(milestones, '[]'),
        'facts', coalesce((x.t).facts, '[]'), 'note', (x.t).note, 'due_date_source', (x.t).due_source,
        'version', (x.t).version, 'created_at', api.pt_ts((x.t).created_at),
        'updated_at', api.pt_ts((x.t).updated_at), 'closed_at', api.pt_ts((x.t).closed_at))
        || api.pt_acct_doc(x.t);
END $$;

-- The JSON of an evaluated live leaf (its targets and milestones read now).
CREATE FUNCTION api.pt_leaf_ev_doc(e api.pt_ev) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE tg jsonb; ms jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object('id', g.id, 'label', g.label, 'value', g.value,
               'unit', g.unit, 'comparator', g.comparator, 'current', g.current, 'baseline', g.baseline,
               'text', g.text, 'verb', g.verb, 'strive', coalesce(g.strive, false)) ORDER BY g.ord, g.id) INTO tg
      FROM public.targets g WHERE g.task_id = (e.t).id;
    SELECT jsonb_agg(jsonb_build_object('id', m.id, 'title', m.title,
               'due_date', m.due_date, 'done_at', api.pt_ts(m.done_at), 'target', m.target) ORDER BY m.ord, m.id) INTO ms
      FROM public.milestones m WHERE m.task_id = (e.t).id;
    RETURN api.pt_ev_doc(e, tg, ms);
END $$;

-- A live leaf's JSON (targets and milestones read now).
CREATE FUNCTION api.pt_leaf_doc(t public.tasks, cfg jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT api.pt_leaf_ev_doc(api.pt_leaf_ev(t, cfg))
$$;
