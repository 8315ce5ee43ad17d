-- sql/api/10_render.sql - child counts, progress, lights, the task_docs view and the JSON shapes.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

---------------------------------------------------------------------------
-- child counts: lets the hot paths know a leaf without a query
---------------------------------------------------------------------------

-- Keeps tasks.child_count = number of live children when tasks are deleted,
-- soft-deleted, restored or moved. Inserts are counted by pt_tasks_insert, once
-- per parent (a per-row trigger would update a big import's parent 10 000 times).
CREATE FUNCTION api.pt_tasks_child_count() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.parent_id IS NOT NULL AND OLD.deleted_at IS NULL THEN
        IF TG_OP = 'DELETE' OR NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.deleted_at IS NOT NULL THEN
            UPDATE public.tasks SET child_count = child_count - 1 WHERE id = OLD.parent_id;
        END IF;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.parent_id IS NOT NULL AND NEW.deleted_at IS NULL THEN
        IF NEW.parent_id IS DISTINCT FROM OLD.parent_id OR OLD.deleted_at IS NOT NULL THEN
            UPDATE public.tasks SET child_count = child_count + 1 WHERE id = NEW.parent_id;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_child_count AFTER DELETE OR UPDATE OF parent_id, deleted_at ON public.tasks
    FOR EACH ROW EXECUTE FUNCTION api.pt_tasks_child_count();

---------------------------------------------------------------------------
-- progress, lights, rendering
---------------------------------------------------------------------------

-- Effective progress: own when reported (or no children), else the rounded
-- average of the children's effective progress, recursively.
-- own: the task has its own report or no children (then no query runs).
CREATE FUNCTION api.pt_eff_progress(tid uuid, own boolean, progress int) RETURNS int
LANGUAGE plpgsql STABLE AS $$
DECLARE avgp numeric;
BEGIN
    IF own THEN RETURN progress; END IF;
    SELECT avg(api.pt_eff_progress(c.id, c.own_progress_reported OR c.child_count = 0, c.progress)) INTO avgp
      FROM public.tasks c WHERE c.parent_id = tid AND c.deleted_at IS NULL;
    RETURN coalesce(round(avgp)::int, progress);
END $$;

CREATE FUNCTION api.pt_transition_ok(s_from text, s_to text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT s_from = s_to OR (s_from, s_to) IN (
        ('planned', 'in_progress'), ('planned', 'blocked'), ('planned', 'done'), ('planned', 'cancelled'),
        ('in_progress', 'blocked'), ('in_progress', 'done'), ('in_progress', 'cancelled'),
        ('blocked', 'in_progress'), ('blocked', 'done'), ('blocked', 'cancelled'),
        ('done', 'verified'), ('done', 'in_progress'))
$$;

-- The light of a task with effective progress `progress`; start: the task's
-- start (already defaulted). plpgsql, so its expression is planned once per
-- session wherever it is called from (a SQL function whose arguments come
-- from a sub-select is not inlined, and is then planned on every call).
CREATE FUNCTION api.pt_light(status text, progress int, start date, due date, cfg jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE today date := api.pt_today(cfg);
BEGIN
    RETURN CASE
        WHEN status IN ('done', 'verified', 'cancelled') THEN status
        WHEN due IS NULL THEN 'green'
        WHEN today > due THEN 'red'
        WHEN due - today <= coalesce((cfg->>'due_soon_days')::int, 7)
             AND progress < coalesce((cfg->>'due_soon_progress')::int, 80) THEN 'yellow'
        WHEN start IS NOT NULL AND due > start AND today > start
             AND 100.0 * (today - start) / (due - start) - progress
                 > coalesce((cfg->>'lag_points')::int, 20) THEN 'yellow'
        ELSE 'green' END;
END $$;

-- progress and light of a task row, in one go (lists, summary).
CREATE FUNCTION api.pt_task_state(t public.tasks, cfg jsonb, OUT progress int, OUT light text)
LANGUAGE plpgsql STABLE AS $$
DECLARE start date;
BEGIN
    progress := api.pt_eff_progress(t.id, t.own_progress_reported OR t.child_count = 0, t.progress);
    start := t.start_date;
    IF start IS NULL AND t.due_date IS NOT NULL AND t.status NOT IN ('done', 'verified', 'cancelled') THEN
        SELECT make_date(p.year, 1, 1) INTO start FROM public.plans p WHERE p.id = t.plan_id AND p.year IS NOT NULL;
        start := coalesce(start, (t.created_at AT TIME ZONE 'UTC')::date);
    END IF;
    light := api.pt_light(t.status, progress, start, t.due_date, cfg);
END $$;

CREATE FUNCTION api.pt_task_light(t public.tasks, cfg jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT (api.pt_task_state(t, cfg)).light
$$;

-- The task shape of docs/sql-api.md without its light (the light depends on the
-- caller's thresholds), with the effective progress and the date the light
-- measures elapsed time from. GET /v1/tasks/{id} reads it in one prepared
-- statement (the view inlines there) and adds the light; pt_task_json reads
-- it for everything else.
CREATE VIEW api.task_docs AS
SELECT t.id, t.deleted_at, t.status, t.due_date, t.version, e.progress, e.start,
       jsonb_build_object(
        'id', t.id, 'plan_id', t.plan_id, 'parent_id', t.parent_id, 'code', t.code, 'seq', t.seq,
        'title', t.title, 'body', t.body, 'status', t.status, 'progress', e.progress,
        'lead_unit', (SELECT u.name FROM public.units u WHERE u.id = t.lead_unit_id),
        'co_units', (SELECT coalesce(jsonb_agg(u.name ORDER BY x.n), '[]')
                       FROM unnest(t.co_unit_ids) WITH ORDINALITY AS x(id, n) JOIN public.units u ON u.id = x.id),
        'owner', t.owner, 'leader', t.leader,
        'start_date', t.start_date, 'due_date', t.due_date, 'cadence', t.cadence, 'tags', to_jsonb(t.tags),
        'targets', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', g.id, 'label', g.label, 'value', g.value,
                        'unit', g.unit, 'comparator', g.comparator, 'current', g.current, 'text', g.text)
                        ORDER BY g.ord, g.id), '[]')
                      FROM public.targets g WHERE g.task_id = t.id),
        'milestones', (SELECT coalesce(jsonb_agg(jsonb_build_object('id', m.id, 'title', m.title,
                           'due_date', m.due_date, 'done_at', api.pt_ts(m.done_at)) ORDER BY m.ord, m.id), '[]')
                         FROM public.milestones m WHERE m.task_id = t.id),
        'version', t.version,
        'created_at', api.pt_ts(t.created_at), 'updated_at', api.pt_ts(t.updated_at),
        'closed_at', api.pt_ts(t.closed_at)) AS doc
  FROM public.tasks t
 CROSS JOIN LATERAL (
        SELECT CASE WHEN t.own_progress_reported OR t.child_count = 0 THEN t.progress
                    ELSE api.pt_eff_progress(t.id, false, t.progress) END AS progress,
               coalesce(t.start_date,
                        (SELECT make_date(p.year, 1, 1) FROM public.plans p
                          WHERE p.id = t.plan_id AND p.year IS NOT NULL),
                        (t.created_at AT TIME ZONE 'UTC')::date) AS start) e;

-- The task shape of docs/sql-api.md: task_docs plus the light.
CREATE FUNCTION api.pt_task_json(t public.tasks, cfg jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE d record;
BEGIN
    SELECT x.doc, x.status, x.progress, x.start, x.due_date INTO d FROM api.task_docs x WHERE x.id = t.id;
    RETURN d.doc || jsonb_build_object('light', api.pt_light(d.status, d.progress, d.start, d.due_date, cfg));
END $$;

-- A task with its live children nested (document order).
CREATE FUNCTION api.pt_task_tree_json(t public.tasks, cfg jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT api.pt_task_json(t, cfg) || jsonb_build_object('children',
        (SELECT coalesce(jsonb_agg(api.pt_task_tree_json(c, cfg) ORDER BY c.ord), '[]')
           FROM public.tasks c WHERE c.parent_id = t.id AND c.deleted_at IS NULL))
$$;

CREATE FUNCTION api.pt_plan_json(p public.plans) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', p.id, 'title', p.title, 'year', p.year, 'org', p.org,
        'source_sha256', p.source_sha256,
        'task_count', (SELECT count(*) FROM public.tasks t WHERE t.plan_id = p.id AND t.deleted_at IS NULL),
        'created_at', api.pt_ts(p.created_at))
$$;

CREATE FUNCTION api.pt_plan_tree_json(p public.plans, cfg jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT api.pt_plan_json(p) || jsonb_build_object('tasks',
        (SELECT coalesce(jsonb_agg(api.pt_task_tree_json(t, cfg) ORDER BY t.ord), '[]')
           FROM public.tasks t WHERE t.plan_id = p.id AND t.parent_id IS NULL AND t.deleted_at IS NULL))
$$;

CREATE FUNCTION api.pt_update_json(u public.updates) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', u.id, 'task_id', u.task_id, 'author', u.author, 'at', api.pt_ts(u.at),
        'status_from', u.status_from, 'status_to', u.status_to, 'progress_from', u.progress_from,
        'progress', u.progress, 'targets', u.targets, 'note', u.note, 'problems', u.problems,
        'next_steps', u.next_steps)
$$;

CREATE FUNCTION api.pt_event_json(e public.events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('seq', e.seq, 'id', e.id, 'type', e.type, 'at', api.pt_ts(e.at),
        'plan_id', e.plan_id, 'task_id', e.task_id, 'data', e.payload)
$$;
