-- sql/api/50_tasks.sql - tasks: find, get, list, create, import, patch, delete, report, history.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

---------------------------------------------------------------------------
-- tasks
---------------------------------------------------------------------------

-- The live task with id, locked for update when lock; PT404 otherwise.
CREATE FUNCTION api.pt_task_find(id text, lock boolean) RETURNS public.tasks
LANGUAGE plpgsql AS $$
DECLARE t public.tasks;
BEGIN
    IF lock THEN
        SELECT * INTO t FROM public.tasks WHERE tasks.id = api.pt_uuid(pt_task_find.id) AND deleted_at IS NULL
           FOR UPDATE;
    ELSE
        SELECT * INTO t FROM public.tasks WHERE tasks.id = api.pt_uuid(pt_task_find.id) AND deleted_at IS NULL;
    END IF;
    IF t.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Task not found', 'no task with id ' || coalesce(id, 'null'));
    END IF;
    RETURN t;
END $$;

CREATE FUNCTION api.pt_check_version(t public.tasks, if_match jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF jsonb_typeof(if_match) = 'number' AND (if_match #>> '{}')::numeric <> t.version THEN
        PERFORM api.pt_fail('PT412', 'Precondition failed',
            format('the task is at version %s, not %s', t.version, if_match #>> '{}'),
            jsonb_build_object('rule', 'version', 'params', jsonb_build_object('resource', 'task', 'version', t.version)));
    END IF;
END $$;

CREATE FUNCTION api.pt_task_get(a jsonb, OUT status int, OUT body jsonb) RETURNS SETOF record
LANGUAGE plpgsql STABLE AS $$
DECLARE t public.tasks;
BEGIN
    SELECT * INTO t FROM public.tasks x WHERE x.id = api.pt_uuid(a->>'id') AND x.deleted_at IS NULL;
    IF t.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Task not found', 'no task with id ' || coalesce(a->>'id', 'null'));
    END IF;
    status := 200;
    body := api.pt_task_json(t, a->'cfg');
    RETURN NEXT;
END $$;

CREATE FUNCTION api.pt_tasks_list(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    cfg jsonb := a->'cfg';
    lim int := api.pt_limit(a);
    plan uuid;
    parent uuid;
    st text := api.pt_text(a->'status');
    li text := api.pt_text(a->'light');
    units uuid[];
    dbefore date;
    dafter date;
    q text := api.pt_text(a->'q');
    cur bigint;
    sql text := 'SELECT * FROM public.tasks t WHERE t.deleted_at IS NULL';
    t public.tasks;
    items jsonb[] := '{}';
    n int := 0;
    last bigint;
BEGIN
    IF a ? 'plan' AND a->>'plan' IS NOT NULL THEN
        plan := api.pt_uuid(a->>'plan');
        IF plan IS NULL THEN PERFORM api.pt_fail422('plan', 'must be a plan id'); END IF;
        sql := sql || ' AND t.plan_id = $1';
    END IF;
    IF a ? 'parent' AND a->>'parent' IS NOT NULL THEN
        parent := api.pt_uuid(a->>'parent');
        IF parent IS NULL THEN PERFORM api.pt_fail422('parent', 'must be a task id'); END IF;
        sql := sql || ' AND t.parent_id = $2';
    END IF;
    IF st IS NOT NULL THEN sql := sql || ' AND t.status = $3'; END IF;
    IF api.pt_text(a->'unit') IS NOT NULL THEN
        SELECT api.pt_unit_subtree(coalesce(array_agg(id), '{}')) INTO units FROM public.units
         WHERE id = api.pt_uuid(a->>'unit') OR name = btrim(a->>'unit');
        sql := sql || ' AND t.lead_unit_id = ANY ($4)';
    END IF;
    BEGIN
        dbefore := nullif(a->>'due_before', '')::date;
        dafter := nullif(a->>'due_after', '')::date;
    EXCEPTION WHEN data_exception THEN
        PERFORM api.pt_fail422('due_before', 'must be a date YYYY-MM-DD');
    END;
    IF dbefore IS NOT NULL THEN sql := sql || ' AND t.due_date <= $6'; END IF;
    IF dafter IS NOT NULL THEN sql := sql || ' AND t.due_date >= $7'; END IF;
    IF q IS NOT NULL THEN
        q := '%' || replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%';
        sql := sql || ' AND (t.title ILIKE $8 OR t.body ILIKE $8)';
    END IF;
    IF a->>'cursor' IS NOT NULL THEN
        IF a->>'cursor' !~ '^[0-9]{1,18}$' THEN PERFORM api.pt_fail422('cursor', 'is not a cursor from this API'); END IF;
        cur := (a->>'cursor')::bigint;
        sql := sql || ' AND t.ord > $9';
    END IF;
    IF li IS NOT NULL THEN sql := sql || ' AND api.pt_task_light(t, $10) = $5'; END IF;
    sql := sql || ' ORDER BY t.ord LIMIT $11';
    FOR t IN EXECUTE sql USING plan, parent, st, units, li, dbefore, dafter, q, cur, cfg, lim + 1 LOOP
        n := n + 1;
        EXIT WHEN n > lim;
        items := items || api.pt_task_json(t, cfg);
        last := t.ord;
    END LOOP;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(to_jsonb(items), '[]'),
        'next_cursor', CASE WHEN n > lim THEN last::text END);
END $$;

CREATE FUNCTION api.pt_task_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    tin jsonb := coalesce(a->'task', '{}');
    p public.plans;
    par public.tasks;
    ids uuid[] := '{}';
    i int;
    t public.tasks;
BEGIN
    SELECT * INTO p FROM public.plans WHERE id = api.pt_uuid(tin->>'plan_id') AND deleted_at IS NULL;
    IF p.id IS NULL THEN PERFORM api.pt_fail422('plan_id', 'is not a plan'); END IF;
    IF tin->>'parent_id' IS NOT NULL THEN
        SELECT * INTO par FROM public.tasks
         WHERE id = api.pt_uuid(tin->>'parent_id') AND plan_id = p.id AND deleted_at IS NULL;
        IF par.id IS NULL THEN PERFORM api.pt_fail422('parent_id', 'is not a task of this plan'); END IF;
    END IF;
    BEGIN
        ids := api.pt_tasks_insert(p.id, par.id, par.code, jsonb_build_array(tin - 'plan_id' - 'parent_id'),
                                      api.pt_next_pos(p.id, par.id), a->'actor', 'task', ids);
    EXCEPTION WHEN data_exception THEN
        PERFORM api.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    PERFORM api.pt_emit_created(ids);
    SELECT * INTO t FROM public.tasks WHERE id = ids[1];
    RETURN QUERY SELECT 201, api.pt_task_json(t, a->'cfg');
END $$;

CREATE FUNCTION api.pt_tasks_import(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    p public.plans;
    par public.tasks;
    ids uuid[] := '{}';
BEGIN
    SELECT * INTO p FROM public.plans WHERE id = api.pt_uuid(a->>'plan_id') AND deleted_at IS NULL;
    IF p.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Plan not found', 'no plan with id ' || coalesce(a->>'plan_id', 'null'));
    END IF;
    IF a->>'parent_id' IS NOT NULL THEN
        SELECT * INTO par FROM public.tasks
         WHERE id = api.pt_uuid(a->>'parent_id') AND plan_id = p.id AND deleted_at IS NULL;
        IF par.id IS NULL THEN PERFORM api.pt_fail422('parent', 'is not a task of this plan'); END IF;
        IF a->'actor'->>'role' = 'editor' THEN PERFORM api.pt_check_scope(a->'actor', par.lead_unit_id); END IF;
    END IF;
    BEGIN
        ids := api.pt_tasks_insert(p.id, par.id, par.code, a->'tasks', api.pt_next_pos(p.id, par.id),
                                      a->'actor', 'tasks', ids);
    EXCEPTION WHEN data_exception THEN
        PERFORM api.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    PERFORM api.pt_emit_created(ids);
    RETURN QUERY SELECT 201, jsonb_build_object('plan_id', p.id, 'parent_id', par.id,
        'created', cardinality(ids),
        'items', (SELECT coalesce(jsonb_agg(api.pt_task_json(t, a->'cfg') ORDER BY t.ord), '[]')
                    FROM public.tasks t WHERE t.id = ANY (ids)));
END $$;

CREATE FUNCTION api.pt_task_patch(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks := api.pt_task_find(a->>'id', true);
    pa jsonb := coalesce(a->'patch', '{}');
    actor jsonb := a->'actor';
    lead uuid := t.lead_unit_id;
    changed text[];
BEGIN
    PERFORM api.pt_check_scope(actor, t.lead_unit_id);
    PERFORM api.pt_check_version(t, a->'if_match');
    IF pa ? 'title' AND api.pt_text(pa->'title') IS NULL THEN
        PERFORM api.pt_fail422('title', 'must not be empty');
    END IF;
    IF pa ? 'lead_unit' THEN
        lead := api.pt_unit_for(actor, api.pt_text(pa->'lead_unit'), 'lead_unit');
        IF actor->>'role' = 'editor' THEN PERFORM api.pt_check_scope(actor, lead); END IF;
    END IF;
    SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO changed FROM jsonb_object_keys(pa) k
     WHERE k IN ('title', 'body', 'lead_unit', 'co_units', 'owner', 'leader', 'start_date', 'due_date', 'tags',
                 'cadence', 'targets', 'milestones');
    BEGIN
        UPDATE public.tasks SET
            title = CASE WHEN pa ? 'title' THEN api.pt_text(pa->'title') ELSE tasks.title END,
            body = CASE WHEN pa ? 'body' THEN api.pt_text(pa->'body') ELSE tasks.body END,
            lead_unit_id = lead,
            co_unit_ids = CASE WHEN pa ? 'co_units' THEN
                    (SELECT coalesce(array_agg(api.pt_unit_for(actor, n, 'co_units') ORDER BY k), '{}')
                       FROM unnest(api.pt_texts(pa->'co_units')) WITH ORDINALITY AS c(n, k))
                ELSE tasks.co_unit_ids END,
            owner = CASE WHEN pa ? 'owner' THEN api.pt_text(pa->'owner') ELSE tasks.owner END,
            leader = CASE WHEN pa ? 'leader' THEN api.pt_text(pa->'leader') ELSE tasks.leader END,
            start_date = CASE WHEN pa ? 'start_date' THEN nullif(pa->>'start_date', '')::date ELSE tasks.start_date END,
            due_date = CASE WHEN pa ? 'due_date' THEN nullif(pa->>'due_date', '')::date ELSE tasks.due_date END,
            tags = CASE WHEN pa ? 'tags' THEN api.pt_texts(pa->'tags') ELSE tasks.tags END,
            cadence = CASE WHEN pa ? 'cadence' THEN api.pt_text(pa->'cadence') ELSE tasks.cadence END,
            version = tasks.version + 1,
            updated_at = now()
         WHERE tasks.id = t.id;
        IF pa ? 'targets' THEN PERFORM api.pt_set_targets(t.id, pa->'targets'); END IF;
        IF pa ? 'milestones' THEN PERFORM api.pt_set_milestones(t.id, pa->'milestones'); END IF;
    EXCEPTION WHEN data_exception OR check_violation THEN
        PERFORM api.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    SELECT * INTO t FROM public.tasks WHERE id = t.id;
    PERFORM api.pt_emit('task.updated', t.plan_id, t.id,
        jsonb_build_object('changed', to_jsonb(changed), 'version', t.version, 'by', actor->>'name'));
    RETURN QUERY SELECT 200, api.pt_task_json(t, a->'cfg');
END $$;

CREATE FUNCTION api.pt_task_delete(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks := api.pt_task_find(a->>'id', true);
    n int;
BEGIN
    PERFORM api.pt_check_scope(a->'actor', t.lead_unit_id);
    PERFORM api.pt_check_version(t, a->'if_match');
    -- the task and its whole live subtree
    WITH RECURSIVE sub AS (
        SELECT t.id AS id
        UNION ALL
        SELECT c.id FROM public.tasks c JOIN sub ON c.parent_id = sub.id WHERE c.deleted_at IS NULL)
    UPDATE public.tasks x SET deleted_at = now(), updated_at = now(), version = x.version + 1
      FROM sub WHERE x.id = sub.id AND x.deleted_at IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM api.pt_emit('task.deleted', t.plan_id, t.id,
        jsonb_build_object('code', t.code, 'title', t.title, 'deleted', n, 'by', a->'actor'->>'name'));
    RETURN QUERY SELECT 204, NULL::jsonb;
END $$;

-- Hot path: checks as plain expressions, then four statements (update task,
-- history row, event, render); target values add one statement each.
CREATE FUNCTION api.pt_task_report(a jsonb, OUT status int, OUT body jsonb) RETURNS SETOF record
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
    SELECT * INTO t FROM public.tasks x WHERE x.id = api.pt_uuid(a->>'id') AND x.deleted_at IS NULL FOR UPDATE;
    IF t.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Task not found', 'no task with id ' || coalesce(a->>'id', 'null'));
    END IF;
    IF role IS NULL OR role NOT IN ('supervisor', 'admin') THEN
        IF NOT api.pt_in_scope(actor, t.lead_unit_id) THEN
            PERFORM api.pt_check_scope(actor, t.lead_unit_id);
        END IF;
    END IF;
    IF jsonb_typeof(a->'if_match') = 'number' AND (a->>'if_match')::numeric <> t.version THEN
        PERFORM api.pt_check_version(t, a->'if_match');
    END IF;
    s_from := t.status;
    s_to := coalesce(api.pt_text(r->'status'), t.status);
    prog := t.progress;
    own := t.own_progress_reported;
    closed := t.closed_at;
    IF s_to NOT IN ('planned', 'in_progress', 'blocked', 'done', 'verified', 'cancelled') THEN
        PERFORM api.pt_fail422('status', 'is not a status');
    END IF;
    IF s_to <> s_from THEN
        IF s_to = 'verified' AND (role IS NULL OR role NOT IN ('supervisor', 'admin')) THEN
            PERFORM api.pt_fail('PT403', 'Forbidden', 'only a supervisor may verify (销号) a task',
                '{"rule": "role", "params": {"role": "supervisor"}}');
        END IF;
        IF NOT api.pt_transition_ok(s_from, s_to) THEN
            PERFORM api.pt_fail('PT409', 'invalid status transition', s_from || ' -> ' || s_to || ' is not allowed',
                jsonb_build_object('rule', 'states', 'params', jsonb_build_object('from', s_from, 'to', s_to)));
        END IF;
    END IF;
    p_from := CASE WHEN own OR t.child_count = 0 THEN t.progress
                   ELSE api.pt_eff_progress(t.id, false, t.progress) END;
    IF jsonb_typeof(r->'progress') = 'number' THEN
        IF s_from IN ('verified', 'cancelled') AND s_to = s_from THEN
            PERFORM api.pt_fail('PT409', 'task is closed', 'a ' || s_from || ' task''s progress cannot change',
                jsonb_build_object('rule', 'closed', 'params', jsonb_build_object('status', s_from)));
        END IF;
        IF (r->>'progress')::numeric NOT BETWEEN 0 AND 100 THEN
            PERFORM api.pt_fail422('progress', 'must be from 0 to 100');
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
             WHERE g.id = api.pt_uuid(tg->>'id') AND g.task_id = t.id;
            IF NOT FOUND THEN
                PERFORM api.pt_fail422('targets[' || i || '].id', 'is not a target of this task');
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
    VALUES (t.id, coalesce(actor->>'name', 'unknown'), api.pt_uuid(actor->>'token_id'),
            s_from, s_to, p_from, CASE WHEN own THEN prog ELSE p_from END,
            CASE WHEN jsonb_typeof(r->'targets') = 'array' THEN r->'targets' ELSE '[]' END,
            r->>'note', r->>'problems', r->>'next_steps', a->>'idempotency_key')
    RETURNING * INTO u;
    seq := api.pt_emit('task.reported', t.plan_id, t.id,
        jsonb_build_object('update_id', u.id, 'status_from', u.status_from, 'status_to', u.status_to,
                           'progress_from', u.progress_from, 'progress', u.progress, 'version', t.version,
                           'by', u.author));
    status := 201;
    body := jsonb_build_object('update', api.pt_update_json(u), 'task', api.pt_task_json(t, a->'cfg'));
    RETURN NEXT;
END $$;

CREATE FUNCTION api.pt_task_updates(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t public.tasks := api.pt_task_find(a->>'id', false);
    lim int := api.pt_limit(a);
    cur record := api.pt_parse_ts_cursor(a->>'cursor');
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
        items := items || api.pt_update_json(u);
        last := u;
    END LOOP;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(to_jsonb(items), '[]'),
        'next_cursor', CASE WHEN n > lim THEN api.pt_ts_cursor(last.at, last.id) END);
END $$;
