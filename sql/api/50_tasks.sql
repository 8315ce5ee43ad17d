-- sql/api/50_tasks.sql - tasks: find, get, list, create, import, patch, delete, report, history.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

---------------------------------------------------------------------------
-- tasks
---------------------------------------------------------------------------

-- Whether the plan is (soft) deleted: its tasks answer 404 like it (issue 12).
CREATE FUNCTION api.pt_plan_deleted(plan uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM public.plans p WHERE p.id = plan AND p.deleted_at IS NOT NULL)
$$;

-- The live task with id (of a live plan), locked for update when lock; PT404 otherwise.
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
    IF t.id IS NULL OR api.pt_plan_deleted(t.plan_id) THEN
        PERFORM api.pt_fail('PT404', 'Task not found', 'no task with id ' || coalesce(id, 'null'));
    END IF;
    RETURN t;
END $$;

CREATE FUNCTION api.pt_check_version(t public.tasks, if_match jsonb) RETURNS void
LANGUAGE sql IMMUTABLE AS $$
    SELECT api.pt_check_if_match('task', t.version, if_match)
$$;

-- {cfg, id}: the task evaluated on cfg's day; with cfg.as_of, as it was at the
-- end of that day (PT404 when it did not exist then; PT422 as_of before the plan).
CREATE FUNCTION api.pt_task_get(a jsonb, OUT status int, OUT body jsonb) RETURNS SETOF record
LANGUAGE plpgsql STABLE AS $$
DECLARE
    t public.tasks;
    p public.plans;
    cfg jsonb := a->'cfg';
BEGIN
    IF api.pt_as_of(cfg) IS NULL THEN
        SELECT * INTO t FROM public.tasks x WHERE x.id = api.pt_uuid(a->>'id') AND x.deleted_at IS NULL;
    ELSE
        SELECT * INTO t FROM public.tasks x WHERE x.id = api.pt_uuid(a->>'id');
    END IF;
    IF t.id IS NULL OR api.pt_plan_deleted(t.plan_id) THEN
        PERFORM api.pt_fail('PT404', 'Task not found', 'no task with id ' || coalesce(a->>'id', 'null'));
    END IF;
    SELECT * INTO p FROM public.plans x WHERE x.id = t.plan_id;
    PERFORM api.pt_check_as_of(p, cfg);
    status := 200;
    body := api.pt_task_json(t, cfg);
    IF body IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Task not found', format('task %s did not exist on %s', t.id, api.pt_as_of(cfg)));
    END IF;
    RETURN NEXT;
END $$;

-- {cfg, plan?, parent?, status?, light?, unit?, due_before?, due_after?, q?, limit, cursor?}:
-- filters on the rows (as of cfg.as_of, from the journal, when given), lights and
-- progress from one evaluation per plan met; only the page is rendered. Live
-- leaves need no evaluation of their plan (pt_leaves_ev, the rules of pt_eval); with
-- as_of and a plan the rows come from that plan's one evaluation (the journal
-- is read once).
-- (generic plans for every statement run inside, the evaluation's too: custom
-- plans planned its inlined expressions again on every call)
CREATE FUNCTION api.pt_tasks_list(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    cfg jsonb := a->'cfg';
    cut timestamptz := api.pt_cutoff(cfg);
    asof date := api.pt_as_of(cfg);
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
    sql text;
    t public.tasks;
    n int := 0;
    last bigint;
    pl public.plans;
    evs api.pt_ev[] := '{}';   -- the evaluations of the plans met, concatenated
    idx jsonb := '{}';         -- task id -> position in evs
    seen jsonb := '{}';        -- plans evaluated
    ev api.pt_ev;
    page api.pt_ev[] := '{}';
    items jsonb;
    hidden uuid[];
BEGIN
    IF a ? 'plan' AND a->>'plan' IS NOT NULL THEN
        plan := api.pt_uuid(a->>'plan');
        IF plan IS NULL THEN PERFORM api.pt_fail422('plan', 'must be a plan id'); END IF;
        SELECT * INTO pl FROM public.plans x WHERE x.id = plan;
        IF pl.id IS NOT NULL THEN PERFORM api.pt_check_as_of(pl, cfg); END IF;
    END IF;
    IF cut IS NULL THEN
        sql := 'SELECT * FROM public.tasks t WHERE t.deleted_at IS NULL';
    ELSIF plan IS NOT NULL THEN
        -- the plan evaluated once: its rows are the rows as of the day
        IF pl.id IS NOT NULL AND pl.deleted_at IS NULL THEN
            evs := ARRAY(SELECT e FROM api.pt_eval(plan, cfg) e);
            SELECT coalesce(jsonb_object_agg((evs[i].t).id, i), '{}') INTO idx FROM generate_subscripts(evs, 1) i;
            seen := jsonb_build_object(plan::text, true);
        END IF;
        sql := 'SELECT (e.t).* FROM unnest($14::api.pt_ev[]) e WHERE true';
    ELSE
        sql := 'SELECT t.* FROM public.plans p CROSS JOIN LATERAL api.pt_tasks_at(p.id, $12) t'
            || ' WHERE p.deleted_at IS NULL AND least(make_date(coalesce(p.year, 9999), 1, 1),'
            || ' (p.created_at AT TIME ZONE api.pt_tz($10))::date) <= $13';
    END IF;
    sql := 'SELECT * FROM (' || sql || ') t WHERE true';
    IF plan IS NOT NULL THEN sql := sql || ' AND t.plan_id = $1'; END IF;
    -- deleted plans never; archived ones when the plan is named or archived=true
    -- (the few hidden plans' ids, once: no per-row look-up)
    SELECT coalesce(array_agg(x.id), '{}') INTO hidden FROM public.plans x
     WHERE x.deleted_at IS NOT NULL
        OR (x.archived_at IS NOT NULL AND NOT (a->>'plan' IS NOT NULL OR coalesce((a->>'archived')::boolean, false)));
    IF cardinality(hidden) > 0 THEN sql := sql || ' AND NOT (t.plan_id = ANY ($15))'; END IF;
    IF a ? 'parent' AND a->>'parent' IS NOT NULL THEN
        parent := api.pt_uuid(a->>'parent');
        IF parent IS NULL THEN PERFORM api.pt_fail422('parent', 'must be a task id'); END IF;
        sql := sql || ' AND t.parent_id = $2';
    END IF;
    IF st IS NOT NULL THEN sql := sql || ' AND t.status = $3'; END IF;
    IF api.pt_text(a->'unit') IS NOT NULL THEN
        SELECT api.pt_unit_subtree(coalesce(array_agg(id), '{}')) INTO units FROM public.units
         WHERE id = api.pt_uuid(a->>'unit') OR name = btrim(a->>'unit');
        -- role: lead (牵头, the default), co (配合) or any
        sql := sql || CASE coalesce(api.pt_text(a->'role'), 'lead')
            WHEN 'co' THEN ' AND t.co_unit_ids && $4'
            WHEN 'any' THEN ' AND (t.lead_unit_id = ANY ($4) OR t.co_unit_ids && $4)'
            ELSE ' AND t.lead_unit_id = ANY ($4)' END;
    END IF;
    -- unsigned: assigned and not signed for within cfg.sign_days working days
    IF coalesce((a->>'unsigned')::boolean, false) THEN
        sql := sql || ' AND t.status = ''assigned'' AND api.pt_workdays_after((t.assigned_at AT TIME ZONE ''UTC'')::date,'
                   || ' api.pt_today($10)) >= coalesce(($10->>''sign_days'')::int, 3)';
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
    sql := sql || ' ORDER BY t.ord';
    IF li IS NULL THEN sql := sql || ' LIMIT $11'; END IF;
    FOR t IN EXECUTE sql USING plan, parent, st, units, li, dbefore, dafter, q, cur, cfg, lim + 1, cut, asof, evs, hidden LOOP
        IF cut IS NULL AND li IS NULL AND t.child_count = 0 THEN
            -- a live leaf: evaluated with the page's other leaves below (depth NULL until then)
            ev := ROW(t, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                      NULL, NULL, NULL, NULL, NULL, NULL, NULL)::api.pt_ev;
        ELSE
            IF NOT seen ? t.plan_id::text THEN
                SELECT coalesce(idx || jsonb_object_agg((x.e).t.id, cardinality(evs) + x.i), idx),
                       evs || coalesce(array_agg(x.e ORDER BY x.i), '{}')
                  INTO idx, evs
                  FROM (SELECT e, row_number() OVER () AS i FROM api.pt_eval(t.plan_id, cfg) e) x;
                seen := seen || jsonb_build_object(t.plan_id::text, true);
            END IF;
            CONTINUE WHEN NOT idx ? t.id::text;
            ev := evs[(idx->>t.id::text)::int];
            CONTINUE WHEN li IS NOT NULL AND ev.light IS DISTINCT FROM li;
        END IF;
        n := n + 1;
        EXIT WHEN n > lim;
        page := page || ev;
        last := t.ord;
    END LOOP;
    -- the page's documents, with their targets and milestones as of the same moment
    WITH pg AS (SELECT i, page[i] AS e FROM generate_subscripts(page, 1) i),
    lf AS (SELECT l FROM api.pt_leaves_ev(ARRAY(SELECT (pg.e).t.id FROM pg WHERE (pg.e).depth IS NULL), cfg) l),
    p AS (SELECT pg.i, CASE WHEN (pg.e).depth IS NULL THEN lf.l ELSE pg.e END AS e
            FROM pg LEFT JOIN lf ON (pg.e).depth IS NULL AND (lf.l).t.id = (pg.e).t.id),
    ids AS (SELECT (p.e).t.plan_id AS plan, array_agg((p.e).t.id) AS a FROM p GROUP BY 1),
    g AS (SELECT g.task_id, jsonb_agg(jsonb_build_object('id', g.id, 'label', g.label, 'value', g.value,
                   'unit', g.unit, 'comparator', g.comparator, 'current', g.current, 'baseline', g.baseline,
                   'text', g.text, 'verb', g.verb, 'strive', coalesce(g.strive, false)) ORDER BY g.ord, g.id) AS list
            FROM ids, api.pt_targets_at(ids.plan, api.pt_state_cut(ids.plan, cut), ids.a) g GROUP BY g.task_id),
    m AS (SELECT m.task_id, jsonb_agg(jsonb_build_object('id', m.id, 'title', m.title,
                   'due_date', m.due_date, 'done_at', api.pt_ts(m.done_at), 'target', m.target) ORDER BY m.ord, m.id) AS list
            FROM ids, api.pt_milestones_at(ids.plan, api.pt_state_cut(ids.plan, cut), ids.a) m GROUP BY m.task_id)
    SELECT jsonb_agg(api.pt_ev_doc(p.e, g.list, m.list) ORDER BY p.i) INTO items
      FROM p LEFT JOIN g ON g.task_id = (p.e).t.id LEFT JOIN m ON m.task_id = (p.e).t.id;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(items, '[]'),
        'next_cursor', CASE WHEN n > lim THEN last::text END, 'as_of', api.pt_today(cfg));
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
    PERFORM api.pt_actor_begin(a);
    SELECT * INTO p FROM public.plans WHERE id = api.pt_uuid(tin->>'plan_id') AND deleted_at IS NULL;
    IF p.id IS NULL THEN PERFORM api.pt_fail422('plan_id', 'is not a plan'); END IF;
    IF tin->>'parent_id' IS NOT NULL THEN
        SELECT * INTO par FROM public.tasks
         WHERE id = api.pt_uuid(tin->>'parent_id') AND plan_id = p.id AND deleted_at IS NULL;
        IF par.id IS NULL THEN PERFORM api.pt_fail422('parent_id', 'is not a task of this plan'); END IF;
    END IF;
    BEGIN
        ids := api.pt_tasks_insert(p.id, par.id, par.code, jsonb_build_array(tin - 'plan_id' - 'parent_id'),
                                      api.pt_next_pos(p.id, par.id), a->'actor', 'task', ids, 0, a->'cfg');
    EXCEPTION WHEN data_exception THEN
        PERFORM api.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    PERFORM api.pt_emit_created(ids);
    SELECT * INTO t FROM public.tasks WHERE id = ids[1];
    RETURN QUERY SELECT 201, api.pt_task_json(t, a->'cfg');
END $$;

-- jit off: compiling the big inserts' and the evaluation's plans took longer than running them.
-- work_mem 64MB: a 10 000-row import sorts its journal snapshots (about 11 MB)
-- and its answer in memory instead of in temporary files.
CREATE FUNCTION api.pt_tasks_import(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
DECLARE
    p public.plans;
    par public.tasks;
    ids uuid[] := '{}';
BEGIN
    PERFORM api.pt_actor_begin(a);
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
                                      a->'actor', 'tasks', ids, 0, a->'cfg');
    EXCEPTION WHEN data_exception THEN
        PERFORM api.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    PERFORM api.pt_emit_created(ids);
    RETURN QUERY SELECT 201, jsonb_build_object('plan_id', p.id, 'parent_id', par.id,
        'created', cardinality(ids),
        'items', (SELECT coalesce(jsonb_agg(x.doc ORDER BY ((x.ev).t).ord), '[]')
                    FROM api.pt_eval_docs(p.id, a->'cfg', par.id) x JOIN unnest(ids) AS n(id) ON n.id = ((x.ev).t).id));
END $$;

-- Applies a patch (keys as in pt_task_patch) to task t: the one UPDATE shared by
-- PATCH and an approved change request. Returns the keys changed. A new lead
-- unit on a task not yet under way makes it assigned again (交办, to be signed).
CREATE FUNCTION api.pt_task_apply(t public.tasks, pa jsonb, actor jsonb, cfg jsonb) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
    lead uuid := t.lead_unit_id;
    changed text[];
    reassigned boolean := false;
BEGIN
    IF pa ? 'title' AND api.pt_text(pa->'title') IS NULL THEN
        PERFORM api.pt_fail422('title', 'must not be empty');
    END IF;
    IF pa ? 'lead_unit' THEN
        lead := api.pt_unit_resolve(api.pt_text(pa->'lead_unit'), actor, cfg, 'lead_unit');
        IF actor->>'role' = 'editor' THEN PERFORM api.pt_check_scope(actor, lead); END IF;
        reassigned := lead IS DISTINCT FROM t.lead_unit_id AND t.status IN ('planned', 'assigned');
    END IF;
    IF pa ? 'co_units' THEN
        PERFORM api.pt_unit_resolve(n, actor, cfg, 'co_units') FROM unnest(api.pt_texts(pa->'co_units')) n;
    END IF;
    SELECT coalesce(array_agg(k ORDER BY k), '{}') INTO changed FROM jsonb_object_keys(pa) k
     WHERE k IN ('title', 'body', 'lead_unit', 'co_units', 'owner', 'leader', 'start_date', 'due_date', 'tags',
                 'cadence', 'targets', 'milestones', 'weight', 'progress_source', 'note', 'facts');
    IF pa ? 'facts' AND api.pt_facts(pa->'facts') IS NULL THEN
        PERFORM api.pt_fail422('facts', 'must be an array of objects', 'type', jsonb_build_object('expected', 'objects'));
    END IF;
    IF jsonb_typeof(pa->'weight') = 'number' AND (pa->>'weight')::numeric <= 0 THEN
        PERFORM api.pt_fail422('weight', 'must be greater than 0');
    END IF;
    IF api.pt_text(pa->'progress_source') NOT IN ('reported', 'targets', 'milestones', 'children') THEN
        PERFORM api.pt_fail422('progress_source', 'must be reported, targets, milestones or children');
    END IF;
    BEGIN
        UPDATE public.tasks SET
            title = CASE WHEN pa ? 'title' THEN api.pt_text(pa->'title') ELSE tasks.title END,
            body = CASE WHEN pa ? 'body' THEN api.pt_text(pa->'body') ELSE tasks.body END,
            lead_unit_id = lead,
            co_unit_ids = CASE WHEN pa ? 'co_units' THEN
                    (SELECT coalesce(array_agg(api.pt_unit_resolve(n, actor, cfg, 'co_units') ORDER BY k), '{}')
                       FROM unnest(api.pt_texts(pa->'co_units')) WITH ORDINALITY AS c(n, k))
                ELSE tasks.co_unit_ids END,
            owner = CASE WHEN pa ? 'owner' THEN api.pt_text(pa->'owner') ELSE tasks.owner END,
            leader = CASE WHEN pa ? 'leader' THEN api.pt_text(pa->'leader') ELSE tasks.leader END,
            start_date = CASE WHEN pa ? 'start_date' THEN nullif(pa->>'start_date', '')::date ELSE tasks.start_date END,
            due_date = CASE WHEN pa ? 'due_date' THEN nullif(pa->>'due_date', '')::date ELSE tasks.due_date END,
            -- a due date changed through the API (or an approved extension) is the API's
            due_source = CASE WHEN pa ? 'due_date' AND nullif(pa->>'due_date', '')::date IS DISTINCT FROM tasks.due_date
                              THEN CASE WHEN nullif(pa->>'due_date', '') IS NOT NULL THEN 'api' END
                              ELSE tasks.due_source END,
            note = CASE WHEN pa ? 'note' THEN api.pt_text(pa->'note') ELSE tasks.note END,
            facts = CASE WHEN pa ? 'facts' THEN api.pt_facts(pa->'facts') ELSE tasks.facts END,
            tags = CASE WHEN pa ? 'tags' THEN api.pt_texts(pa->'tags') ELSE tasks.tags END,
            cadence = CASE WHEN pa ? 'cadence' THEN api.pt_text(pa->'cadence') ELSE tasks.cadence END,
            weight = CASE WHEN pa ? 'weight' THEN (pa->>'weight')::numeric ELSE tasks.weight END,
            progress_source = CASE WHEN pa ? 'progress_source' THEN api.pt_text(pa->'progress_source')
                                   ELSE tasks.progress_source END,
            status = CASE WHEN reassigned THEN CASE WHEN lead IS NULL THEN 'planned' ELSE 'assigned' END
                          ELSE tasks.status END,
            assigned_at = CASE WHEN reassigned THEN CASE WHEN lead IS NOT NULL THEN now() END ELSE tasks.assigned_at END,
            signed_at = CASE WHEN reassigned THEN NULL ELSE tasks.signed_at END,
            signed_by = CASE WHEN reassigned THEN NULL ELSE tasks.signed_by END,
            returned_at = CASE WHEN reassigned AND lead IS NOT NULL THEN NULL ELSE tasks.returned_at END,
            returned_by = CASE WHEN reassigned AND lead IS NOT NULL THEN NULL ELSE tasks.returned_by END,
            returned_unit_id = CASE WHEN reassigned AND lead IS NOT NULL THEN NULL ELSE tasks.returned_unit_id END,
            return_reason = CASE WHEN reassigned AND lead IS NOT NULL THEN NULL ELSE tasks.return_reason END,
            version = tasks.version + 1,
            updated_at = now()
         WHERE tasks.id = t.id;
        IF pa ? 'targets' THEN PERFORM api.pt_set_targets(t.id, pa->'targets'); END IF;
        IF pa ? 'milestones' THEN PERFORM api.pt_set_milestones(t.id, pa->'milestones'); END IF;
    EXCEPTION WHEN data_exception OR check_violation THEN
        PERFORM api.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    RETURN changed;
END $$;

-- The fields an approved plan fixes: they change only through a change request.
CREATE FUNCTION api.pt_controlled_fields() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['due_date', 'milestones', 'targets', 'title']
$$;

CREATE FUNCTION api.pt_task_patch(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks;
    pa jsonb := coalesce(a->'patch', '{}');
    actor jsonb := a->'actor';
    changed text[];
    fixed text[];
    approved timestamptz;
BEGIN
    PERFORM api.pt_actor_begin(a);
    t := api.pt_task_find(a->>'id', true);
    PERFORM api.pt_check_scope(actor, t.lead_unit_id);
    PERFORM api.pt_check_version(t, a->'if_match');
    -- change control: once the plan is approved an editor asks, a supervisor decides
    IF actor->>'role' = 'editor' THEN
        SELECT p.approved_at INTO approved FROM public.plans p WHERE p.id = t.plan_id;
        SELECT array_agg(k ORDER BY k) INTO fixed FROM jsonb_object_keys(pa) k
         WHERE k = ANY (api.pt_controlled_fields());
        IF approved IS NOT NULL AND fixed IS NOT NULL THEN
            PERFORM api.pt_fail('PT409', 'plan is approved: file a change request',
                format('the plan was approved on %s; %s of its tasks change only through an approved request '
                       '(POST /v1/tasks/%s/changes, 延期申请/调整申请)',
                       (approved AT TIME ZONE 'UTC')::date, array_to_string(fixed, ', '), t.id));
        END IF;
    END IF;
    changed := api.pt_task_apply(t, pa, actor, a->'cfg');
    SELECT * INTO t FROM public.tasks WHERE id = t.id;
    PERFORM api.pt_emit('task.updated', t.plan_id, t.id,
        jsonb_build_object('changed', to_jsonb(changed), 'version', t.version, 'by', actor->>'name'));
    RETURN QUERY SELECT 200, api.pt_task_json(t, a->'cfg');
END $$;

CREATE FUNCTION api.pt_task_delete(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks;
    n int;
BEGIN
    PERFORM api.pt_actor_begin(a);
    t := api.pt_task_find(a->>'id', true);
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

-- 签收: an assigned task becomes planned (signed for). passing: as part of a
-- progress report (the journal shows the signature as its own step first; the
-- progress history, updates, holds reports only).
CREATE FUNCTION api.pt_task_sign_step(t public.tasks, actor jsonb, note text, passing boolean)
RETURNS public.tasks
LANGUAGE plpgsql AS $$
BEGIN
    -- the journal records it as its own step (action sign), before the report's changes
    PERFORM api.pt_journal_context('sign', coalesce(note, CASE WHEN passing THEN 'signed by a progress report' END));
    UPDATE public.tasks x SET status = 'planned', signed_at = now(), signed_by = coalesce(actor->>'name', 'unknown'),
           version = x.version + 1, updated_at = now()
     WHERE x.id = t.id
    RETURNING * INTO t;
    PERFORM api.pt_emit('task.signed', t.plan_id, t.id,
        jsonb_build_object('lead_unit', api.pt_unit_name(t.lead_unit_id), 'version', t.version,
                           'by', coalesce(actor->>'name', 'unknown'), 'note', note, 'in_report', passing));
    RETURN t;
END $$;

-- Links the attachments named in list (uuids) to update u of task t; 422 unless
-- each is an attachment of t not yet linked to a report.
CREATE FUNCTION api.pt_link_attachments(t public.tasks, u public.updates, list jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    x jsonb;
    i int := 0;
BEGIN
    IF jsonb_typeof(list) IS DISTINCT FROM 'array' THEN RETURN; END IF;
    FOR x IN SELECT e FROM jsonb_array_elements(list) e LOOP
        UPDATE public.attachments g SET update_id = u.id
         WHERE g.id = api.pt_uuid(x #>> '{}') AND g.task_id = t.id AND g.update_id IS NULL;
        IF NOT FOUND THEN
            PERFORM api.pt_fail422('attachments[' || i || ']',
                'is not an attachment of this task that no report carries yet (upload it with POST /v1/tasks/{id}/attachments)');
        END IF;
        i := i + 1;
    END LOOP;
END $$;

-- 协办反馈: a co-operating unit's note, contributions and evidence. It moves
-- nothing on the task: no status, no progress, not the lead unit's numbers.
CREATE FUNCTION api.pt_task_co_report(t public.tasks, a jsonb) RETURNS public.updates
LANGUAGE plpgsql AS $$
DECLARE
    r jsonb := coalesce(a->'report', '{}');
    actor jsonb := a->'actor';
    tg jsonb;
    i int := 0;
    p int;
    u public.updates;
BEGIN
    IF r ? 'status' OR r ? 'progress' THEN
        PERFORM api.pt_fail('PT403', 'a co-operating unit cannot move the task',
            'your unit co-operates on this task (配合单位): it files notes, contributions and evidence (协办反馈); '
            'status and progress are the lead unit''s');
    END IF;
    IF jsonb_typeof(r->'targets') = 'array' THEN
        FOR tg IN SELECT e FROM jsonb_array_elements(r->'targets') e LOOP
            IF tg ? 'current' THEN
                PERFORM api.pt_fail('PT403', 'a co-operating unit cannot change the lead unit''s numbers',
                    'send your own share as targets[].contribution; targets[].current is the lead unit''s');
            END IF;
            IF NOT EXISTS (SELECT 1 FROM public.targets g WHERE g.id = api.pt_uuid(tg->>'id') AND g.task_id = t.id) THEN
                PERFORM api.pt_fail422('targets[' || i || '].id', 'is not a target of this task');
            END IF;
            IF tg->'contribution' IS NULL OR jsonb_typeof(tg->'contribution') <> 'number' THEN
                PERFORM api.pt_fail422('targets[' || i || '].contribution', 'is required');
            END IF;
            i := i + 1;
        END LOOP;
    END IF;
    p := (api.pt_task_eval(t, a->'cfg')).progress;
    INSERT INTO public.updates (task_id, author, token_id, status_from, status_to, progress_from, progress,
                                targets, note, problems, next_steps, idempotency_key, kind, unit_id)
    VALUES (t.id, coalesce(actor->>'name', 'unknown'), api.pt_uuid(actor->>'token_id'), t.status, t.status, p, p,
            CASE WHEN jsonb_typeof(r->'targets') = 'array' THEN r->'targets' ELSE '[]' END,
            r->>'note', r->>'problems', r->>'next_steps', a->>'idempotency_key', 'co', api.pt_uuid(actor->>'unit_id'))
    RETURNING * INTO u;
    PERFORM api.pt_link_attachments(t, u, r->'attachments');
    PERFORM api.pt_emit('task.reported', t.plan_id, t.id,
        jsonb_build_object('update_id', u.id, 'kind', 'co', 'unit', api.pt_unit_name(u.unit_id),
                           'status_from', u.status_from, 'status_to', u.status_to,
                           'progress_from', u.progress_from, 'progress', u.progress, 'version', t.version,
                           'by', u.author));
    PERFORM api.pt_journal(t.plan_id, t.id, 'report', u.id, 'co_report', NULL, api.pt_update_json(u), u.note);
    RETURN u;
END $$;

-- A report's answer: the update and the task (e: its evaluation after the
-- report when it is a live leaf, which is then only rendered; else evaluated
-- here). With a.return = 'minimal' (Prefer: return=minimal) only the ids and
-- the task's version, nothing rendered: the daemon answers 204 with them.
CREATE FUNCTION api.pt_report_answer(a jsonb, u public.updates, t public.tasks, e api.pt_ev, leaf boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF a->>'return' = 'minimal' THEN
        RETURN jsonb_build_object('update', jsonb_build_object('id', u.id),
                                  'task', jsonb_build_object('id', t.id, 'version', t.version));
    END IF;
    RETURN jsonb_build_object('update', api.pt_update_json(u),
        'task', CASE WHEN leaf THEN api.pt_leaf_ev_doc(e) ELSE api.pt_task_json(t, a->'cfg') END);
END $$;

-- Hot path: checks as plain expressions, the task evaluated once before the
-- report and, for a live leaf, only its node rules again after it
-- (pt_leaf_ev_after), then four statements (update task, history row, event,
-- render: none with a.return = 'minimal'); target values add one statement each.
CREATE FUNCTION api.pt_task_report(a jsonb, OUT status int, OUT body jsonb) RETURNS SETOF record
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks;
    r jsonb := coalesce(a->'report', '{}');
    actor jsonb := a->'actor';
    role text := actor->>'role';
    cfg jsonb := a->'cfg';
    s_from text;
    s_to text;
    prog int;
    own boolean;
    closed timestamptz;
    p_from int;
    tg jsonb;
    i int := 0;
    u public.updates;
    v_done_by text;
    done_tok uuid;
    leaf boolean;
    ev api.pt_ev;
BEGIN
    -- (the journal's action and note are set below, before the first write)
    PERFORM api.pt_actor_begin(a);
    SELECT * INTO t FROM public.tasks x WHERE x.id = api.pt_uuid(a->>'id') AND x.deleted_at IS NULL FOR UPDATE;
    IF t.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Task not found', 'no task with id ' || coalesce(a->>'id', 'null'));
    END IF;
    IF role IS NULL OR role NOT IN ('supervisor', 'admin') THEN
        IF NOT api.pt_in_scope(actor, t.lead_unit_id) THEN
            IF api.pt_in_co_scope(actor, t.co_unit_ids) THEN
                PERFORM api.pt_check_version(t, a->'if_match');
                u := api.pt_task_co_report(t, a);
                status := 201;
                body := api.pt_report_answer(a, u, t, NULL, false);
                RETURN NEXT;
                RETURN;
            END IF;
            PERFORM api.pt_check_scope(actor, t.lead_unit_id);
        END IF;
    END IF;
    IF jsonb_typeof(a->'if_match') = 'number' AND (a->>'if_match')::numeric <> t.version THEN
        PERFORM api.pt_check_version(t, a->'if_match');
    END IF;
    s_to := coalesce(api.pt_text(r->'status'), t.status);
    IF s_to NOT IN ('assigned', 'planned', 'in_progress', 'blocked', 'done', 'verified', 'cancelled') THEN
        PERFORM api.pt_fail422('status', 'is not a status');
    END IF;
    -- a report on an unsigned task signs it in passing (existing clients keep working)
    IF t.status = 'assigned' AND s_to <> 'cancelled' THEN
        t := api.pt_task_sign_step(t, actor, NULL, true);
        IF s_to = 'assigned' THEN s_to := 'planned'; END IF;
    END IF;
    s_from := t.status;
    prog := t.progress;
    own := t.own_progress_reported;
    closed := t.closed_at;
    v_done_by := t.done_by;
    done_tok := t.done_by_token;
    IF s_to <> s_from THEN
        IF s_to = 'verified' THEN
            IF role IS NULL OR role NOT IN ('supervisor', 'admin') THEN
                PERFORM api.pt_fail('PT403', 'Forbidden', 'only a supervisor may verify (销号) a task',
                    '{"rule": "role", "params": {"role": "supervisor"}}');
            END IF;
            IF s_from <> 'done' THEN
                PERFORM api.pt_fail('PT409', 'only a done task can be verified',
                    format('销号 checks a task reported done (办结); this task is %s', s_from));
            END IF;
            IF NOT coalesce((cfg->>'verify_self')::boolean, false)
               AND (api.pt_uuid(actor->>'token_id') = t.done_by_token
                    OR (t.done_by_token IS NULL AND api.pt_uuid(actor->>'token_id') IS NULL
                        AND t.done_by = actor->>'name')) THEN
                PERFORM api.pt_fail('PT403', 'verification needs a second person',
                    format('%s reported this task done; 销号 must be done by another supervisor '
                           '(setting workflow.verify_self allows it in one-person offices)', t.done_by));
            END IF;
        END IF;
        IF NOT api.pt_transition_ok(s_from, s_to) THEN
            PERFORM api.pt_fail('PT409', 'invalid status transition', s_from || ' -> ' || s_to || ' is not allowed',
                jsonb_build_object('rule', 'states', 'params', jsonb_build_object('from', s_from, 'to', s_to)));
        END IF;
        IF s_to = 'done' AND api.pt_text(r->'note') IS NULL THEN
            PERFORM api.pt_fail422('note', 'is required when reporting done (办结: a closing note)');
        END IF;
        IF s_from = 'done' AND s_to = 'in_progress' AND api.pt_text(r->'note') IS NULL THEN
            PERFORM api.pt_fail422('note', 'is required when sending a done task back (退回: the reason)');
        END IF;
        IF s_to = 'done' THEN
            v_done_by := coalesce(actor->>'name', 'unknown');
            done_tok := api.pt_uuid(actor->>'token_id');
        ELSIF s_to <> 'verified' THEN
            v_done_by := NULL;
            done_tok := NULL;
        END IF;
    END IF;
    -- the journal records this report's changes as report, done (办结), verify (销号) or reject (退回)
    PERFORM api.pt_journal_context(CASE WHEN s_to = s_from THEN 'report' WHEN s_to = 'done' THEN 'done'
                                        WHEN s_to = 'verified' THEN 'verify'
                                        WHEN s_from = 'done' THEN 'reject' ELSE 'report' END, r->>'note');
    -- a live leaf is evaluated by pt_leaf_ev (pt_task_eval's fast path) here, and after the report
    -- from this evaluation; anything else by pt_task_eval both times
    -- (cfg->>'as_of' itself: pt_as_of is not inlined (its date cast is not immutable) and a call
    -- of it parses and plans its body; a malformed as_of still fails, in pt_task_eval)
    leaf := t.child_count = 0 AND nullif(cfg->>'as_of', '') IS NULL;
    ev := CASE WHEN leaf THEN api.pt_leaf_ev(t, cfg) ELSE api.pt_task_eval(t, cfg) END;
    p_from := ev.progress;
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
            IF tg->'current' IS NULL OR jsonb_typeof(tg->'current') <> 'number' THEN
                PERFORM api.pt_fail422('targets[' || i || '].current', 'is required');
            END IF;
            UPDATE public.targets g SET current = (tg->>'current')::numeric
             WHERE g.id = api.pt_uuid(tg->>'id') AND g.task_id = t.id;
            IF NOT FOUND THEN
                PERFORM api.pt_fail422('targets[' || i || '].id', 'is not a target of this task');
            END IF;
            i := i + 1;
        END LOOP;
    END IF;
    UPDATE public.tasks x SET status = s_to, progress = prog, own_progress_reported = own, closed_at = closed,
           done_by = v_done_by, done_by_token = done_tok,
           version = x.version + 1, updated_at = now()
     WHERE x.id = t.id
    RETURNING * INTO t;
    ev := CASE WHEN leaf THEN api.pt_leaf_ev_after(ev, t, i > 0, cfg) ELSE api.pt_task_eval(t, cfg) END;
    prog := ev.progress;
    INSERT INTO public.updates (task_id, author, token_id, status_from, status_to, progress_from, progress,
                                targets, note, problems, next_steps, idempotency_key, kind, unit_id)
    VALUES (t.id, coalesce(actor->>'name', 'unknown'), api.pt_uuid(actor->>'token_id'),
            s_from, s_to, p_from, prog,
            CASE WHEN jsonb_typeof(r->'targets') = 'array' THEN r->'targets' ELSE '[]' END,
            r->>'note', r->>'problems', r->>'next_steps', a->>'idempotency_key', 'report',
            api.pt_uuid(actor->>'unit_id'))
    RETURNING * INTO u;
    IF r ? 'attachments' THEN
        PERFORM api.pt_link_attachments(t, u, r->'attachments');
    END IF;
    PERFORM api.pt_emit('task.reported', t.plan_id, t.id,
        jsonb_build_object('update_id', u.id, 'status_from', u.status_from, 'status_to', u.status_to,
                           'progress_from', u.progress_from, 'progress', u.progress, 'version', t.version,
                           'by', u.author));
    IF s_to = 'verified' AND s_from <> 'verified' THEN
        PERFORM api.pt_emit('task.verified', t.plan_id, t.id,
            jsonb_build_object('update_id', u.id, 'done_by', t.done_by, 'by', u.author));
    END IF;
    status := 201;
    body := api.pt_report_answer(a, u, t, ev, leaf);
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
