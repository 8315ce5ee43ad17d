-- sql/api/55_accountability.sql - issue 11: units, 交办/签收/退回, plan approval
-- and change requests (延期申请), evidence (佐证材料), reminders (三级预警).
-- Part of the repeatable API set (docs/sql-api.md). The states and who may
-- move them: docs/workflow.md.

---------------------------------------------------------------------------
-- units (a tree; admin writes, everyone reads)
---------------------------------------------------------------------------

CREATE FUNCTION api.pt_unit_json(u public.units) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up(id, name, parent_id, depth) AS (
        SELECT u.id, u.name, u.parent_id, 0
        UNION ALL
        SELECT p.id, p.name, p.parent_id, up.depth + 1 FROM public.units p JOIN up ON p.id = up.parent_id
         WHERE up.depth < 64)
    SELECT jsonb_build_object('id', u.id, 'name', u.name, 'parent_id', u.parent_id,
        'parent', (SELECT p.name FROM public.units p WHERE p.id = u.parent_id),
        'path', (SELECT string_agg(up.name, '/' ORDER BY up.depth DESC) FROM up),
        'kind', u.kind, 'leader', u.leader, 'version', u.version,
        'created_at', api.pt_ts(u.created_at), 'updated_at', api.pt_ts(u.updated_at))
$$;

CREATE FUNCTION api.pt_unit_find(id text, lock boolean) RETURNS public.units
LANGUAGE plpgsql AS $$
DECLARE u public.units;
BEGIN
    IF lock THEN
        SELECT * INTO u FROM public.units WHERE units.id = api.pt_uuid(pt_unit_find.id) FOR UPDATE;
    ELSE
        SELECT * INTO u FROM public.units WHERE units.id = api.pt_uuid(pt_unit_find.id);
    END IF;
    IF u.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Unit not found', 'no unit with id ' || coalesce(id, 'null'));
    END IF;
    RETURN u;
END $$;

-- parent given as parent_id (uuid) or parent (name); NULL = the root.
CREATE FUNCTION api.pt_unit_parent(x jsonb) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
DECLARE p uuid;
BEGIN
    IF x->>'parent_id' IS NOT NULL THEN
        SELECT id INTO p FROM public.units WHERE id = api.pt_uuid(x->>'parent_id');
        IF p IS NULL THEN PERFORM api.pt_fail422('parent_id', 'is not a unit'); END IF;
    ELSIF api.pt_text(x->'parent') IS NOT NULL THEN
        SELECT id INTO p FROM public.units WHERE name = api.pt_text(x->'parent')
         ORDER BY parent_id IS NOT NULL, created_at, id LIMIT 1;
        IF p IS NULL THEN PERFORM api.pt_fail422('parent', 'is not a unit'); END IF;
    END IF;
    RETURN p;
END $$;

CREATE FUNCTION api.pt_units_list(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE tr(u, path) AS (
        SELECT u, ARRAY[u.name] FROM public.units u WHERE u.parent_id IS NULL
        UNION ALL
        SELECT c, tr.path || c.name FROM public.units c JOIN tr ON c.parent_id = (tr.u).id
         WHERE cardinality(tr.path) < 64)
    SELECT 200, jsonb_build_object('items',
        (SELECT coalesce(jsonb_agg(api.pt_unit_json(tr.u) ORDER BY tr.path), '[]') FROM tr))
$$;

CREATE FUNCTION api.pt_unit_get(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT 200, api.pt_unit_json(api.pt_unit_find(a->>'id', false));
END $$;

CREATE FUNCTION api.pt_unit_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    x jsonb := coalesce(a->'unit', '{}');
    u public.units;
BEGIN
    PERFORM api.pt_actor_begin(a);
    IF api.pt_text(x->'name') IS NULL THEN PERFORM api.pt_fail422('name', 'is required'); END IF;
    INSERT INTO public.units (name, parent_id, kind, leader)
    VALUES (api.pt_text(x->'name'), api.pt_unit_parent(x), api.pt_text(x->'kind'), api.pt_text(x->'leader'))
    ON CONFLICT DO NOTHING
    RETURNING * INTO u;
    IF u.id IS NULL THEN
        PERFORM api.pt_fail('PT409', 'unit exists', format('a unit named %s already sits under that parent',
                                                            api.pt_text(x->'name')));
    END IF;
    PERFORM api.pt_emit('unit.created', NULL, NULL, api.pt_unit_json(u) || jsonb_build_object('by', a->'actor'->>'name'));
    PERFORM api.pt_journal(NULL, NULL, 'unit', u.id, 'create', NULL, api.pt_unit_json(u), NULL);
    RETURN QUERY SELECT 201, api.pt_unit_json(u);
END $$;

CREATE FUNCTION api.pt_unit_patch(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    x jsonb := coalesce(a->'patch', '{}');
    u public.units;
    old jsonb;
    parent uuid;
BEGIN
    PERFORM api.pt_actor_begin(a);
    u := api.pt_unit_find(a->>'id', true);
    IF jsonb_typeof(a->'if_match') = 'number' AND (a->>'if_match')::int <> u.version THEN
        PERFORM api.pt_fail('PT412', 'Precondition failed',
            format('the unit is at version %s, not %s', u.version, a->>'if_match'));
    END IF;
    old := api.pt_unit_json(u);
    parent := u.parent_id;
    IF x ? 'parent_id' OR x ? 'parent' THEN
        parent := api.pt_unit_parent(x);
        IF parent IS NOT NULL AND parent = ANY (api.pt_unit_subtree(ARRAY[u.id])) THEN
            PERFORM api.pt_fail422(CASE WHEN x ? 'parent_id' THEN 'parent_id' ELSE 'parent' END,
                'would put the unit below itself');
        END IF;
    END IF;
    IF x ? 'name' AND api.pt_text(x->'name') IS NULL THEN PERFORM api.pt_fail422('name', 'must not be empty'); END IF;
    BEGIN
        UPDATE public.units SET
            name = CASE WHEN x ? 'name' THEN api.pt_text(x->'name') ELSE units.name END,
            parent_id = parent,
            kind = CASE WHEN x ? 'kind' THEN api.pt_text(x->'kind') ELSE units.kind END,
            leader = CASE WHEN x ? 'leader' THEN api.pt_text(x->'leader') ELSE units.leader END,
            version = units.version + 1, updated_at = now()
         WHERE units.id = u.id
        RETURNING * INTO u;
    EXCEPTION WHEN unique_violation THEN
        PERFORM api.pt_fail('PT409', 'unit exists', 'a unit with that name already sits under that parent');
    END;
    PERFORM api.pt_emit('unit.updated', NULL, NULL, api.pt_unit_json(u) || jsonb_build_object('by', a->'actor'->>'name'));
    PERFORM api.pt_journal(NULL, NULL, 'unit', u.id, 'update',
        (SELECT coalesce(jsonb_object_agg(k, jsonb_build_array(old->k, api.pt_unit_json(u)->k)), '{}')
           FROM unnest(ARRAY['name', 'parent_id', 'kind', 'leader']) k
          WHERE old->k IS DISTINCT FROM api.pt_unit_json(u)->k),
        api.pt_unit_json(u), NULL);
    RETURN QUERY SELECT 200, api.pt_unit_json(u);
END $$;

---------------------------------------------------------------------------
-- 签收 / 退回
---------------------------------------------------------------------------

-- The task locked, with the lead unit's scope checked and the status assigned.
CREATE FUNCTION api.pt_task_for_signing(a jsonb) RETURNS public.tasks
LANGUAGE plpgsql AS $$
DECLARE t public.tasks := api.pt_task_find(a->>'id', true);
BEGIN
    PERFORM api.pt_check_scope(a->'actor', t.lead_unit_id);
    PERFORM api.pt_check_version(t, a->'if_match');
    IF t.status <> 'assigned' THEN
        PERFORM api.pt_fail('PT409', 'task is not awaiting signature',
            format('签收 and 退回 apply to an assigned task; this one is %s', t.status));
    END IF;
    RETURN t;
END $$;

CREATE FUNCTION api.pt_task_sign(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE t public.tasks;
BEGIN
    PERFORM api.pt_actor_begin(a);
    t := api.pt_task_for_signing(a);
    t := api.pt_task_sign_step(t, a->'actor', api.pt_text(a->'note'), false);
    RETURN QUERY SELECT 200, api.pt_task_json(t, a->'cfg');
END $$;

-- 退回: back to the supervisor, without a lead unit, with the reason kept.
CREATE FUNCTION api.pt_task_return(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks;
    actor jsonb := a->'actor';
    reason text := api.pt_text(a->'reason');
    lead uuid;
BEGIN
    PERFORM api.pt_actor_begin(a);
    t := api.pt_task_for_signing(a);
    IF reason IS NULL THEN PERFORM api.pt_fail422('reason', 'is required (退回 needs a reason)'); END IF;
    lead := t.lead_unit_id;
    PERFORM api.pt_journal_context('return', reason);
    UPDATE public.tasks x SET status = 'planned', lead_unit_id = NULL, assigned_at = NULL,
           returned_at = now(), returned_by = coalesce(actor->>'name', 'unknown'), returned_unit_id = lead,
           return_reason = reason, version = x.version + 1, updated_at = now()
     WHERE x.id = t.id
    RETURNING * INTO t;
    PERFORM api.pt_emit('task.returned', t.plan_id, t.id,
        jsonb_build_object('unit', api.pt_unit_name(lead), 'reason', reason,
                           'version', t.version, 'by', coalesce(actor->>'name', 'unknown')));
    RETURN QUERY SELECT 200, api.pt_task_json(t, a->'cfg');
END $$;

---------------------------------------------------------------------------
-- plan approval and change requests
---------------------------------------------------------------------------

CREATE FUNCTION api.pt_plan_approve(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE p public.plans;
BEGIN
    PERFORM api.pt_actor_begin(a);
    SELECT * INTO p FROM public.plans WHERE id = api.pt_uuid(a->>'id') AND deleted_at IS NULL FOR UPDATE;
    IF p.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Plan not found', 'no plan with id ' || coalesce(a->>'id', 'null'));
    END IF;
    IF p.approved_at IS NOT NULL THEN
        PERFORM api.pt_fail('PT409', 'plan is already approved',
            format('approved on %s by %s', api.pt_ts(p.approved_at), p.approved_by));
    END IF;
    PERFORM api.pt_journal_context('approve', api.pt_text(a->'note'));
    UPDATE public.plans SET approved_at = now(), approved_by = coalesce(a->'actor'->>'name', 'unknown'),
           owner = coalesce(api.pt_text(a->'owner'), plans.owner)
     WHERE plans.id = p.id
    RETURNING * INTO p;
    UPDATE public.tasks SET original_due_date = due_date
     WHERE plan_id = p.id AND deleted_at IS NULL AND original_due_date IS DISTINCT FROM due_date;
    PERFORM api.pt_emit('plan.approved', p.id, NULL,
        jsonb_build_object('title', p.title, 'owner', p.owner, 'by', p.approved_by, 'note', api.pt_text(a->'note')));
    RETURN QUERY SELECT 200, api.pt_plan_json(p);
END $$;

CREATE FUNCTION api.pt_change_json(c public.change_requests) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', c.id, 'task_id', c.task_id, 'plan_id', c.plan_id,
        'task', (SELECT jsonb_build_object('code', t.code, 'title', t.title,
                        'lead_unit', api.pt_unit_name(t.lead_unit_id)) FROM public.tasks t WHERE t.id = c.task_id),
        'fields', to_jsonb(c.fields), 'changes', c.changes, 'reason', c.reason, 'state', c.state,
        'requested_by', c.requested_by, 'requested_unit', api.pt_unit_name(c.requested_unit),
        'requested_at', api.pt_ts(c.requested_at),
        'decided_by', c.decided_by, 'decided_at', api.pt_ts(c.decided_at), 'comment', c.comment)
$$;

-- A controlled field's current value, in the shape a request or patch sends it.
CREATE FUNCTION api.pt_task_field(t public.tasks, f text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE f
        WHEN 'title' THEN to_jsonb(t.title)
        WHEN 'due_date' THEN to_jsonb(t.due_date)
        WHEN 'targets' THEN (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object('label', g.label,
                                    'value', g.value, 'unit', g.unit, 'comparator', g.comparator, 'text', g.text))
                                    ORDER BY g.ord, g.id), '[]')
                               FROM public.targets g WHERE g.task_id = t.id)
        WHEN 'milestones' THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('title', m.title, 'due_date', m.due_date)
                                       ORDER BY m.ord, m.id), '[]')
                                  FROM public.milestones m WHERE m.task_id = t.id)
        END
$$;

-- 延期申请 / 调整申请: {actor, cfg, id (task), request: {changes: {field: new}, reason}}
CREATE FUNCTION api.pt_change_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks;
    actor jsonb := a->'actor';
    ch jsonb := coalesce(a->'request'->'changes', '{}');
    reason text := api.pt_text(a->'request'->'reason');
    f text;
    flds text[];
    pending public.change_requests;
    c public.change_requests;
BEGIN
    PERFORM api.pt_actor_begin(a);
    t := api.pt_task_find(a->>'id', true);
    IF NOT api.pt_in_scope(actor, t.lead_unit_id) THEN
        PERFORM api.pt_fail('PT403', 'change request out of scope',
            'only the lead unit (or a unit above it) or a supervisor may ask to change this task');
    END IF;
    SELECT array_agg(k ORDER BY k) INTO flds FROM jsonb_object_keys(ch) k;
    IF flds IS NULL THEN PERFORM api.pt_fail422('changes', 'must name at least one field'); END IF;
    FOREACH f IN ARRAY flds LOOP
        IF NOT f = ANY (api.pt_controlled_fields()) THEN
            PERFORM api.pt_fail422('changes.' || f, 'is not a field a change request changes (due_date, milestones, targets, title)');
        END IF;
    END LOOP;
    IF reason IS NULL THEN PERFORM api.pt_fail422('reason', 'is required'); END IF;
    IF ch ? 'title' AND api.pt_text(ch->'title') IS NULL THEN PERFORM api.pt_fail422('changes.title', 'must not be empty'); END IF;
    BEGIN
        PERFORM nullif(ch->>'due_date', '')::date;
    EXCEPTION WHEN data_exception THEN
        PERFORM api.pt_fail422('changes.due_date', 'must be a date YYYY-MM-DD');
    END;
    -- one pending request per task and field (the task row lock serialises filers)
    SELECT * INTO pending FROM public.change_requests r
     WHERE r.task_id = t.id AND r.state = 'pending' AND r.fields && flds
     ORDER BY r.requested_at LIMIT 1;
    IF pending.id IS NOT NULL THEN
        PERFORM api.pt_fail('PT409', 'a change request for this field is already pending',
            format('request %s (filed %s by %s) already asks to change %s; wait for its decision',
                   pending.id, api.pt_ts(pending.requested_at), pending.requested_by,
                   array_to_string(ARRAY(SELECT unnest(pending.fields) INTERSECT SELECT unnest(flds)), ', ')));
    END IF;
    INSERT INTO public.change_requests (task_id, plan_id, fields, changes, reason, requested_by, requested_token,
                                        requested_unit)
    VALUES (t.id, t.plan_id, flds,
            (SELECT jsonb_object_agg(k, jsonb_build_array(api.pt_task_field(t, k), ch->k)) FROM unnest(flds) k),
            reason, coalesce(actor->>'name', 'unknown'), api.pt_uuid(actor->>'token_id'),
            coalesce(api.pt_uuid(actor->>'unit_id'), t.lead_unit_id))
    RETURNING * INTO c;
    PERFORM api.pt_emit('change.requested', t.plan_id, t.id,
        jsonb_build_object('change_id', c.id, 'fields', to_jsonb(c.fields), 'changes', c.changes,
                           'reason', c.reason, 'by', c.requested_by));
    PERFORM api.pt_journal(t.plan_id, t.id, 'change', c.id, 'request', c.changes, api.pt_change_json(c), c.reason);
    RETURN QUERY SELECT 201, api.pt_change_json(c);
END $$;

-- {actor, cfg, id, decision: approve|reject, comment}. Approval applies the
-- change to the task in the same transaction.
CREATE FUNCTION api.pt_change_decide(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    actor jsonb := a->'actor';
    approve boolean := a->>'decision' = 'approve';
    c public.change_requests;
    t public.tasks;
    patch jsonb;
    changed text[];
BEGIN
    PERFORM api.pt_actor_begin(a);
    SELECT * INTO c FROM public.change_requests r WHERE r.id = api.pt_uuid(a->>'id') FOR UPDATE;
    IF c.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Change request not found', 'no change request with id ' || coalesce(a->>'id', 'null'));
    END IF;
    IF c.state <> 'pending' THEN
        PERFORM api.pt_fail('PT409', 'change request is not pending',
            format('it was %s on %s by %s', c.state, api.pt_ts(c.decided_at), c.decided_by));
    END IF;
    IF approve AND (api.pt_uuid(actor->>'token_id') = c.requested_token
                    OR (c.requested_token IS NULL AND c.requested_by = actor->>'name')) THEN
        PERFORM api.pt_fail('PT403', 'you cannot approve your own request',
            'a change request is decided by a supervisor other than the one who filed it');
    END IF;
    IF NOT approve AND api.pt_text(a->'comment') IS NULL THEN
        PERFORM api.pt_fail422('comment', 'is required when rejecting');
    END IF;
    IF approve THEN
        t := api.pt_task_find(c.task_id::text, true);
        -- the task's field changes are journalled as this approval
        PERFORM api.pt_journal_context('approve', coalesce(api.pt_text(a->'comment'), c.reason));
        SELECT jsonb_object_agg(k, c.changes->k->1) INTO patch FROM unnest(c.fields) k;
        changed := api.pt_task_apply(t, patch, actor, a->'cfg');
        SELECT * INTO t FROM public.tasks WHERE id = t.id;
        PERFORM api.pt_emit('task.updated', t.plan_id, t.id,
            jsonb_build_object('changed', to_jsonb(changed), 'version', t.version, 'by', actor->>'name',
                               'change_id', c.id));
    END IF;
    UPDATE public.change_requests r SET state = CASE WHEN approve THEN 'approved' ELSE 'rejected' END,
           decided_by = coalesce(actor->>'name', 'unknown'), decided_token = api.pt_uuid(actor->>'token_id'),
           decided_at = now(), comment = api.pt_text(a->'comment')
     WHERE r.id = c.id
    RETURNING * INTO c;
    PERFORM api.pt_emit(CASE WHEN approve THEN 'change.approved' ELSE 'change.rejected' END, c.plan_id, c.task_id,
        jsonb_build_object('change_id', c.id, 'fields', to_jsonb(c.fields), 'changes', c.changes,
                           'comment', c.comment, 'by', c.decided_by));
    PERFORM api.pt_journal(c.plan_id, c.task_id, 'change', c.id,
        CASE WHEN approve THEN 'approve' ELSE 'reject' END, c.changes, api.pt_change_json(c), c.comment);
    RETURN QUERY SELECT 200, api.pt_change_json(c);
END $$;

-- {state?, task?, plan?, limit, cursor}: oldest first (a queue).
CREATE FUNCTION api.pt_changes_list(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := api.pt_limit(a);
    cur record := api.pt_parse_ts_cursor(a->>'cursor');
    items jsonb[] := '{}';
    n int := 0;
    c public.change_requests;
    last public.change_requests;
BEGIN
    FOR c IN SELECT * FROM public.change_requests r
              WHERE (a->>'state' IS NULL OR r.state = a->>'state')
                AND (a->>'task' IS NULL OR r.task_id = api.pt_uuid(a->>'task'))
                AND (a->>'plan' IS NULL OR r.plan_id = api.pt_uuid(a->>'plan'))
                AND (cur.t IS NULL OR (r.requested_at, r.id) > (cur.t, cur.id))
              ORDER BY r.requested_at, r.id LIMIT lim + 1 LOOP
        n := n + 1;
        EXIT WHEN n > lim;
        items := items || api.pt_change_json(c);
        last := c;
    END LOOP;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(to_jsonb(items), '[]'),
        'next_cursor', CASE WHEN n > lim THEN api.pt_ts_cursor(last.requested_at, last.id) END);
END $$;

---------------------------------------------------------------------------
-- 佐证材料 (the C side checked size and type against the bytes)
---------------------------------------------------------------------------

-- {actor, id (task), filename, content_type}, data: the bytes.
CREATE FUNCTION api.pt_attachment_add(a jsonb, data bytea) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    t public.tasks;
    actor jsonb := a->'actor';
    x public.attachments;
BEGIN
    PERFORM api.pt_actor_begin(a);
    t := api.pt_task_find(a->>'id', false);
    IF NOT api.pt_in_scope(actor, t.lead_unit_id) AND NOT api.pt_in_co_scope(actor, t.co_unit_ids) THEN
        PERFORM api.pt_check_scope(actor, t.lead_unit_id);
    END IF;
    INSERT INTO public.attachments (task_id, filename, content_type, size, sha256, data, uploaded_by, token_id, unit_id)
    VALUES (t.id, coalesce(api.pt_text(a->'filename'), 'attachment'), a->>'content_type', length(data),
            encode(sha256(data), 'hex'), data, coalesce(actor->>'name', 'unknown'), api.pt_uuid(actor->>'token_id'),
            api.pt_uuid(actor->>'unit_id'))
    RETURNING * INTO x;
    PERFORM api.pt_emit('attachment.added', t.plan_id, t.id,
        api.pt_attachment_json(x) || jsonb_build_object('by', x.uploaded_by));
    PERFORM api.pt_journal(t.plan_id, t.id, 'attachment', x.id, 'create', NULL, api.pt_attachment_json(x), NULL);
    RETURN QUERY SELECT 201, api.pt_attachment_json(x);
END $$;

---------------------------------------------------------------------------
-- reminders (三级预警), once per task, kind and occasion
---------------------------------------------------------------------------

-- The start of the reporting period containing d.
CREATE FUNCTION api.pt_period_start(cadence text, d date) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE cadence
        WHEN 'weekly' THEN date_trunc('week', d)::date
        WHEN 'monthly' THEN date_trunc('month', d)::date
        WHEN 'quarterly' THEN date_trunc('quarter', d)::date
        WHEN 'yearly' THEN date_trunc('year', d)::date END
$$;

CREATE FUNCTION api.pt_period_length(cadence text) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE cadence WHEN 'weekly' THEN interval '1 week' WHEN 'monthly' THEN interval '1 month'
                        WHEN 'quarterly' THEN interval '3 months' ELSE interval '1 year' END
$$;

-- Called by one daemon at a time (others find the lock taken and return NULL):
-- cfg {today, reminder_days (3), sign_days (3), overdue_levels [1,6,11]}.
-- Emits task.due_soon, task.overdue (level 1/2/3), task.report_missing and
-- task.unsigned (never for archived or deleted plans), each at most once per
-- task and occasion (reminders_sent's key
-- holds even without the lock). Returns how many it emitted. Also purges the
-- plans deleted 30 days ago (pt_plans_purge).
CREATE FUNCTION api.pt_reminders_run(cfg jsonb) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    today date := api.pt_today(cfg);
    soon int := coalesce((cfg->>'reminder_days')::int, 3);
    sign_days int := coalesce((cfg->>'sign_days')::int, 3);
    l2 int := coalesce((cfg->'overdue_levels'->>1)::int, 6);
    l3 int := coalesce((cfg->'overdue_levels'->>2)::int, 11);
    n int;
BEGIN
    IF NOT pg_try_advisory_xact_lock(7262610426) THEN
        RETURN NULL;
    END IF;
    WITH live AS (
        SELECT t.*, p.owner AS plan_owner, un.name AS unit_name, un.leader AS unit_leader
          FROM public.tasks t JOIN public.plans p ON p.id = t.plan_id AND p.deleted_at IS NULL AND p.archived_at IS NULL
          LEFT JOIN public.units un ON un.id = t.lead_unit_id
         WHERE t.deleted_at IS NULL AND t.status NOT IN ('done', 'verified', 'cancelled')),
    base AS (
        SELECT l.*, jsonb_build_object('code', l.code, 'title', l.title, 'due_date', l.due_date,
                   'lead_unit', l.unit_name, 'owner', l.owner, 'today', today) AS info
          FROM live l),
    cand AS (
        SELECT b.id, b.plan_id, 'due_soon' AS kind, b.due_date::text AS occasion,
               b.info || jsonb_build_object('working_days_left', api.pt_workdays_after(today, b.due_date)) AS data
          FROM base b
         WHERE b.due_date IS NOT NULL AND today <= b.due_date AND today >= api.pt_workdays_before(b.due_date, soon)
        UNION ALL
        SELECT x.id, x.plan_id, 'overdue', x.due_date::text || ':' || x.level,
               x.info || jsonb_build_object('level', x.level, 'days_overdue', x.days,
                   'notify', CASE x.level
                       WHEN 1 THEN jsonb_build_object('owner', x.owner, 'lead_unit', x.unit_name)
                       ELSE jsonb_build_object('owner', x.owner, 'lead_unit', x.unit_name,
                            'leader', coalesce(x.leader, x.unit_leader), 'plan_owner', x.plan_owner) END,
                   'leader', coalesce(x.leader, x.unit_leader), 'plan_owner', x.plan_owner)
          FROM (SELECT b.*, today - b.due_date AS days,
                       CASE WHEN today - b.due_date >= l3 THEN 3 WHEN today - b.due_date >= l2 THEN 2 ELSE 1 END AS level
                  FROM base b WHERE b.due_date IS NOT NULL AND today > b.due_date) x
        UNION ALL
        SELECT y.id, y.plan_id, 'report_missing', y.ps::text,
               y.info || jsonb_build_object('cadence', y.cadence, 'period_start', y.ps,
                                            'period_end', (y.ps + api.pt_period_length(y.cadence))::date - 1)
          FROM (SELECT b.*, (api.pt_period_start(b.cadence, today) - api.pt_period_length(b.cadence))::date AS ps
                  FROM base b WHERE b.cadence IS NOT NULL AND b.status <> 'assigned') y
         WHERE (y.created_at AT TIME ZONE 'UTC')::date <= y.ps
           AND NOT EXISTS (SELECT 1 FROM public.updates u
                            WHERE u.task_id = y.id AND u.kind = 'report'
                              AND (u.at AT TIME ZONE 'UTC')::date >= y.ps
                              AND (u.at AT TIME ZONE 'UTC')::date < (y.ps + api.pt_period_length(y.cadence))::date)
        UNION ALL
        SELECT b.id, b.plan_id, 'unsigned', api.pt_ts(b.assigned_at),
               b.info || jsonb_build_object('assigned_at', api.pt_ts(b.assigned_at),
                   'working_days', api.pt_workdays_after((b.assigned_at AT TIME ZONE 'UTC')::date, today))
          FROM base b
         WHERE b.status = 'assigned' AND b.assigned_at IS NOT NULL
           AND api.pt_workdays_after((b.assigned_at AT TIME ZONE 'UTC')::date, today) >= sign_days),
    ins AS (
        INSERT INTO public.reminders_sent (task_id, kind, occasion)
        SELECT c.id, c.kind, c.occasion FROM cand c
        ON CONFLICT DO NOTHING
        RETURNING task_id, kind, occasion),
    ev AS (
        INSERT INTO public.events (type, plan_id, task_id, payload)
        SELECT 'task.' || c.kind, c.plan_id, c.id, c.data || jsonb_build_object('occasion', c.occasion)
          FROM cand c JOIN ins ON ins.task_id = c.id AND ins.kind = c.kind AND ins.occasion = c.occasion
        RETURNING id)
    SELECT count(*) INTO n FROM ev;
    PERFORM api.pt_plans_purge();   -- plans deleted 30 days ago (sql/api/42_plan_admin.sql)
    RETURN n;
END $$;
