-- 0002_api.sql - the SQL API of docs/sql-api.md: every pt_* function the C
-- handlers call, plus the helpers they share. Each API function takes one jsonb
-- and returns exactly one (status int, body jsonb) row; client errors are raised
-- with SQLSTATE PT4xx (MESSAGE = title, DETAIL = detail, HINT = JSON errors).
-- All names are schema-qualified, so nothing depends on search_path (and no
-- function carries a SET clause, which would stop SQL functions from being inlined).

---------------------------------------------------------------------------
-- small helpers
---------------------------------------------------------------------------

-- RFC 3339 UTC timestamp text.
-- (to_jsonb of a timestamp is ISO 8601 whatever DateStyle says, and much faster than to_char)
CREATE FUNCTION public.pt_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (to_jsonb(t AT TIME ZONE 'UTC') #>> '{}') || 'Z'
$$;

-- text -> uuid, NULL when it is no uuid (never an error).
CREATE FUNCTION public.pt_uuid(s text) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
                THEN s::uuid END
$$;

-- Raise a client error: code 'PT404' etc.
CREATE FUNCTION public.pt_fail(code text, msg text, detail text DEFAULT NULL, hint jsonb DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg,
        DETAIL = coalesce(detail, ''), HINT = coalesce(hint::text, '');
END $$;

-- One-field 422.
CREATE FUNCTION public.pt_fail422(field text, message text) RETURNS void
LANGUAGE sql AS $$
    SELECT public.pt_fail('PT422', 'Validation failed', field || ' ' || message,
                          jsonb_build_array(jsonb_build_object('field', field, 'message', message)))
$$;

CREATE FUNCTION public.pt_today(cfg jsonb) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(cfg->>'today', '')::date, current_date)
$$;

-- A jsonb string/null as text: empty strings count as absent.
CREATE FUNCTION public.pt_text(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(v) = 'string' THEN nullif(btrim(v #>> '{}'), '')
                WHEN jsonb_typeof(v) IN ('number', 'boolean') THEN v #>> '{}' END
$$;

CREATE FUNCTION public.pt_texts(v jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(x ORDER BY n), '{}')
      FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(v) = 'array' THEN v ELSE '[]' END)
           WITH ORDINALITY AS e(x, n)
     WHERE btrim(x) <> ''
$$;

CREATE FUNCTION public.pt_limit(a jsonb) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
    SELECT greatest(1, least(500, coalesce((a->>'limit')::int, 50)))
$$;

---------------------------------------------------------------------------
-- units and scope
---------------------------------------------------------------------------

-- The unit called n (a root one preferred), created at the root on first use.
CREATE FUNCTION public.pt_unit_ensure(n text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE u uuid;
BEGIN
    n := nullif(btrim(n), '');
    IF n IS NULL THEN RETURN NULL; END IF;
    SELECT id INTO u FROM public.units WHERE name = n
     ORDER BY parent_id IS NOT NULL, created_at, id LIMIT 1;
    IF u IS NULL THEN
        INSERT INTO public.units (name) VALUES (n)
        ON CONFLICT ((coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid)), name) DO NOTHING
        RETURNING id INTO u;
        IF u IS NULL THEN
            SELECT id INTO u FROM public.units WHERE parent_id IS NULL AND name = n;
        END IF;
    END IF;
    RETURN u;
END $$;

CREATE FUNCTION public.pt_unit_name(u uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT name FROM public.units WHERE id = u
$$;

-- May actor write to a task whose lead unit is u? supervisor/admin: always;
-- editor: when u is its unit or below it; anyone else: never.
CREATE FUNCTION public.pt_in_scope(actor jsonb, u uuid) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    role text := actor->>'role';
    mine uuid := public.pt_uuid(actor->>'unit_id');
BEGIN
    IF role IN ('supervisor', 'admin') THEN RETURN true; END IF;
    IF role IS DISTINCT FROM 'editor' OR mine IS NULL OR u IS NULL THEN RETURN false; END IF;
    IF u = mine THEN RETURN true; END IF;
    RETURN EXISTS (
        WITH RECURSIVE up(id, depth) AS (
            SELECT parent_id, 1 FROM public.units WHERE id = u
            UNION ALL
            SELECT un.parent_id, up.depth + 1 FROM public.units un JOIN up ON un.id = up.id
             WHERE up.depth < 64)
        SELECT 1 FROM up WHERE id = mine);
END $$;

CREATE FUNCTION public.pt_check_scope(actor jsonb, u uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT public.pt_in_scope(actor, u) THEN
        PERFORM public.pt_fail('PT403', 'Forbidden',
            CASE WHEN actor->>'role' = 'editor'
                 THEN 'the task''s lead unit is not your unit or a unit below it'
                 ELSE 'your role may not change this task' END);
    END IF;
END $$;

-- The unit u and every unit below it.
CREATE FUNCTION public.pt_unit_subtree(roots uuid[]) RETURNS uuid[]
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE down(id, depth) AS (
        SELECT unnest(roots), 0
        UNION
        SELECT un.id, down.depth + 1 FROM public.units un JOIN down ON un.parent_id = down.id
         WHERE down.depth < 64)
    SELECT coalesce(array_agg(DISTINCT id), '{}') FROM down
$$;

---------------------------------------------------------------------------
-- child counts: lets the hot paths know a leaf without a query
---------------------------------------------------------------------------

ALTER TABLE public.tasks ADD COLUMN child_count int NOT NULL DEFAULT 0 CHECK (child_count >= 0);

-- Keeps tasks.child_count = number of live children when tasks are deleted,
-- soft-deleted, restored or moved. Inserts are counted by pt_tasks_insert, once
-- per parent (a per-row trigger would update a big import's parent 10 000 times).
CREATE FUNCTION public.pt_tasks_child_count() RETURNS trigger
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
    FOR EACH ROW EXECUTE FUNCTION public.pt_tasks_child_count();

---------------------------------------------------------------------------
-- progress, lights, rendering
---------------------------------------------------------------------------

-- Effective progress: own when reported (or no children), else the rounded
-- average of the children's effective progress, recursively.
-- own: the task has its own report or no children (then no query runs).
CREATE FUNCTION public.pt_eff_progress(tid uuid, own boolean, progress int) RETURNS int
LANGUAGE plpgsql STABLE AS $$
DECLARE avgp numeric;
BEGIN
    IF own THEN RETURN progress; END IF;
    SELECT avg(public.pt_eff_progress(c.id, c.own_progress_reported OR c.child_count = 0, c.progress)) INTO avgp
      FROM public.tasks c WHERE c.parent_id = tid AND c.deleted_at IS NULL;
    RETURN coalesce(round(avgp)::int, progress);
END $$;

CREATE FUNCTION public.pt_transition_ok(s_from text, s_to text) RETURNS boolean
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
CREATE FUNCTION public.pt_light(status text, progress int, start date, due date, cfg jsonb) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE today date := public.pt_today(cfg);
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
CREATE FUNCTION public.pt_task_state(t public.tasks, cfg jsonb, OUT progress int, OUT light text)
LANGUAGE plpgsql STABLE AS $$
DECLARE start date;
BEGIN
    progress := public.pt_eff_progress(t.id, t.own_progress_reported OR t.child_count = 0, t.progress);
    start := t.start_date;
    IF start IS NULL AND t.due_date IS NOT NULL AND t.status NOT IN ('done', 'verified', 'cancelled') THEN
        SELECT make_date(p.year, 1, 1) INTO start FROM public.plans p WHERE p.id = t.plan_id AND p.year IS NOT NULL;
        start := coalesce(start, (t.created_at AT TIME ZONE 'UTC')::date);
    END IF;
    light := public.pt_light(t.status, progress, start, t.due_date, cfg);
END $$;

CREATE FUNCTION public.pt_task_light(t public.tasks, cfg jsonb) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT (public.pt_task_state(t, cfg)).light
$$;

-- The task shape of docs/sql-api.md without its light (the light depends on the
-- caller's thresholds), with the effective progress and the date the light
-- measures elapsed time from. GET /v1/tasks/{id} reads it in one prepared
-- statement (the view inlines there) and adds the light; pt_task_json reads
-- it for everything else.
CREATE VIEW public.task_docs AS
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
                           'due_date', m.due_date, 'done_at', public.pt_ts(m.done_at)) ORDER BY m.ord, m.id), '[]')
                         FROM public.milestones m WHERE m.task_id = t.id),
        'version', t.version,
        'created_at', public.pt_ts(t.created_at), 'updated_at', public.pt_ts(t.updated_at),
        'closed_at', public.pt_ts(t.closed_at)) AS doc
  FROM public.tasks t
 CROSS JOIN LATERAL (
        SELECT CASE WHEN t.own_progress_reported OR t.child_count = 0 THEN t.progress
                    ELSE public.pt_eff_progress(t.id, false, t.progress) END AS progress,
               coalesce(t.start_date,
                        (SELECT make_date(p.year, 1, 1) FROM public.plans p
                          WHERE p.id = t.plan_id AND p.year IS NOT NULL),
                        (t.created_at AT TIME ZONE 'UTC')::date) AS start) e;

-- The task shape of docs/sql-api.md: task_docs plus the light.
CREATE FUNCTION public.pt_task_json(t public.tasks, cfg jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE d record;
BEGIN
    SELECT x.doc, x.status, x.progress, x.start, x.due_date INTO d FROM public.task_docs x WHERE x.id = t.id;
    RETURN d.doc || jsonb_build_object('light', public.pt_light(d.status, d.progress, d.start, d.due_date, cfg));
END $$;

-- A task with its live children nested (document order).
CREATE FUNCTION public.pt_task_tree_json(t public.tasks, cfg jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT public.pt_task_json(t, cfg) || jsonb_build_object('children',
        (SELECT coalesce(jsonb_agg(public.pt_task_tree_json(c, cfg) ORDER BY c.ord), '[]')
           FROM public.tasks c WHERE c.parent_id = t.id AND c.deleted_at IS NULL))
$$;

CREATE FUNCTION public.pt_plan_json(p public.plans) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', p.id, 'title', p.title, 'year', p.year, 'org', p.org,
        'source_sha256', p.source_sha256,
        'task_count', (SELECT count(*) FROM public.tasks t WHERE t.plan_id = p.id AND t.deleted_at IS NULL),
        'created_at', public.pt_ts(p.created_at))
$$;

CREATE FUNCTION public.pt_plan_tree_json(p public.plans, cfg jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT public.pt_plan_json(p) || jsonb_build_object('tasks',
        (SELECT coalesce(jsonb_agg(public.pt_task_tree_json(t, cfg) ORDER BY t.ord), '[]')
           FROM public.tasks t WHERE t.plan_id = p.id AND t.parent_id IS NULL AND t.deleted_at IS NULL))
$$;

CREATE FUNCTION public.pt_update_json(u public.updates) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', u.id, 'task_id', u.task_id, 'author', u.author, 'at', public.pt_ts(u.at),
        'status_from', u.status_from, 'status_to', u.status_to, 'progress_from', u.progress_from,
        'progress', u.progress, 'targets', u.targets, 'note', u.note, 'problems', u.problems,
        'next_steps', u.next_steps)
$$;

CREATE FUNCTION public.pt_event_json(e public.events) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('seq', e.seq, 'type', e.type, 'at', public.pt_ts(e.at),
        'plan_id', e.plan_id, 'task_id', e.task_id, 'data', e.payload)
$$;

-- Writes add events to the outbox unnumbered and without NOTIFY (a NOTIFY
-- serialises every committing transaction of the database); the daemon calls
-- pt_events_publish after each write and on a timer. Returns the event's id.
CREATE FUNCTION public.pt_emit(etype text, plan uuid, task uuid, data jsonb) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO public.events (type, plan_id, task_id, payload)
    VALUES (etype, plan, task, coalesce(data, '{}')) RETURNING id
$$;

-- task.created for many tasks in one statement.
CREATE FUNCTION public.pt_emit_created(ids uuid[]) RETURNS bigint
LANGUAGE sql AS $$
    WITH ins AS (
        INSERT INTO public.events (type, plan_id, task_id, payload)
        SELECT 'task.created', t.plan_id, t.id,
               jsonb_build_object('code', t.code, 'title', t.title, 'parent_id', t.parent_id, 'version', t.version)
          FROM public.tasks t WHERE t.id = ANY (ids) ORDER BY t.ord
        RETURNING id)
    SELECT max(id) FROM ins
$$;

-- Numbers the committed, unpublished events: their feed seq, in one step
-- serialised by an advisory lock held to commit. Event ids are taken before
-- commit and may commit out of order; seqs are taken here, after commit, so a
-- reader that has seen seq N never later finds an event below N. Returns the
-- highest seq published (one NOTIFY per batch), or NULL when nothing was
-- pending or another publisher holds the lock (the next call takes the rest).
CREATE FUNCTION public.pt_events_publish() RETURNS bigint
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
-- creating tasks
---------------------------------------------------------------------------

-- Replace a task's targets with the list given, keeping ids by position.
CREATE FUNCTION public.pt_set_targets(tid uuid, list jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    old uuid[];
    x jsonb;
    i int := 0;
    cmp text;
BEGIN
    SELECT coalesce(array_agg(id ORDER BY ord, id), '{}') INTO old FROM public.targets WHERE task_id = tid;
    FOR x IN SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(list) = 'array' THEN list ELSE '[]' END) e LOOP
        i := i + 1;
        cmp := coalesce(public.pt_text(x->'comparator'), '=');
        IF cmp NOT IN ('>=', '<=', '=') THEN
            PERFORM public.pt_fail422('targets[' || (i - 1) || '].comparator', 'must be >=, <= or =');
        END IF;
        IF i <= cardinality(old) THEN
            UPDATE public.targets SET ord = i, label = public.pt_text(x->'label'), value = (x->>'value')::numeric,
                   unit = public.pt_text(x->'unit'), comparator = cmp,
                   current = CASE WHEN x ? 'current' THEN (x->>'current')::numeric ELSE current END,
                   text = public.pt_text(x->'text')
             WHERE id = old[i];
        ELSE
            INSERT INTO public.targets (task_id, ord, label, value, unit, comparator, current, text)
            VALUES (tid, i, public.pt_text(x->'label'), (x->>'value')::numeric, public.pt_text(x->'unit'), cmp,
                    (x->>'current')::numeric, public.pt_text(x->'text'));
        END IF;
    END LOOP;
    IF cardinality(old) > i THEN
        DELETE FROM public.targets WHERE id = ANY (old[i + 1:]);
    END IF;
END $$;

CREATE FUNCTION public.pt_set_milestones(tid uuid, list jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    old uuid[];
    x jsonb;
    i int := 0;
BEGIN
    SELECT coalesce(array_agg(id ORDER BY ord, id), '{}') INTO old FROM public.milestones WHERE task_id = tid;
    FOR x IN SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(list) = 'array' THEN list ELSE '[]' END) e LOOP
        i := i + 1;
        IF public.pt_text(x->'title') IS NULL THEN
            PERFORM public.pt_fail422('milestones[' || (i - 1) || '].title', 'is required');
        END IF;
        IF i <= cardinality(old) THEN
            UPDATE public.milestones SET ord = i, title = public.pt_text(x->'title'),
                   due_date = nullif(x->>'due_date', '')::date
             WHERE id = old[i];
        ELSE
            INSERT INTO public.milestones (task_id, ord, title, due_date)
            VALUES (tid, i, public.pt_text(x->'title'), nullif(x->>'due_date', '')::date);
        END IF;
    END LOOP;
    IF cardinality(old) > i THEN
        DELETE FROM public.milestones WHERE id = ANY (old[i + 1:]);
    END IF;
END $$;

-- Insert a list of task-in (with their children) under parent (NULL: top level)
-- of plan; positions start at pos. Appends the new ids to ids (each level before
-- its children). Set-based: a 10 000-row CSV import is a handful of statements.
-- ibase: the index of list[0] in the client's array (for error paths).
CREATE FUNCTION public.pt_tasks_insert(plan uuid, parent uuid, parent_code text, list jsonb, pos int,
                                       actor jsonb, path text, INOUT ids uuid[], ibase int DEFAULT 0)
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
    new_ids uuid[];
    kid record;
    u uuid;
BEGIN
    IF jsonb_typeof(list) IS DISTINCT FROM 'array' OR jsonb_array_length(list) = 0 THEN
        RETURN;
    END IF;
    -- ord is document order: with subtrees, insert one element (and its subtree) at a time
    IF jsonb_array_length(list) > 1 AND EXISTS (
            SELECT 1 FROM jsonb_array_elements(list) e
             WHERE jsonb_typeof(e->'children') = 'array' AND jsonb_array_length(e->'children') > 0) THEN
        FOR kid IN SELECT e.x, e.n FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n) ORDER BY e.n LOOP
            ids := public.pt_tasks_insert(plan, parent, parent_code, jsonb_build_array(kid.x), pos + kid.n::int - 1,
                                          actor, path, ids, ibase + kid.n::int - 1);
        END LOOP;
        RETURN;
    END IF;
    -- validation: the first offending element, by position
    SELECT ibase + e.n - 1 AS i,
           CASE WHEN jsonb_typeof(e.x) IS DISTINCT FROM 'object' OR public.pt_text(e.x->'title') IS NULL THEN 'title'
                WHEN coalesce(public.pt_text(e.x->'status'), 'planned')
                     NOT IN ('planned', 'in_progress', 'blocked', 'done', 'verified', 'cancelled') THEN 'status'
                WHEN jsonb_typeof(e.x->'progress') = 'number' AND (e.x->>'progress')::numeric NOT BETWEEN 0 AND 100
                     THEN 'progress'
                WHEN public.pt_text(e.x->'status') = 'verified' THEN 'verified' END AS what
      INTO bad
      FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n)
     WHERE jsonb_typeof(e.x) IS DISTINCT FROM 'object' OR public.pt_text(e.x->'title') IS NULL
        OR coalesce(public.pt_text(e.x->'status'), 'planned')
           NOT IN ('planned', 'in_progress', 'blocked', 'done', 'verified', 'cancelled')
        OR (jsonb_typeof(e.x->'progress') = 'number' AND (e.x->>'progress')::numeric NOT BETWEEN 0 AND 100)
        OR (public.pt_text(e.x->'status') = 'verified' AND coalesce(actor->>'role', '') NOT IN ('supervisor', 'admin'))
     ORDER BY e.n LIMIT 1;
    IF bad.what = 'title' THEN
        PERFORM public.pt_fail422(path || '[' || bad.i || '].title', 'is required');
    ELSIF bad.what = 'status' THEN
        PERFORM public.pt_fail422(path || '[' || bad.i || '].status', 'is not a status');
    ELSIF bad.what = 'progress' THEN
        PERFORM public.pt_fail422(path || '[' || bad.i || '].progress', 'must be from 0 to 100');
    ELSIF bad.what = 'verified' THEN
        PERFORM public.pt_fail('PT403', 'Forbidden', 'only a supervisor may create verified tasks');
    END IF;
    -- units, created on first use; an editor may only name units in its scope
    FOR u IN SELECT public.pt_unit_ensure(n)
               FROM (SELECT DISTINCT public.pt_text(e->'lead_unit') AS n FROM jsonb_array_elements(list) e
                     UNION
                     SELECT DISTINCT c FROM jsonb_array_elements(list) e, unnest(public.pt_texts(e->'co_units')) c) x
              WHERE n IS NOT NULL LOOP
    END LOOP;
    IF actor->>'role' = 'editor' THEN
        FOR u IN SELECT DISTINCT public.pt_unit_ensure(public.pt_text(e->'lead_unit')) FROM jsonb_array_elements(list) e LOOP
            PERFORM public.pt_check_scope(actor, u);
        END LOOP;
    END IF;
    WITH src AS (
        SELECT e.x, e.n, coalesce(public.pt_text(e.x->'status'), 'planned') AS st,
               jsonb_typeof(e.x->'progress') = 'number' AS has_prog
          FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n)),
    ins AS (
        INSERT INTO public.tasks (plan_id, parent_id, code, seq, title, body, lead_unit_id, co_unit_ids, owner,
                                  leader, status, progress, own_progress_reported, start_date, due_date, cadence,
                                  tags, closed_at)
        SELECT plan, parent,
               coalesce(public.pt_text(x->'code'),
                        CASE WHEN parent_code IS NULL THEN (pos + n - 1)::text ELSE parent_code || '.' || (pos + n - 1) END),
               coalesce((x->>'seq')::int, (pos + n - 1)::int), public.pt_text(x->'title'), public.pt_text(x->'body'),
               public.pt_unit_ensure(public.pt_text(x->'lead_unit')),
               (SELECT coalesce(array_agg(public.pt_unit_ensure(c.n) ORDER BY c.k), '{}')
                  FROM unnest(public.pt_texts(x->'co_units')) WITH ORDINALITY AS c(n, k)),
               public.pt_text(x->'owner'), public.pt_text(x->'leader'), st,
               CASE WHEN st IN ('done', 'verified') THEN 100
                    WHEN has_prog THEN round((x->>'progress')::numeric)::int ELSE 0 END,
               st IN ('done', 'verified') OR coalesce(has_prog, false),
               nullif(x->>'start_date', '')::date, nullif(x->>'due_date', '')::date,
               public.pt_text(x->'cadence'), public.pt_texts(x->'tags'),
               CASE WHEN st IN ('done', 'verified', 'cancelled') THEN now() END
          FROM src ORDER BY n
        RETURNING id, ord)
    SELECT array_agg(id ORDER BY ord) INTO new_ids FROM ins;
    ids := ids || new_ids;
    IF parent IS NOT NULL THEN
        UPDATE public.tasks SET child_count = child_count + cardinality(new_ids) WHERE id = parent;
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(list) e, jsonb_array_elements(e->'targets') g
                WHERE jsonb_typeof(e->'targets') = 'array'
                  AND coalesce(public.pt_text(g->'comparator'), '=') NOT IN ('>=', '<=', '=')) THEN
        PERFORM public.pt_fail422(path || '[].targets[].comparator', 'must be >=, <= or =');
    END IF;
    INSERT INTO public.targets (task_id, ord, label, value, unit, comparator, current, text)
    SELECT new_ids[e.n], g.k, public.pt_text(g.x->'label'), (g.x->>'value')::numeric, public.pt_text(g.x->'unit'),
           coalesce(public.pt_text(g.x->'comparator'), '='), (g.x->>'current')::numeric, public.pt_text(g.x->'text')
      FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n),
           jsonb_array_elements(CASE WHEN jsonb_typeof(e.x->'targets') = 'array' THEN e.x->'targets' ELSE '[]' END)
           WITH ORDINALITY AS g(x, k);
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(list) e, jsonb_array_elements(e->'milestones') m
                WHERE jsonb_typeof(e->'milestones') = 'array' AND public.pt_text(m->'title') IS NULL) THEN
        PERFORM public.pt_fail422(path || '[].milestones[].title', 'is required');
    END IF;
    INSERT INTO public.milestones (task_id, ord, title, due_date)
    SELECT new_ids[e.n], m.k, public.pt_text(m.x->'title'), nullif(m.x->>'due_date', '')::date
      FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n),
           jsonb_array_elements(CASE WHEN jsonb_typeof(e.x->'milestones') = 'array' THEN e.x->'milestones' ELSE '[]' END)
           WITH ORDINALITY AS m(x, k);
    FOR kid IN SELECT e.n, e.x->'children' AS children, t.code
                 FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n)
                 JOIN public.tasks t ON t.id = new_ids[e.n]
                WHERE jsonb_typeof(e.x->'children') = 'array' AND jsonb_array_length(e.x->'children') > 0
                ORDER BY e.n LOOP
        ids := public.pt_tasks_insert(plan, new_ids[kid.n], kid.code, kid.children, 1, actor,
                                      path || '[' || (ibase + kid.n - 1) || '].children', ids);
    END LOOP;
END $$;

-- Next sibling position under parent (or at the plan's top level).
CREATE FUNCTION public.pt_next_pos(plan uuid, parent uuid) RETURNS int
LANGUAGE sql STABLE AS $$
    SELECT count(*)::int + 1 FROM public.tasks
     WHERE plan_id = plan AND parent_id IS NOT DISTINCT FROM parent AND deleted_at IS NULL
$$;

---------------------------------------------------------------------------
-- plans
---------------------------------------------------------------------------

CREATE FUNCTION public.pt_plan_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    pl jsonb := coalesce(a->'plan', '{}');
    p public.plans;
    sha text := lower(public.pt_text(pl->'source_sha256'));
    ids uuid[] := '{}';
BEGIN
    IF public.pt_text(pl->'title') IS NULL THEN PERFORM public.pt_fail422('title', 'is required'); END IF;
    IF sha IS NOT NULL AND sha !~ '^[0-9a-f]{64}$' THEN
        PERFORM public.pt_fail422('source_sha256', 'must be 64 hex digits');
    END IF;
    IF sha IS NOT NULL THEN
        SELECT * INTO p FROM public.plans WHERE source_sha256 = sha;
        IF FOUND THEN
            RETURN QUERY SELECT 200, public.pt_plan_tree_json(p, a->'cfg');
            RETURN;
        END IF;
    END IF;
    BEGIN
        INSERT INTO public.plans (title, year, org, source_sha256, source_text)
        VALUES (public.pt_text(pl->'title'), (pl->>'year')::int, public.pt_text(pl->'org'), sha, pl->>'source_text')
        ON CONFLICT (source_sha256) DO NOTHING
        RETURNING * INTO p;
        IF p.id IS NULL THEN
            -- the same document, imported concurrently
            SELECT * INTO p FROM public.plans WHERE source_sha256 = sha;
            RETURN QUERY SELECT 200, public.pt_plan_tree_json(p, a->'cfg');
            RETURN;
        END IF;
        ids := public.pt_tasks_insert(p.id, NULL, NULL, pl->'tasks', 1, a->'actor', 'tasks', ids);
    EXCEPTION WHEN data_exception THEN
        PERFORM public.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    PERFORM public.pt_emit('plan.created', p.id, NULL,
        jsonb_build_object('title', p.title, 'year', p.year, 'task_count', cardinality(ids)));
    RETURN QUERY SELECT 201, public.pt_plan_tree_json(p, a->'cfg');
END $$;

CREATE FUNCTION public.pt_plan_find(id text) RETURNS public.plans
LANGUAGE plpgsql STABLE AS $$
DECLARE p public.plans;
BEGIN
    SELECT * INTO p FROM public.plans WHERE plans.id = public.pt_uuid(pt_plan_find.id) AND deleted_at IS NULL;
    IF NOT FOUND THEN PERFORM public.pt_fail('PT404', 'Plan not found', 'no plan with id ' || coalesce(id, 'null')); END IF;
    RETURN p;
END $$;

CREATE FUNCTION public.pt_plan_get(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE p public.plans := public.pt_plan_find(a->>'id');
BEGIN
    IF coalesce((a->>'tree')::boolean, false) THEN
        RETURN QUERY SELECT 200, public.pt_plan_tree_json(p, a->'cfg');
    ELSE
        RETURN QUERY SELECT 200, public.pt_plan_json(p);
    END IF;
END $$;

-- Keyset cursor "created_at-in-microseconds_uuid" for newest-first lists.
CREATE FUNCTION public.pt_ts_cursor(t timestamptz, id uuid) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM t) * 1000000)::bigint::text || '_' || id::text
$$;

CREATE FUNCTION public.pt_parse_ts_cursor(c text, OUT t timestamptz, OUT id uuid)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF c IS NULL THEN RETURN; END IF;
    IF c !~ '^-?[0-9]{1,17}_[0-9a-fA-F-]{36}$' OR public.pt_uuid(split_part(c, '_', 2)) IS NULL THEN
        PERFORM public.pt_fail422('cursor', 'is not a cursor from this API');
    END IF;
    t := to_timestamp(split_part(c, '_', 1)::numeric / 1000000);
    id := split_part(c, '_', 2)::uuid;
END $$;

CREATE FUNCTION public.pt_plans_list(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := public.pt_limit(a);
    cur record := public.pt_parse_ts_cursor(a->>'cursor');
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
        items := items || public.pt_plan_json(p);
        last := p;
    END LOOP;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(to_jsonb(items), '[]'),
        'next_cursor', CASE WHEN n > lim THEN public.pt_ts_cursor(last.created_at, last.id) END);
END $$;

-- Live tasks of a plan with their document-order path (depth first, siblings by ord).
CREATE FUNCTION public.pt_plan_tasks(plan uuid) RETURNS TABLE(task public.tasks, path bigint[])
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE tr AS (
        SELECT t AS task, ARRAY[t.ord] AS path FROM public.tasks t
         WHERE t.plan_id = plan AND t.parent_id IS NULL AND t.deleted_at IS NULL
        UNION ALL
        SELECT c, tr.path || c.ord FROM public.tasks c JOIN tr ON c.parent_id = (tr.task).id
         WHERE c.deleted_at IS NULL AND cardinality(tr.path) < 32)
    SELECT tr.task, tr.path FROM tr
$$;

CREATE FUNCTION public.pt_plan_export(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE p public.plans := public.pt_plan_find(a->>'id');
BEGIN
    RETURN QUERY SELECT 200, jsonb_build_object('plan', public.pt_plan_json(p),
        'rows', (SELECT coalesce(jsonb_agg(public.pt_task_json(x.task, a->'cfg') ORDER BY x.path), '[]')
                   FROM public.pt_plan_tasks(p.id) x));
END $$;

CREATE FUNCTION public.pt_plan_summary(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p public.plans := public.pt_plan_find(a->>'id');
    cfg jsonb := a->'cfg';
    today date := public.pt_today(cfg);
    res jsonb;
BEGIN
    WITH s AS (
        SELECT t.id, t.code, t.title, t.status, t.due_date, t.closed_at, t.lead_unit_id, t.parent_id,
               x.progress, x.light, t.child_count = 0 AS leaf, t.ord
          FROM public.tasks t CROSS JOIN LATERAL public.pt_task_state(t, cfg) x
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
                                   'due_date', s.due_date, 'lead_unit', public.pt_unit_name(s.lead_unit_id),
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

---------------------------------------------------------------------------
-- tasks
---------------------------------------------------------------------------

-- The live task with id, locked for update when lock; PT404 otherwise.
CREATE FUNCTION public.pt_task_find(id text, lock boolean) RETURNS public.tasks
LANGUAGE plpgsql AS $$
DECLARE t public.tasks;
BEGIN
    IF lock THEN
        SELECT * INTO t FROM public.tasks WHERE tasks.id = public.pt_uuid(pt_task_find.id) AND deleted_at IS NULL
           FOR UPDATE;
    ELSE
        SELECT * INTO t FROM public.tasks WHERE tasks.id = public.pt_uuid(pt_task_find.id) AND deleted_at IS NULL;
    END IF;
    IF t.id IS NULL THEN
        PERFORM public.pt_fail('PT404', 'Task not found', 'no task with id ' || coalesce(id, 'null'));
    END IF;
    RETURN t;
END $$;

CREATE FUNCTION public.pt_check_version(t public.tasks, if_match jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF jsonb_typeof(if_match) = 'number' AND (if_match #>> '{}')::numeric <> t.version THEN
        PERFORM public.pt_fail('PT412', 'Precondition failed',
            format('the task is at version %s, not %s', t.version, if_match #>> '{}'));
    END IF;
END $$;

CREATE FUNCTION public.pt_task_get(a jsonb, OUT status int, OUT body jsonb) RETURNS SETOF record
LANGUAGE plpgsql STABLE AS $$
DECLARE t public.tasks;
BEGIN
    SELECT * INTO t FROM public.tasks x WHERE x.id = public.pt_uuid(a->>'id') AND x.deleted_at IS NULL;
    IF t.id IS NULL THEN
        PERFORM public.pt_fail('PT404', 'Task not found', 'no task with id ' || coalesce(a->>'id', 'null'));
    END IF;
    status := 200;
    body := public.pt_task_json(t, a->'cfg');
    RETURN NEXT;
END $$;

CREATE FUNCTION public.pt_tasks_list(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    cfg jsonb := a->'cfg';
    lim int := public.pt_limit(a);
    plan uuid;
    parent uuid;
    st text := public.pt_text(a->'status');
    li text := public.pt_text(a->'light');
    units uuid[];
    dbefore date;
    dafter date;
    q text := public.pt_text(a->'q');
    cur bigint;
    sql text := 'SELECT * FROM public.tasks t WHERE t.deleted_at IS NULL';
    t public.tasks;
    items jsonb[] := '{}';
    n int := 0;
    last bigint;
BEGIN
    IF a ? 'plan' AND a->>'plan' IS NOT NULL THEN
        plan := public.pt_uuid(a->>'plan');
        IF plan IS NULL THEN PERFORM public.pt_fail422('plan', 'must be a plan id'); END IF;
        sql := sql || ' AND t.plan_id = $1';
    END IF;
    IF a ? 'parent' AND a->>'parent' IS NOT NULL THEN
        parent := public.pt_uuid(a->>'parent');
        IF parent IS NULL THEN PERFORM public.pt_fail422('parent', 'must be a task id'); END IF;
        sql := sql || ' AND t.parent_id = $2';
    END IF;
    IF st IS NOT NULL THEN sql := sql || ' AND t.status = $3'; END IF;
    IF public.pt_text(a->'unit') IS NOT NULL THEN
        SELECT public.pt_unit_subtree(coalesce(array_agg(id), '{}')) INTO units FROM public.units
         WHERE id = public.pt_uuid(a->>'unit') OR name = btrim(a->>'unit');
        sql := sql || ' AND t.lead_unit_id = ANY ($4)';
    END IF;
    BEGIN
        dbefore := nullif(a->>'due_before', '')::date;
        dafter := nullif(a->>'due_after', '')::date;
    EXCEPTION WHEN data_exception THEN
        PERFORM public.pt_fail422('due_before', 'must be a date YYYY-MM-DD');
    END;
    IF dbefore IS NOT NULL THEN sql := sql || ' AND t.due_date <= $6'; END IF;
    IF dafter IS NOT NULL THEN sql := sql || ' AND t.due_date >= $7'; END IF;
    IF q IS NOT NULL THEN
        q := '%' || replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%';
        sql := sql || ' AND (t.title ILIKE $8 OR t.body ILIKE $8)';
    END IF;
    IF a->>'cursor' IS NOT NULL THEN
        IF a->>'cursor' !~ '^[0-9]{1,18}$' THEN PERFORM public.pt_fail422('cursor', 'is not a cursor from this API'); END IF;
        cur := (a->>'cursor')::bigint;
        sql := sql || ' AND t.ord > $9';
    END IF;
    IF li IS NOT NULL THEN sql := sql || ' AND public.pt_task_light(t, $10) = $5'; END IF;
    sql := sql || ' ORDER BY t.ord LIMIT $11';
    FOR t IN EXECUTE sql USING plan, parent, st, units, li, dbefore, dafter, q, cur, cfg, lim + 1 LOOP
        n := n + 1;
        EXIT WHEN n > lim;
        items := items || public.pt_task_json(t, cfg);
        last := t.ord;
    END LOOP;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(to_jsonb(items), '[]'),
        'next_cursor', CASE WHEN n > lim THEN last::text END);
END $$;

CREATE FUNCTION public.pt_task_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    tin jsonb := coalesce(a->'task', '{}');
    p public.plans;
    par public.tasks;
    ids uuid[] := '{}';
    i int;
    t public.tasks;
BEGIN
    SELECT * INTO p FROM public.plans WHERE id = public.pt_uuid(tin->>'plan_id') AND deleted_at IS NULL;
    IF p.id IS NULL THEN PERFORM public.pt_fail422('plan_id', 'is not a plan'); END IF;
    IF tin->>'parent_id' IS NOT NULL THEN
        SELECT * INTO par FROM public.tasks
         WHERE id = public.pt_uuid(tin->>'parent_id') AND plan_id = p.id AND deleted_at IS NULL;
        IF par.id IS NULL THEN PERFORM public.pt_fail422('parent_id', 'is not a task of this plan'); END IF;
    END IF;
    BEGIN
        ids := public.pt_tasks_insert(p.id, par.id, par.code, jsonb_build_array(tin - 'plan_id' - 'parent_id'),
                                      public.pt_next_pos(p.id, par.id), a->'actor', 'task', ids);
    EXCEPTION WHEN data_exception THEN
        PERFORM public.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    PERFORM public.pt_emit_created(ids);
    SELECT * INTO t FROM public.tasks WHERE id = ids[1];
    RETURN QUERY SELECT 201, public.pt_task_json(t, a->'cfg');
END $$;

CREATE FUNCTION public.pt_tasks_import(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    p public.plans;
    par public.tasks;
    ids uuid[] := '{}';
BEGIN
    SELECT * INTO p FROM public.plans WHERE id = public.pt_uuid(a->>'plan_id') AND deleted_at IS NULL;
    IF p.id IS NULL THEN
        PERFORM public.pt_fail('PT404', 'Plan not found', 'no plan with id ' || coalesce(a->>'plan_id', 'null'));
    END IF;
    IF a->>'parent_id' IS NOT NULL THEN
        SELECT * INTO par FROM public.tasks
         WHERE id = public.pt_uuid(a->>'parent_id') AND plan_id = p.id AND deleted_at IS NULL;
        IF par.id IS NULL THEN PERFORM public.pt_fail422('parent', 'is not a task of this plan'); END IF;
        IF a->'actor'->>'role' = 'editor' THEN PERFORM public.pt_check_scope(a->'actor', par.lead_unit_id); END IF;
    END IF;
    BEGIN
        ids := public.pt_tasks_insert(p.id, par.id, par.code, a->'tasks', public.pt_next_pos(p.id, par.id),
                                      a->'actor', 'tasks', ids);
    EXCEPTION WHEN data_exception THEN
        PERFORM public.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    PERFORM public.pt_emit_created(ids);
    RETURN QUERY SELECT 201, jsonb_build_object('plan_id', p.id, 'parent_id', par.id,
        'created', cardinality(ids),
        'items', (SELECT coalesce(jsonb_agg(public.pt_task_json(t, a->'cfg') ORDER BY t.ord), '[]')
                    FROM public.tasks t WHERE t.id = ANY (ids)));
END $$;

CREATE FUNCTION public.pt_task_patch(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks := public.pt_task_find(a->>'id', true);
    pa jsonb := coalesce(a->'patch', '{}');
    actor jsonb := a->'actor';
    lead uuid := t.lead_unit_id;
    changed text[];
BEGIN
    PERFORM public.pt_check_scope(actor, t.lead_unit_id);
    PERFORM public.pt_check_version(t, a->'if_match');
    IF pa ? 'title' AND public.pt_text(pa->'title') IS NULL THEN
        PERFORM public.pt_fail422('title', 'must not be empty');
    END IF;
    IF pa ? 'lead_unit' THEN
        lead := public.pt_unit_ensure(public.pt_text(pa->'lead_unit'));
        IF actor->>'role' = 'editor' THEN PERFORM public.pt_check_scope(actor, lead); END IF;
    END IF;
    SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO changed FROM jsonb_object_keys(pa) k
     WHERE k IN ('title', 'body', 'lead_unit', 'co_units', 'owner', 'leader', 'start_date', 'due_date', 'tags',
                 'cadence', 'targets', 'milestones');
    BEGIN
        UPDATE public.tasks SET
            title = CASE WHEN pa ? 'title' THEN public.pt_text(pa->'title') ELSE tasks.title END,
            body = CASE WHEN pa ? 'body' THEN public.pt_text(pa->'body') ELSE tasks.body END,
            lead_unit_id = lead,
            co_unit_ids = CASE WHEN pa ? 'co_units' THEN
                    (SELECT coalesce(array_agg(public.pt_unit_ensure(n) ORDER BY k), '{}')
                       FROM unnest(public.pt_texts(pa->'co_units')) WITH ORDINALITY AS c(n, k))
                ELSE tasks.co_unit_ids END,
            owner = CASE WHEN pa ? 'owner' THEN public.pt_text(pa->'owner') ELSE tasks.owner END,
            leader = CASE WHEN pa ? 'leader' THEN public.pt_text(pa->'leader') ELSE tasks.leader END,
            start_date = CASE WHEN pa ? 'start_date' THEN nullif(pa->>'start_date', '')::date ELSE tasks.start_date END,
            due_date = CASE WHEN pa ? 'due_date' THEN nullif(pa->>'due_date', '')::date ELSE tasks.due_date END,
            tags = CASE WHEN pa ? 'tags' THEN public.pt_texts(pa->'tags') ELSE tasks.tags END,
            cadence = CASE WHEN pa ? 'cadence' THEN public.pt_text(pa->'cadence') ELSE tasks.cadence END,
            version = tasks.version + 1,
            updated_at = now()
         WHERE tasks.id = t.id;
        IF pa ? 'targets' THEN PERFORM public.pt_set_targets(t.id, pa->'targets'); END IF;
        IF pa ? 'milestones' THEN PERFORM public.pt_set_milestones(t.id, pa->'milestones'); END IF;
    EXCEPTION WHEN data_exception OR check_violation THEN
        PERFORM public.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    SELECT * INTO t FROM public.tasks WHERE id = t.id;
    PERFORM public.pt_emit('task.updated', t.plan_id, t.id,
        jsonb_build_object('changed', to_jsonb(changed), 'version', t.version, 'by', actor->>'name'));
    RETURN QUERY SELECT 200, public.pt_task_json(t, a->'cfg');
END $$;

CREATE FUNCTION public.pt_task_delete(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks := public.pt_task_find(a->>'id', true);
    n int;
BEGIN
    PERFORM public.pt_check_scope(a->'actor', t.lead_unit_id);
    PERFORM public.pt_check_version(t, a->'if_match');
    -- the task and its whole live subtree
    WITH RECURSIVE sub AS (
        SELECT t.id AS id
        UNION ALL
        SELECT c.id FROM public.tasks c JOIN sub ON c.parent_id = sub.id WHERE c.deleted_at IS NULL)
    UPDATE public.tasks x SET deleted_at = now(), updated_at = now(), version = x.version + 1
      FROM sub WHERE x.id = sub.id AND x.deleted_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM public.pt_emit('task.deleted', t.plan_id, t.id,
        jsonb_build_object('code', t.code, 'title', t.title, 'deleted', n, 'by', a->'actor'->>'name'));
    RETURN QUERY SELECT 204, NULL::jsonb;
END $$;

-- Hot path: checks as plain expressions, then four statements (update task,
-- history row, event, render); target values add one statement each.
CREATE FUNCTION public.pt_task_report(a jsonb, OUT status int, OUT body jsonb) RETURNS SETOF record
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks;
    r jsonb := coalesce(a->'report', '{}');
    actor jsonb := a->'actor';
    role text := actor->>'role';
    s_from text;
    s_to text;
    prog int;
    own boolean;
    closed timestamptz;
    p_from int;
    tg jsonb;
    i int := 0;
    u public.updates;
    seq bigint;
BEGIN
    SELECT * INTO t FROM public.tasks x WHERE x.id = public.pt_uuid(a->>'id') AND x.deleted_at IS NULL FOR UPDATE;
    IF t.id IS NULL THEN
        PERFORM public.pt_fail('PT404', 'Task not found', 'no task with id ' || coalesce(a->>'id', 'null'));
    END IF;
    IF role IS NULL OR role NOT IN ('supervisor', 'admin') THEN
        IF NOT public.pt_in_scope(actor, t.lead_unit_id) THEN
            PERFORM public.pt_check_scope(actor, t.lead_unit_id);
        END IF;
    END IF;
    IF jsonb_typeof(a->'if_match') = 'number' AND (a->>'if_match')::numeric <> t.version THEN
        PERFORM public.pt_check_version(t, a->'if_match');
    END IF;
    s_from := t.status;
    s_to := coalesce(public.pt_text(r->'status'), t.status);
    prog := t.progress;
    own := t.own_progress_reported;
    closed := t.closed_at;
    IF s_to NOT IN ('planned', 'in_progress', 'blocked', 'done', 'verified', 'cancelled') THEN
        PERFORM public.pt_fail422('status', 'is not a status');
    END IF;
    IF s_to <> s_from THEN
        IF s_to = 'verified' AND (role IS NULL OR role NOT IN ('supervisor', 'admin')) THEN
            PERFORM public.pt_fail('PT403', 'Forbidden', 'only a supervisor may verify (销号) a task');
        END IF;
        IF NOT public.pt_transition_ok(s_from, s_to) THEN
            PERFORM public.pt_fail('PT409', 'invalid status transition', s_from || ' -> ' || s_to || ' is not allowed');
        END IF;
    END IF;
    p_from := CASE WHEN own OR t.child_count = 0 THEN t.progress
                   ELSE public.pt_eff_progress(t.id, false, t.progress) END;
    IF jsonb_typeof(r->'progress') = 'number' THEN
        IF s_from IN ('verified', 'cancelled') AND s_to = s_from THEN
            PERFORM public.pt_fail('PT409', 'task is closed', 'a ' || s_from || ' task''s progress cannot change');
        END IF;
        IF (r->>'progress')::numeric NOT BETWEEN 0 AND 100 THEN
            PERFORM public.pt_fail422('progress', 'must be from 0 to 100');
        END IF;
        prog := round((r->>'progress')::numeric);
        own := true;
    END IF;
    IF s_to <> s_from THEN
        IF s_to IN ('done', 'verified') THEN
            prog := 100;
            own := true;
            closed := coalesce(closed, now());
        ELSIF s_to = 'cancelled' THEN
            closed := now();
        ELSE
            closed := NULL;  -- reopened
        END IF;
    END IF;
    IF jsonb_typeof(r->'targets') = 'array' THEN
        FOR tg IN SELECT e FROM jsonb_array_elements(r->'targets') e LOOP
            UPDATE public.targets g SET current = (tg->>'current')::numeric
             WHERE g.id = public.pt_uuid(tg->>'id') AND g.task_id = t.id;
            IF NOT FOUND THEN
                PERFORM public.pt_fail422('targets[' || i || '].id', 'is not a target of this task');
            END IF;
            i := i + 1;
        END LOOP;
    END IF;
    UPDATE public.tasks x SET status = s_to, progress = prog, own_progress_reported = own, closed_at = closed,
           version = x.version + 1, updated_at = now()
     WHERE x.id = t.id
    RETURNING * INTO t;
    INSERT INTO public.updates (task_id, author, token_id, status_from, status_to, progress_from, progress,
                                targets, note, problems, next_steps, idempotency_key)
    VALUES (t.id, coalesce(actor->>'name', 'unknown'), public.pt_uuid(actor->>'token_id'),
            s_from, s_to, p_from, CASE WHEN own THEN prog ELSE p_from END,
            CASE WHEN jsonb_typeof(r->'targets') = 'array' THEN r->'targets' ELSE '[]' END,
            r->>'note', r->>'problems', r->>'next_steps', a->>'idempotency_key')
    RETURNING * INTO u;
    seq := public.pt_emit('task.reported', t.plan_id, t.id,
        jsonb_build_object('update_id', u.id, 'status_from', u.status_from, 'status_to', u.status_to,
                           'progress_from', u.progress_from, 'progress', u.progress, 'version', t.version,
                           'by', u.author));
    status := 201;
    body := jsonb_build_object('update', public.pt_update_json(u), 'task', public.pt_task_json(t, a->'cfg'));
    RETURN NEXT;
END $$;

CREATE FUNCTION public.pt_task_updates(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t public.tasks := public.pt_task_find(a->>'id', false);
    lim int := public.pt_limit(a);
    cur record := public.pt_parse_ts_cursor(a->>'cursor');
    items jsonb[] := '{}';
    n int := 0;
    u public.updates;
    last public.updates;
BEGIN
    FOR u IN SELECT * FROM public.updates
              WHERE task_id = t.id AND (cur.t IS NULL OR (at, id) < (cur.t, cur.id))
              ORDER BY at DESC, id DESC LIMIT lim + 1 LOOP
        n := n + 1;
        EXIT WHEN n > lim;
        items := items || public.pt_update_json(u);
        last := u;
    END LOOP;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(to_jsonb(items), '[]'),
        'next_cursor', CASE WHEN n > lim THEN public.pt_ts_cursor(last.at, last.id) END);
END $$;

---------------------------------------------------------------------------
-- change feed
---------------------------------------------------------------------------

CREATE FUNCTION public.pt_events_after(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    after bigint := greatest(coalesce((a->>'after')::bigint, 0), 0);
    lim int := public.pt_limit(a);
    evs jsonb;
    last bigint;
BEGIN
    SELECT coalesce(jsonb_agg(public.pt_event_json(e) ORDER BY e.seq), '[]'), max(e.seq) INTO evs, last
      FROM (SELECT * FROM public.events WHERE seq > after ORDER BY seq LIMIT lim) e;
    RETURN QUERY SELECT 200, jsonb_build_object('events', evs, 'next_after', coalesce(last, after));
END $$;

---------------------------------------------------------------------------
-- idempotency
---------------------------------------------------------------------------

CREATE FUNCTION public.pt_idem_gc() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    DELETE FROM public.idempotency_keys WHERE created_at < now() - interval '48 hours';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- Run fn(a) once per (token, key); replay the stored answer afterwards.
CREATE FUNCTION public.pt_idem(token uuid, key text, req_hash text, fn text, a jsonb)
RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    tok uuid := coalesce(token, '00000000-0000-0000-0000-000000000000'::uuid);
    k public.idempotency_keys;
    st int;
    bd jsonb;
BEGIN
    IF fn IS NULL OR fn !~ '^pt_[a-z_]+$' OR fn IN ('pt_idem', 'pt_idem_gc')
       OR to_regprocedure('public.' || fn || '(jsonb)') IS NULL THEN
        RAISE EXCEPTION 'pt_idem: % is not an API function', fn;
    END IF;
    IF key IS NULL OR length(key) NOT BETWEEN 1 AND 255 THEN
        PERFORM public.pt_fail('PT400', 'Invalid Idempotency-Key', 'the key must be 1 to 255 characters');
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtextextended(tok::text || '/' || key, 0)) THEN
        PERFORM public.pt_fail('PT409', 'Request in progress',
            'a request with this Idempotency-Key is still being processed; retry later');
    END IF;
    SELECT * INTO k FROM public.idempotency_keys i WHERE i.token_id = tok AND i.key = pt_idem.key;
    IF FOUND AND k.created_at < now() - interval '48 hours' THEN
        DELETE FROM public.idempotency_keys i WHERE i.token_id = tok AND i.key = pt_idem.key;
        k := NULL;
    END IF;
    IF k.token_id IS NOT NULL THEN
        IF k.req_hash IS DISTINCT FROM req_hash OR k.fn IS DISTINCT FROM fn THEN
            PERFORM public.pt_fail('PT422', 'Idempotency-Key reused',
                'this Idempotency-Key was used with a different request',
                jsonb_build_array(jsonb_build_object('field', 'Idempotency-Key',
                                                     'message', 'already used with a different request')));
        END IF;
        RETURN QUERY SELECT k.status, k.body;
        RETURN;
    END IF;
    EXECUTE format('SELECT status, body FROM public.%I($1)', fn)
       INTO st, bd USING coalesce(a, '{}') || jsonb_build_object('idempotency_key', key);
    INSERT INTO public.idempotency_keys (token_id, key, req_hash, fn, status, body)
    VALUES (tok, key, coalesce(req_hash, ''), fn, st, bd);
    IF random() < 0.001 THEN PERFORM public.pt_idem_gc(); END IF;
    RETURN QUERY SELECT st, bd;
END $$;

---------------------------------------------------------------------------
-- tokens
---------------------------------------------------------------------------

CREATE FUNCTION public.pt_token_json(k public.api_tokens) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', k.id, 'name', k.name, 'role', k.role, 'unit', public.pt_unit_name(k.unit_id),
        'created_at', public.pt_ts(k.created_at), 'revoked_at', public.pt_ts(k.revoked_at),
        'last_used_at', public.pt_ts(k.last_used_at))
$$;

CREATE FUNCTION public.pt_token_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    k public.api_tokens;
    role text := public.pt_text(a->'role');
BEGIN
    IF public.pt_text(a->'name') IS NULL THEN PERFORM public.pt_fail422('name', 'is required'); END IF;
    IF role IS NULL OR role NOT IN ('viewer', 'editor', 'supervisor', 'admin') THEN
        PERFORM public.pt_fail422('role', 'must be viewer, editor, supervisor or admin');
    END IF;
    IF a->>'token_sha256' IS NULL OR a->>'token_sha256' !~ '^[0-9a-f]{64}$' THEN
        PERFORM public.pt_fail422('token_sha256', 'must be 64 lowercase hex digits');
    END IF;
    INSERT INTO public.api_tokens (name, role, unit_id, token_sha256)
    VALUES (public.pt_text(a->'name'), role, public.pt_unit_ensure(public.pt_text(a->'unit')), a->>'token_sha256')
    RETURNING * INTO k;
    RETURN QUERY SELECT 201, jsonb_build_object('id', k.id, 'name', k.name, 'role', k.role,
        'unit', public.pt_unit_name(k.unit_id), 'created_at', public.pt_ts(k.created_at));
END $$;

-- The live token with this hash; notes its use at most every 5 minutes.
CREATE FUNCTION public.pt_token_lookup(hash text)
RETURNS TABLE(id uuid, name text, role text, unit_id uuid)
LANGUAGE plpgsql AS $$
DECLARE k public.api_tokens;
BEGIN
    SELECT * INTO k FROM public.api_tokens t WHERE t.token_sha256 = lower(hash) AND t.revoked_at IS NULL;
    IF NOT FOUND THEN RETURN; END IF;
    IF k.last_used_at IS NULL OR k.last_used_at < now() - interval '5 minutes' THEN
        UPDATE public.api_tokens t SET last_used_at = now()
         WHERE t.id = (SELECT x.id FROM public.api_tokens x WHERE x.id = k.id FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN QUERY SELECT k.id, k.name, k.role, k.unit_id;
END $$;

CREATE FUNCTION public.pt_tokens_list(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := public.pt_limit(a);
    cur record := public.pt_parse_ts_cursor(a->>'cursor');
    items jsonb[] := '{}';
    n int := 0;
    k public.api_tokens;
    last public.api_tokens;
BEGIN
    FOR k IN SELECT * FROM public.api_tokens t
              WHERE cur.t IS NULL OR (t.created_at, t.id) < (cur.t, cur.id)
              ORDER BY t.created_at DESC, t.id DESC LIMIT lim + 1 LOOP
        n := n + 1;
        EXIT WHEN n > lim;
        items := items || public.pt_token_json(k);
        last := k;
    END LOOP;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(to_jsonb(items), '[]'),
        'next_cursor', CASE WHEN n > lim THEN public.pt_ts_cursor(last.created_at, last.id) END);
END $$;

CREATE FUNCTION public.pt_token_revoke(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = public.pt_uuid(a->>'id');
    IF NOT FOUND THEN
        PERFORM public.pt_fail('PT404', 'Token not found', 'no token with id ' || coalesce(a->>'id', 'null'));
    END IF;
    RETURN QUERY SELECT 204, NULL::jsonb;
END $$;
