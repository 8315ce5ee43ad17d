-- sql/api/15_journal.sql - the journal (migrations/0005_journal.sql): the actor
-- of the transaction, pt_journal for explicit entries, the triggers that record
-- every field change of plans, tasks, targets and milestones, and a task's history.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path. The journal's append-only guard is not here but in
-- the migration (public.journal_append_only), so a rebuild never drops it.

---------------------------------------------------------------------------
-- the actor of the transaction
---------------------------------------------------------------------------

-- Every write function calls this first with its argument: the actor
-- ({name, token_id, role, unit_id, request_id}) becomes the transaction's
-- plantrack.actor, which the journal triggers read. Also resets the
-- transaction's journal action and note (pt_journal_context).
-- a may be the function's whole argument (actor under "actor") or the actor itself.
CREATE FUNCTION api.pt_actor_begin(a jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE x jsonb := CASE WHEN jsonb_typeof(a->'actor') = 'object' THEN a->'actor'
                        WHEN jsonb_typeof(a) = 'object' AND a ? 'name' THEN a
                        ELSE '{}' END;
BEGIN
    -- one statement, not three (every write starts here)
    PERFORM set_config('plantrack.actor', jsonb_build_object(
        'name', x->'name', 'token_id', x->'token_id', 'role', x->'role', 'unit_id', x->'unit_id',
        'request_id', x->'request_id')::text, true),
            set_config('plantrack.action', '', true),
            set_config('plantrack.note', '', true);
END $$;

-- The transaction's actor ({} when no write function set one: migrations, psql).
CREATE FUNCTION api.pt_actor() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN coalesce(current_setting('plantrack.actor', true), '') = '' THEN '{}'::jsonb
                ELSE current_setting('plantrack.actor', true)::jsonb END
$$;

-- The action (instead of 'update') and note the journal triggers record for the
-- rest of the transaction, e.g. ('report', the report's note).
-- (plpgsql: its statement's plan is cached for the session; this SQL function,
-- not inlinable, was parsed and planned on every call: 0.09 ms of a report's 1)
CREATE FUNCTION api.pt_journal_context(action text, note text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('plantrack.action', coalesce(action, ''), true),
            set_config('plantrack.note', coalesce(note, ''), true);
END $$;

-- An explicit journal entry with the transaction's actor; returns its id.
CREATE FUNCTION api.pt_journal(plan uuid, task uuid, entity text, entity_id uuid, action text,
                               changes jsonb, snapshot jsonb, note text) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO public.journal (plan_id, task_id, entity, entity_id, action, changes, snapshot,
                                author, token_id, role, request_id, note)
    SELECT plan, task, entity, entity_id, action, coalesce(changes, '{}'), snapshot,
           x->>'name', api.pt_uuid(x->>'token_id'), x->>'role', x->>'request_id', note
      FROM (SELECT api.pt_actor() AS x) s
    RETURNING id
$$;

---------------------------------------------------------------------------
-- triggers: every field change of plans, tasks, targets, milestones
---------------------------------------------------------------------------

-- A row as journalled: plans without their (large) source text.
CREATE FUNCTION api.pt_journal_row(tbl text, r jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN tbl = 'plans' THEN r - 'source_text' ELSE r END
$$;

-- Inserts: one statement-level trigger per table (a 10 000-row import is one
-- INSERT ... SELECT here, not 10 000 trigger calls).
CREATE FUNCTION api.pt_journal_ins() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    x jsonb := api.pt_actor();
    nt text := nullif(current_setting('plantrack.note', true), '');
    tok uuid := api.pt_uuid(x->>'token_id');   -- once, not per inserted row
BEGIN
    IF TG_TABLE_NAME = 'tasks' THEN
        INSERT INTO public.journal (plan_id, task_id, entity, entity_id, action, snapshot,
                                    author, token_id, role, request_id, note)
        SELECT n.plan_id, n.id, 'task', n.id, 'create', to_jsonb(n),
               x->>'name', tok, x->>'role', x->>'request_id', nt
          FROM new_rows n;   -- already in ord order: the transition table keeps insertion
                             -- order and ord is the serial default (no insert sets it), so
                             -- no sort (100,000 snapshots: about 0.5 s and 115 MB)
    ELSIF TG_TABLE_NAME = 'plans' THEN
        INSERT INTO public.journal (plan_id, task_id, entity, entity_id, action, snapshot,
                                    author, token_id, role, request_id, note)
        SELECT n.id, NULL, 'plan', n.id, 'create', to_jsonb(n) - 'source_text',
               x->>'name', tok, x->>'role', x->>'request_id', nt
          FROM new_rows n;
    ELSE
        INSERT INTO public.journal (plan_id, task_id, entity, entity_id, action, snapshot,
                                    author, token_id, role, request_id, note)
        SELECT t.plan_id, n.task_id, TG_ARGV[0], n.id, 'create', to_jsonb(n),
               x->>'name', tok, x->>'role', x->>'request_id', nt
          FROM new_rows n LEFT JOIN public.tasks t ON t.id = n.task_id
         ORDER BY n.task_id, n.ord;
    END IF;
    RETURN NULL;
END $$;

-- Updates and deletes, per row: {field: [old, new]} of every field that
-- changed, bookkeeping columns (version, updated_at, child_count, ord) left
-- out; a change of bookkeeping only is not journalled. Setting deleted_at is a
-- 'delete', clearing it a 'restore'; otherwise the transaction's action
-- (pt_journal_context, e.g. 'report') or 'update'. A hard delete records the
-- row as it was.
CREATE FUNCTION api.pt_journal_upd() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    ent text := TG_ARGV[0];
    o jsonb := api.pt_journal_row(TG_TABLE_NAME, to_jsonb(OLD));
    n jsonb;
    ch jsonb := '{}';
    act text;
    plan uuid;
    task uuid;
    x jsonb := api.pt_actor();
BEGIN
    IF TG_OP = 'UPDATE' THEN
        n := api.pt_journal_row(TG_TABLE_NAME, to_jsonb(NEW));
        SELECT coalesce(jsonb_object_agg(k.key, jsonb_build_array(o->k.key, k.value)), '{}') INTO ch
          FROM jsonb_each(n) k
         WHERE k.value IS DISTINCT FROM o->k.key
           AND k.key NOT IN ('version', 'updated_at', 'child_count', 'ord');
        IF ch = '{}' THEN RETURN NULL; END IF;
        act := CASE WHEN ch ? 'deleted_at' AND n->>'deleted_at' IS NOT NULL THEN 'delete'
                    WHEN ch ? 'deleted_at' THEN 'restore'
                    ELSE coalesce(nullif(current_setting('plantrack.action', true), ''), 'update') END;
    ELSE
        n := o;
        act := 'delete';
    END IF;
    IF ent = 'task' THEN
        plan := (n->>'plan_id')::uuid; task := (n->>'id')::uuid;
    ELSIF ent = 'plan' THEN
        plan := (n->>'id')::uuid;
    ELSE
        task := (n->>'task_id')::uuid;
        SELECT t.plan_id INTO plan FROM public.tasks t WHERE t.id = task;
    END IF;
    INSERT INTO public.journal (plan_id, task_id, entity, entity_id, action, changes, snapshot,
                                author, token_id, role, request_id, note)
    VALUES (plan, task, ent, (n->>'id')::uuid, act, ch, n,
            x->>'name', api.pt_uuid(x->>'token_id'), x->>'role', x->>'request_id',
            nullif(current_setting('plantrack.note', true), ''));
    RETURN NULL;
END $$;

CREATE TRIGGER plans_journal_ins AFTER INSERT ON public.plans
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION api.pt_journal_ins('plan');
CREATE TRIGGER plans_journal_upd AFTER UPDATE OR DELETE ON public.plans
    FOR EACH ROW EXECUTE FUNCTION api.pt_journal_upd('plan');
CREATE TRIGGER tasks_journal_ins AFTER INSERT ON public.tasks
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION api.pt_journal_ins('task');
CREATE TRIGGER tasks_journal_upd AFTER UPDATE OR DELETE ON public.tasks
    FOR EACH ROW EXECUTE FUNCTION api.pt_journal_upd('task');
CREATE TRIGGER targets_journal_ins AFTER INSERT ON public.targets
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION api.pt_journal_ins('target');
CREATE TRIGGER targets_journal_upd AFTER UPDATE OR DELETE ON public.targets
    FOR EACH ROW EXECUTE FUNCTION api.pt_journal_upd('target');
CREATE TRIGGER milestones_journal_ins AFTER INSERT ON public.milestones
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION api.pt_journal_ins('milestone');
CREATE TRIGGER milestones_journal_upd AFTER UPDATE OR DELETE ON public.milestones
    FOR EACH ROW EXECUTE FUNCTION api.pt_journal_upd('milestone');

-- ALWAYS: also in a session whose session_replication_role is replica, as an
-- import job's inserts are (api.pt_bulk_begin: the per-row foreign-key
-- checks off, the journal not). Nothing here uses logical replication; were
-- a subscriber ever to apply these tables, it would journal them again.
ALTER TABLE public.plans ENABLE ALWAYS TRIGGER plans_journal_ins;
ALTER TABLE public.plans ENABLE ALWAYS TRIGGER plans_journal_upd;
ALTER TABLE public.tasks ENABLE ALWAYS TRIGGER tasks_journal_ins;
ALTER TABLE public.tasks ENABLE ALWAYS TRIGGER tasks_journal_upd;
ALTER TABLE public.targets ENABLE ALWAYS TRIGGER targets_journal_ins;
ALTER TABLE public.targets ENABLE ALWAYS TRIGGER targets_journal_upd;
ALTER TABLE public.milestones ENABLE ALWAYS TRIGGER milestones_journal_ins;
ALTER TABLE public.milestones ENABLE ALWAYS TRIGGER milestones_journal_upd;

---------------------------------------------------------------------------
-- a task's history
---------------------------------------------------------------------------

CREATE FUNCTION api.pt_journal_json(j public.journal) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', j.id, 'at', api.pt_ts(j.at), 'author', j.author, 'role', j.role,
        'request_id', j.request_id, 'entity', j.entity, 'entity_id', j.entity_id, 'action', j.action,
        'changes', j.changes, 'note', j.note)
$$;

-- {id, limit, cursor?} -> 200 {"items":[entry…], "next_cursor"}: every journal
-- entry of the task (its own row, targets, milestones, and whatever else names
-- the task), oldest first. Cursor "<at in epoch microseconds>_<journal id>".
-- Deleted tasks keep their history; an unknown task is PT404.
CREATE FUNCTION api.pt_task_history(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    tid uuid := api.pt_uuid(a->>'id');
    lim int := api.pt_limit(a);
    c text := a->>'cursor';
    cat timestamptz;
    cid bigint;
    items jsonb[] := '{}';
    n int := 0;
    j public.journal;
    last public.journal;
BEGIN
    IF tid IS NULL OR NOT EXISTS (SELECT 1 FROM public.tasks t WHERE t.id = tid) THEN
        PERFORM api.pt_fail('PT404', 'Task not found', 'no task with id ' || coalesce(a->>'id', 'null'));
    END IF;
    IF c IS NOT NULL THEN
        IF c !~ '^-?[0-9]{1,17}_[0-9]{1,18}$' THEN PERFORM api.pt_fail422('cursor', 'is not a cursor from this API'); END IF;
        cat := 'epoch'::timestamptz + (split_part(c, '_', 1) || ' microseconds')::interval;
        cid := split_part(c, '_', 2)::bigint;
    END IF;
    FOR j IN SELECT * FROM public.journal
              WHERE task_id = tid AND (cat IS NULL OR (at, id) > (cat, cid))
              ORDER BY at, id LIMIT lim + 1 LOOP
        n := n + 1;
        EXIT WHEN n > lim;
        items := items || api.pt_journal_json(j);
        last := j;
    END LOOP;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(to_jsonb(items), '[]'),
        'next_cursor', CASE WHEN n > lim
                            THEN (extract(epoch FROM last.at) * 1000000)::bigint::text || '_' || last.id END);
END $$;
