-- sql/api/10_render.sql - child counts, lights, the task and plan JSON shapes.
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
-- progress, lights, rendering (the rules: sql/api/05_eval.sql, docs/sql-api.md)
---------------------------------------------------------------------------

CREATE FUNCTION api.pt_transition_ok(s_from text, s_to text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT s_from = s_to OR (s_from, s_to) IN (
        ('assigned', 'cancelled'),
        ('planned', 'in_progress'), ('planned', 'blocked'), ('planned', 'done'), ('planned', 'cancelled'),
        ('in_progress', 'blocked'), ('in_progress', 'done'), ('in_progress', 'cancelled'),
        ('blocked', 'in_progress'), ('blocked', 'done'), ('blocked', 'cancelled'),
        ('done', 'verified'), ('done', 'in_progress'))
$$;

-- The own light of a task from its status, effective progress, start and
-- effective due on the day of cfg (no roll-up; pt_eval_node has the full rule).
CREATE FUNCTION api.pt_light(status text, progress int, start date, due date, cfg jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    today date := api.pt_today(cfg);
    behind float8;
BEGIN
    IF status IN ('done', 'verified', 'cancelled') THEN RETURN status; END IF;
    IF due IS NULL THEN RETURN 'green'; END IF;
    IF today > due THEN RETURN 'red'; END IF;
    behind := api.pt_expected(coalesce(start, due), due, today) - progress;
    RETURN CASE
        WHEN (cfg->>'red_lag_points') IS NOT NULL AND behind > (cfg->>'red_lag_points')::float8 THEN 'red'
        WHEN due - today <= coalesce((cfg->>'due_soon_days')::int, 7)
             AND progress < coalesce((cfg->>'due_soon_progress')::int, 80) THEN 'yellow'
        WHEN start IS NOT NULL AND behind > coalesce((cfg->>'lag_points')::float8, 20) THEN 'yellow'
        ELSE 'green' END;
END $$;

-- A task as evaluated on the day of cfg (its subtree and ancestors' dues).
CREATE FUNCTION api.pt_task_eval(t public.tasks, cfg jsonb) RETURNS api.pt_ev
LANGUAGE plpgsql STABLE AS $$
DECLARE e api.pt_ev;
BEGIN
    IF t.child_count = 0 AND t.deleted_at IS NULL AND api.pt_as_of(cfg) IS NULL THEN
        RETURN api.pt_leaf_ev(t, cfg);
    END IF;
    SELECT x.* INTO e FROM api.pt_eval(t.plan_id, cfg, t.id) x WHERE (x.t).id = t.id;
    RETURN e;
END $$;

-- progress and light of a task row, in one go.
CREATE FUNCTION api.pt_task_state(t public.tasks, cfg jsonb, OUT progress int, OUT light text)
LANGUAGE plpgsql STABLE AS $$
DECLARE e api.pt_ev := api.pt_task_eval(t, cfg);
BEGIN
    progress := e.progress;
    light := e.light;
END $$;

CREATE FUNCTION api.pt_task_light(t public.tasks, cfg jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT (api.pt_task_eval(t, cfg)).light
$$;

-- The task shape of docs/sql-api.md, evaluated on the day of cfg.
CREATE FUNCTION api.pt_task_json(t public.tasks, cfg jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF t.child_count = 0 AND t.deleted_at IS NULL AND api.pt_as_of(cfg) IS NULL THEN
        RETURN api.pt_leaf_doc(t, cfg);
    END IF;
    RETURN (SELECT x.doc FROM api.pt_eval_docs(t.plan_id, cfg, t.id) x WHERE ((x.ev).t).id = t.id);
END $$;

-- A plan's task tree (document order), children nested, from one evaluation;
-- root: only that task and its subtree (a one-element array).
CREATE FUNCTION api.pt_tree_json(plan uuid, cfg jsonb, root uuid DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    docs jsonb[];
    evs api.pt_ev[];
    kids jsonb := '{}';
    maxd int;
    mind int;
BEGIN
    SELECT array_agg(x.doc), array_agg(x.ev), max((x.ev).depth), min((x.ev).depth) INTO docs, evs, maxd, mind
      FROM api.pt_eval_docs(plan, cfg, root) x;
    IF maxd IS NULL THEN RETURN '[]'; END IF;
    -- level by level from the leaves: kids maps a parent id to its children's nodes
    FOR lv IN REVERSE maxd..mind LOOP
        WITH n AS (
            SELECT (u.t).parent_id AS parent, (u.t).ord AS ord,
                   docs[u.ordinality] || jsonb_build_object('children', coalesce(kids->((u.t).id::text), '[]')) AS node
              FROM unnest(evs) WITH ORDINALITY AS u WHERE u.depth = lv)
        SELECT coalesce(jsonb_object_agg(coalesce(g.parent::text, ''), g.list), '{}') INTO kids
          FROM (SELECT n.parent, jsonb_agg(n.node ORDER BY n.ord) AS list FROM n GROUP BY n.parent) g;
    END LOOP;
    -- the top level: one list (the plan's top-level tasks, or the root)
    RETURN coalesce((SELECT k.value FROM jsonb_each(kids) k LIMIT 1), '[]');
END $$;

-- A task with its live children nested (document order).
CREATE FUNCTION api.pt_task_tree_json(t public.tasks, cfg jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT api.pt_tree_json(t.plan_id, cfg, t.id)->0
$$;

CREATE FUNCTION api.pt_plan_json(p public.plans) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', p.id, 'title', p.title, 'year', p.year, 'org', p.org,
        'source_sha256', p.source_sha256, 'owner', p.owner,
        'approved_at', api.pt_ts(p.approved_at), 'approved_by', p.approved_by,
        'task_count', (SELECT count(*) FROM public.tasks t WHERE t.plan_id = p.id AND t.deleted_at IS NULL),
        'archived_at', api.pt_ts(p.archived_at), 'archived_by', p.archived_by,
        'version', p.version, 'updated_at', api.pt_ts(p.updated_at),
        'created_at', api.pt_ts(p.created_at))
$$;

CREATE FUNCTION api.pt_plan_tree_json(p public.plans, cfg jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT api.pt_plan_json(p) || jsonb_build_object('tasks', api.pt_tree_json(p.id, cfg))
$$;

CREATE FUNCTION api.pt_attachment_json(x public.attachments) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', x.id, 'task_id', x.task_id, 'update_id', x.update_id,
        'filename', x.filename, 'content_type', x.content_type, 'size', x.size, 'sha256', x.sha256,
        'uploaded_by', x.uploaded_by, 'unit', (SELECT n.name FROM public.units n WHERE n.id = x.unit_id),
        'created_at', api.pt_ts(x.created_at))
$$;

CREATE FUNCTION api.pt_update_json(u public.updates) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', u.id, 'task_id', u.task_id, 'author', u.author, 'at', api.pt_ts(u.at),
        'status_from', u.status_from, 'status_to', u.status_to, 'progress_from', u.progress_from,
        'progress', u.progress, 'targets', u.targets, 'note', u.note, 'problems', u.problems,
        'next_steps', u.next_steps, 'kind', u.kind,
        'unit', (SELECT n.name FROM public.units n WHERE n.id = u.unit_id),
        'attachments', (SELECT coalesce(jsonb_agg(api.pt_attachment_json(x) ORDER BY x.created_at, x.id), '[]')
                          FROM public.attachments x WHERE x.update_id = u.id))
$$;

CREATE FUNCTION api.pt_event_json(e public.events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('seq', e.seq, 'id', e.id, 'type', e.type, 'at', api.pt_ts(e.at),
        'plan_id', e.plan_id, 'task_id', e.task_id, 'data', e.payload)
$$;
