-- sql/api/42_plan_admin.sql - plan administration and task moves (issue 12):
-- rename, archive/unarchive, soft delete with its report rule, restore within
-- 30 days, the purge after that, and moving a task under another parent with
-- its codes renumbered. See docs/sql-api.md "Plan administration".
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

---------------------------------------------------------------------------
-- helpers
---------------------------------------------------------------------------

-- PT403 unless the actor is a supervisor or an admin (the route floor, checked again).
CREATE FUNCTION api.pt_require_supervisor(actor jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(actor->>'role', '') NOT IN ('supervisor', 'admin') THEN
        PERFORM api.pt_fail('PT403', 'Forbidden', 'plan administration needs the supervisor role',
            jsonb_build_object('rule', 'role', 'params', jsonb_build_object('role', 'supervisor')));
    END IF;
END $$;

-- The live (not deleted) plan with id, locked; PT404 otherwise.
CREATE FUNCTION api.pt_plan_lock(id text) RETURNS public.plans
LANGUAGE plpgsql AS $$
DECLARE p public.plans;
BEGIN
    SELECT * INTO p FROM public.plans x WHERE x.id = api.pt_uuid(pt_plan_lock.id) AND x.deleted_at IS NULL FOR UPDATE;
    IF p.id IS NULL THEN PERFORM api.pt_fail('PT404', 'Plan not found', 'no plan with id ' || coalesce(id, 'null')); END IF;
    RETURN p;
END $$;

-- PT412 when if_match (a number) is not the plan's version.
CREATE FUNCTION api.pt_check_plan_version(p public.plans, if_match jsonb) RETURNS void
LANGUAGE sql IMMUTABLE AS $$
    SELECT api.pt_check_if_match('plan', p.version, if_match)
$$;

-- Progress reports (and co-unit feedback) ever made on the plan's tasks, deleted tasks included.
CREATE FUNCTION api.pt_plan_reports(plan uuid) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM public.updates u JOIN public.tasks t ON t.id = u.task_id WHERE t.plan_id = plan
$$;

---------------------------------------------------------------------------
-- rename, archive, delete, restore, purge
---------------------------------------------------------------------------

-- {actor, id, if_match?, patch:{title}} -> 200 plan; event plan.updated.
CREATE FUNCTION api.pt_plan_patch(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    p public.plans;
    pa jsonb := coalesce(a->'patch', '{}');
    old text;
BEGIN
    PERFORM api.pt_actor_begin(a);
    PERFORM api.pt_require_supervisor(a->'actor');
    p := api.pt_plan_lock(a->>'id');
    PERFORM api.pt_check_plan_version(p, a->'if_match');
    IF NOT pa ? 'title' THEN PERFORM api.pt_fail422('title', 'is required'); END IF;
    IF api.pt_text(pa->'title') IS NULL THEN PERFORM api.pt_fail422('title', 'must not be empty'); END IF;
    old := p.title;
    UPDATE public.plans SET title = api.pt_text(pa->'title'), version = version + 1, updated_at = now()
     WHERE plans.id = p.id RETURNING * INTO p;
    PERFORM api.pt_emit('plan.updated', p.id, NULL, jsonb_build_object('changed', jsonb_build_array('title'),
        'title', jsonb_build_array(old, p.title), 'version', p.version, 'by', a->'actor'->>'name'));
    RETURN QUERY SELECT 200, api.pt_plan_json(p);
END $$;

-- {actor, id, archive: bool} -> 200 plan; events plan.archived / plan.unarchived
-- (none when the plan already is in that state).
CREATE FUNCTION api.pt_plan_archive(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    p public.plans;
    arch boolean := coalesce((a->>'archive')::boolean, true);
BEGIN
    PERFORM api.pt_actor_begin(a);
    PERFORM api.pt_require_supervisor(a->'actor');
    p := api.pt_plan_lock(a->>'id');
    IF (p.archived_at IS NOT NULL) = arch THEN
        RETURN QUERY SELECT 200, api.pt_plan_json(p);
        RETURN;
    END IF;
    UPDATE public.plans SET archived_at = CASE WHEN arch THEN now() END,
           archived_by = CASE WHEN arch THEN a->'actor'->>'name' END,
           version = version + 1, updated_at = now()
     WHERE plans.id = p.id RETURNING * INTO p;
    PERFORM api.pt_emit(CASE WHEN arch THEN 'plan.archived' ELSE 'plan.unarchived' END, p.id, NULL,
        jsonb_build_object('title', p.title, 'version', p.version, 'by', a->'actor'->>'name'));
    RETURN QUERY SELECT 200, api.pt_plan_json(p);
END $$;

-- {actor, id, if_match?, confirm?} -> 204; event plan.deleted. A plan with
-- progress reports is deleted only by an admin whose confirm is the plan's
-- title (PT409 plan-has-reports otherwise; a wrong confirm is PT422 confirm).
CREATE FUNCTION api.pt_plan_delete(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    p public.plans;
    n bigint;
    conf text := a->>'confirm';
BEGIN
    PERFORM api.pt_actor_begin(a);
    PERFORM api.pt_require_supervisor(a->'actor');
    p := api.pt_plan_lock(a->>'id');
    PERFORM api.pt_check_plan_version(p, a->'if_match');
    n := api.pt_plan_reports(p.id);
    IF n > 0 AND (conf IS NULL OR a->'actor'->>'role' <> 'admin') THEN
        PERFORM api.pt_fail('PT409', 'Plan has progress reports',
            format('%s progress reports were made on this plan: only an admin may delete it, '
                   'with confirm set to the plan''s title', n),
            jsonb_build_object('type', 'plan-has-reports', 'rule', 'reports', 'params', jsonb_build_object('reports', n)));
    END IF;
    IF n > 0 AND conf IS DISTINCT FROM p.title THEN
        PERFORM api.pt_fail422('confirm', 'must be the plan''s title', 'confirm');
    END IF;
    UPDATE public.plans SET deleted_at = now(), deleted_by = a->'actor'->>'name', version = version + 1, updated_at = now()
     WHERE plans.id = p.id RETURNING * INTO p;
    PERFORM api.pt_emit('plan.deleted', p.id, NULL, jsonb_build_object('title', p.title, 'reports', n,
        'restorable_until', api.pt_ts(p.deleted_at + interval '30 days'), 'by', a->'actor'->>'name'));
    RETURN QUERY SELECT 204, NULL::jsonb;
END $$;

-- {actor, id} -> 200 plan; event plan.restored. Only a plan deleted less than
-- 30 days ago (PT404 otherwise: purged or never deleted-and-known); a live plan is PT409.
CREATE FUNCTION api.pt_plan_restore(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE p public.plans;
BEGIN
    PERFORM api.pt_actor_begin(a);
    PERFORM api.pt_require_supervisor(a->'actor');
    SELECT * INTO p FROM public.plans x WHERE x.id = api.pt_uuid(a->>'id') FOR UPDATE;
    IF p.id IS NOT NULL AND p.deleted_at IS NULL THEN
        PERFORM api.pt_fail('PT409', 'Plan is not deleted', 'the plan is not deleted: nothing to restore',
            jsonb_build_object('type', 'not-deleted'));
    END IF;
    IF p.id IS NULL OR p.deleted_at <= now() - interval '30 days' THEN
        PERFORM api.pt_fail('PT404', 'Plan not found',
            'no deleted plan with id ' || coalesce(a->>'id', 'null') || ' restorable (30 days after deletion)');
    END IF;
    UPDATE public.plans SET deleted_at = NULL, deleted_by = NULL, version = version + 1, updated_at = now()
     WHERE plans.id = p.id RETURNING * INTO p;
    PERFORM api.pt_emit('plan.restored', p.id, NULL,
        jsonb_build_object('title', p.title, 'version', p.version, 'by', a->'actor'->>'name'));
    RETURN QUERY SELECT 200, api.pt_plan_json(p);
END $$;

-- Removes the plans deleted 30 days ago or more (with their tasks, reports,
-- attachments: ON DELETE CASCADE; the journal keeps their history). Called by
-- pt_reminders_run; returns how many plans were purged.
CREATE FUNCTION api.pt_plans_purge() RETURNS int
LANGUAGE plpgsql AS $$
DECLARE n int;
BEGIN
    DELETE FROM public.plans WHERE deleted_at <= now() - interval '30 days';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

---------------------------------------------------------------------------
-- moving a task
---------------------------------------------------------------------------

-- n as the plan text numbers its top level: 一 … 九十九 (otherwise Arabic).
CREATE FUNCTION api.pt_cn_numeral(n int) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN n < 1 OR n > 99 THEN n::text
                WHEN n < 10 THEN d[n]
                ELSE CASE WHEN n / 10 = 1 THEN '' ELSE d[n / 10] END || '十' || coalesce(d[nullif(n % 10, 0)], '') END
      FROM (SELECT ARRAY['一', '二', '三', '四', '五', '六', '七', '八', '九'] AS d) x
$$;

-- Renumbers the live children of parent (NULL: the plan's top level) 1..n in
-- document order: seq, and code = parent's code '.' seq (top level: Chinese
-- numerals when the plan used them, else digits); then their subtrees' codes.
CREATE FUNCTION api.pt_renumber(plan uuid, parent uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    pcode text := (SELECT t.code FROM public.tasks t WHERE t.id = parent);
    cn boolean := parent IS NULL AND EXISTS (SELECT 1 FROM public.tasks t WHERE t.plan_id = plan AND t.parent_id IS NULL
                                               AND t.deleted_at IS NULL AND t.code ~ '^[一二三四五六七八九十]+$');
    kid uuid;
BEGIN
    WITH s AS (SELECT t.id, row_number() OVER (ORDER BY t.ord)::int AS n FROM public.tasks t
                WHERE t.plan_id = plan AND t.parent_id IS NOT DISTINCT FROM parent AND t.deleted_at IS NULL)
    UPDATE public.tasks x SET seq = s.n,
           code = CASE WHEN parent IS NULL THEN CASE WHEN cn THEN api.pt_cn_numeral(s.n) ELSE s.n::text END
                       ELSE coalesce(pcode, '') || '.' || s.n END
      FROM s WHERE x.id = s.id AND (x.seq IS DISTINCT FROM s.n OR x.code IS DISTINCT FROM
           CASE WHEN parent IS NULL THEN CASE WHEN cn THEN api.pt_cn_numeral(s.n) ELSE s.n::text END
                ELSE coalesce(pcode, '') || '.' || s.n END);
    FOR kid IN SELECT t.id FROM public.tasks t WHERE t.parent_id IS NOT DISTINCT FROM parent AND t.plan_id = plan
                  AND t.deleted_at IS NULL AND t.child_count > 0 LOOP
        PERFORM api.pt_renumber(plan, kid);
    END LOOP;
END $$;

-- Gives the tasks ids fresh ord values (from the sequence, so no clash) in
-- the order of the array. ord is bookkeeping: the journal does not record it.
CREATE FUNCTION api.pt_fresh_ords(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE nums bigint[];
BEGIN
    IF cardinality(ids) = 0 THEN RETURN; END IF;
    SELECT array_agg(v ORDER BY v) INTO nums
      FROM (SELECT nextval(pg_get_serial_sequence('public.tasks', 'ord')) AS v FROM generate_series(1, cardinality(ids))) s;
    UPDATE public.tasks x SET ord = nums[i.k] FROM unnest(ids) WITH ORDINALITY AS i(id, k) WHERE x.id = i.id;
END $$;

-- The plan's live tasks in document order (depth first, siblings in their
-- order) get fresh ords, so flat lists (ordered by ord) follow the tree.
CREATE FUNCTION api.pt_plan_reorder(plan uuid) RETURNS void
LANGUAGE sql AS $$
    SELECT api.pt_fresh_ords(coalesce((SELECT array_agg((x.task).id ORDER BY x.path) FROM api.pt_plan_tasks(plan) x), '{}'))
$$;

-- Checks the new parent of t: NULL (top level) or a live task of the same plan
-- that is neither t nor below it (PT422 parent_id otherwise).
CREATE FUNCTION api.pt_move_parent(t public.tasks, pid jsonb) RETURNS public.tasks
LANGUAGE plpgsql AS $$
DECLARE par public.tasks;
BEGIN
    IF pid IS NULL OR jsonb_typeof(pid) = 'null' THEN RETURN par; END IF;
    SELECT * INTO par FROM public.tasks x WHERE x.id = api.pt_uuid(pid #>> '{}') AND x.deleted_at IS NULL;
    IF par.id IS NULL OR par.plan_id <> t.plan_id THEN
        PERFORM api.pt_fail422('parent_id', 'must be a task of the same plan', 'same-plan');
    END IF;
    IF EXISTS (WITH RECURSIVE up AS (SELECT par.id AS id, par.parent_id AS parent, 1 AS depth
                                     UNION ALL
                                     SELECT x.id, x.parent_id, up.depth + 1 FROM public.tasks x JOIN up ON x.id = up.parent
                                      WHERE up.depth < 64)
               SELECT 1 FROM up WHERE up.id = t.id) THEN
        PERFORM api.pt_fail422('parent_id', 'must not be the task or one of its descendants', 'cycle');
    END IF;
    RETURN par;
END $$;

-- {actor, cfg, id, if_match?, parent_id (uuid|null), position?} -> 200 task;
-- event task.moved. position: 1-based among the new siblings (default: last).
-- Old and new siblings and every descendant get their seq and code renumbered;
-- the journal records each field change (action 'move').
CREATE FUNCTION api.pt_task_move(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks;
    par public.tasks;
    pos int;
    sibs uuid[];
    old_code text;
    old_parent uuid;
BEGIN
    PERFORM api.pt_actor_begin(a);
    PERFORM api.pt_require_supervisor(a->'actor');
    t := api.pt_task_find(a->>'id', true);
    PERFORM api.pt_check_version(t, a->'if_match');
    IF NOT a ? 'parent_id' THEN PERFORM api.pt_fail422('parent_id', 'is required'); END IF;
    par := api.pt_move_parent(t, a->'parent_id');
    IF a->'position' IS NOT NULL AND jsonb_typeof(a->'position') <> 'null' THEN
        IF jsonb_typeof(a->'position') <> 'number' OR (a->>'position')::numeric < 1
           OR (a->>'position')::numeric <> trunc((a->>'position')::numeric) THEN
            PERFORM api.pt_fail422('position', 'must be from 1 to 1000000');
        END IF;
        pos := least((a->>'position')::numeric, 1000000)::int;
    END IF;
    PERFORM api.pt_journal_context('move', NULL);
    old_code := t.code;
    old_parent := t.parent_id;
    SELECT coalesce(array_agg(x.id ORDER BY x.ord), '{}') INTO sibs FROM public.tasks x
     WHERE x.plan_id = t.plan_id AND x.parent_id IS NOT DISTINCT FROM par.id AND x.deleted_at IS NULL AND x.id <> t.id;
    pos := least(coalesce(pos, cardinality(sibs) + 1), cardinality(sibs) + 1);
    sibs := sibs[1:pos - 1] || t.id || sibs[pos:];
    UPDATE public.tasks SET parent_id = par.id, version = version + 1, updated_at = now() WHERE id = t.id;
    -- the new sibling order: fresh ords in that order, then the whole plan in document order
    PERFORM api.pt_fresh_ords(sibs);
    PERFORM api.pt_plan_reorder(t.plan_id);
    PERFORM api.pt_renumber(t.plan_id, old_parent);
    IF par.id IS DISTINCT FROM old_parent THEN PERFORM api.pt_renumber(t.plan_id, par.id); END IF;
    SELECT * INTO t FROM public.tasks x WHERE x.id = t.id;
    PERFORM api.pt_emit('task.moved', t.plan_id, t.id, jsonb_build_object('from_parent_id', old_parent,
        'parent_id', t.parent_id, 'position', pos, 'code', jsonb_build_array(old_code, t.code),
        'version', t.version, 'by', a->'actor'->>'name'));
    RETURN QUERY SELECT 200, api.pt_task_json(t, a->'cfg');
END $$;
