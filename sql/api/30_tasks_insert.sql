-- sql/api/30_tasks_insert.sql - creating tasks in bulk (plans and tasks share it).
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

---------------------------------------------------------------------------
-- creating tasks
---------------------------------------------------------------------------

-- A milestone's partial target as stored (milestones.target): the parser's
-- target object without its bookkeeping, NULL unless an object.
CREATE FUNCTION api.pt_ms_target(x jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(x) = 'object' THEN jsonb_strip_nulls(jsonb_build_object(
        'label', x->'label', 'value', x->'value', 'unit', x->'unit', 'comparator', x->'comparator',
        'verb', x->'verb', 'strive', x->'strive', 'baseline', x->'baseline', 'text', x->'text')) END
$$;

-- A task's facts as stored (tasks.facts): an array (shown, never scored); NULL
-- when x is present but not an array of objects (the caller refuses it).
CREATE FUNCTION api.pt_facts(x jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN x IS NULL OR jsonb_typeof(x) = 'null' THEN '[]'::jsonb
                WHEN jsonb_typeof(x) <> 'array' THEN NULL
                WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(x) e WHERE jsonb_typeof(e) <> 'object') THEN NULL
                ELSE x END
$$;

-- Replace a task's targets with the list given, keeping ids by position.
CREATE FUNCTION api.pt_set_targets(tid uuid, list jsonb) RETURNS void
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
        cmp := coalesce(api.pt_text(x->'comparator'), '=');
        IF cmp NOT IN ('>=', '<=', '=') THEN
            PERFORM api.pt_fail422('targets[' || (i - 1) || '].comparator', 'must be >=, <= or =');
        END IF;
        IF i <= cardinality(old) THEN
            UPDATE public.targets SET ord = i, label = api.pt_text(x->'label'), value = (x->>'value')::numeric,
                   unit = api.pt_text(x->'unit'), comparator = cmp,
                   current = CASE WHEN x ? 'current' THEN (x->>'current')::numeric ELSE current END,
                   baseline = CASE WHEN x ? 'baseline' THEN (x->>'baseline')::numeric ELSE baseline END,
                   text = api.pt_text(x->'text'),
                   verb = CASE WHEN x ? 'verb' THEN api.pt_text(x->'verb') ELSE verb END,
                   strive = CASE WHEN x ? 'strive' THEN coalesce((x->>'strive')::boolean, false) ELSE strive END
             WHERE id = old[i];
        ELSE
            INSERT INTO public.targets (task_id, ord, label, value, unit, comparator, current, baseline, text, verb, strive)
            VALUES (tid, i, api.pt_text(x->'label'), (x->>'value')::numeric, api.pt_text(x->'unit'), cmp,
                    (x->>'current')::numeric, (x->>'baseline')::numeric, api.pt_text(x->'text'),
                    api.pt_text(x->'verb'), coalesce((x->>'strive')::boolean, false));
        END IF;
    END LOOP;
    IF cardinality(old) > i THEN
        DELETE FROM public.targets WHERE id = ANY (old[i + 1:]);
    END IF;
END $$;

CREATE FUNCTION api.pt_set_milestones(tid uuid, list jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    old uuid[];
    x jsonb;
    i int := 0;
BEGIN
    SELECT coalesce(array_agg(id ORDER BY ord, id), '{}') INTO old FROM public.milestones WHERE task_id = tid;
    FOR x IN SELECT e FROM jsonb_array_elements(CASE WHEN jsonb_typeof(list) = 'array' THEN list ELSE '[]' END) e LOOP
        i := i + 1;
        IF api.pt_text(x->'title') IS NULL THEN
            PERFORM api.pt_fail422('milestones[' || (i - 1) || '].title', 'is required');
        END IF;
        IF i <= cardinality(old) THEN
            UPDATE public.milestones SET ord = i, title = api.pt_text(x->'title'),
                   due_date = nullif(x->>'due_date', '')::date,
                   target = CASE WHEN x ? 'target' THEN api.pt_ms_target(x->'target') ELSE target END
             WHERE id = old[i];
        ELSE
            INSERT INTO public.milestones (task_id, ord, title, due_date, target)
            VALUES (tid, i, api.pt_text(x->'title'), nullif(x->>'due_date', '')::date, api.pt_ms_target(x->'target'));
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
-- cfg: create_units (see pt_unit_resolve); due_source: where a due date given
-- without its own due_source came from (CSV imports: csv). A task with a lead unit and no
-- status starts assigned (交办, awaiting 签收); in an approved plan its due
-- date is also its original one.
-- Generic plans only: a custom plan copies list (100,000 rows: 20 MB) into
-- the plan as a constant, several times per statement (measured: 1.4 s of
-- 11.7 s for a 100,000-row import at load average 2.5, spent planning).
CREATE FUNCTION api.pt_tasks_insert(plan uuid, parent uuid, parent_code text, list jsonb, pos int,
                                       actor jsonb, path text, INOUT ids uuid[], ibase int DEFAULT 0,
                                       cfg jsonb DEFAULT NULL)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    bad record;
    new_ids uuid[];
    kid record;
    u uuid;
    approved boolean := EXISTS (SELECT 1 FROM public.plans p WHERE p.id = plan AND p.approved_at IS NOT NULL);
    umap jsonb := '{}';
    un record;
BEGIN
    IF jsonb_typeof(list) IS DISTINCT FROM 'array' OR jsonb_array_length(list) = 0 THEN
        RETURN;
    END IF;
    -- ord is document order: with subtrees, insert one element (and its subtree) at a time
    IF jsonb_array_length(list) > 1 AND EXISTS (
            SELECT 1 FROM jsonb_array_elements(list) e
             WHERE jsonb_typeof(e->'children') = 'array' AND jsonb_array_length(e->'children') > 0) THEN
        FOR kid IN SELECT e.x, e.n FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n) ORDER BY e.n LOOP
            ids := api.pt_tasks_insert(plan, parent, parent_code, jsonb_build_array(kid.x), pos + kid.n::int - 1,
                                          actor, path, ids, ibase + kid.n::int - 1, cfg);
        END LOOP;
        RETURN;
    END IF;
    -- validation: the first offending element, by position
    SELECT ibase + e.n - 1 AS i,
           CASE WHEN jsonb_typeof(e.x) IS DISTINCT FROM 'object' OR api.pt_text(e.x->'title') IS NULL THEN 'title'
                WHEN coalesce(api.pt_text(e.x->'status'), 'planned')
                     NOT IN ('assigned', 'planned', 'in_progress', 'blocked', 'done', 'verified', 'cancelled') THEN 'status'
                WHEN jsonb_typeof(e.x->'progress') = 'number' AND (e.x->>'progress')::numeric NOT BETWEEN 0 AND 100
                     THEN 'progress'
                WHEN jsonb_typeof(e.x->'weight') = 'number' AND (e.x->>'weight')::numeric <= 0 THEN 'weight'
                WHEN coalesce(api.pt_text(e.x->'progress_source'), 'reported')
                     NOT IN ('reported', 'targets', 'milestones', 'children') THEN 'progress_source'
                WHEN api.pt_facts(e.x->'facts') IS NULL THEN 'facts'
                WHEN api.pt_text(e.x->'status') = 'verified' THEN 'verified' END AS what
      INTO bad
      FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n)
     WHERE jsonb_typeof(e.x) IS DISTINCT FROM 'object' OR api.pt_text(e.x->'title') IS NULL
        OR coalesce(api.pt_text(e.x->'status'), 'planned')
           NOT IN ('assigned', 'planned', 'in_progress', 'blocked', 'done', 'verified', 'cancelled')
        OR (jsonb_typeof(e.x->'progress') = 'number' AND (e.x->>'progress')::numeric NOT BETWEEN 0 AND 100)
        OR (jsonb_typeof(e.x->'weight') = 'number' AND (e.x->>'weight')::numeric <= 0)
        OR coalesce(api.pt_text(e.x->'progress_source'), 'reported') NOT IN ('reported', 'targets', 'milestones', 'children')
        OR (api.pt_text(e.x->'status') = 'verified' AND coalesce(actor->>'role', '') NOT IN ('supervisor', 'admin'))
        OR api.pt_facts(e.x->'facts') IS NULL
     ORDER BY e.n LIMIT 1;
    IF bad.what = 'title' THEN
        PERFORM api.pt_fail422(path || '[' || bad.i || '].title', 'is required');
    ELSIF bad.what = 'status' THEN
        PERFORM api.pt_fail422(path || '[' || bad.i || '].status', 'is not a status');
    ELSIF bad.what = 'progress' THEN
        PERFORM api.pt_fail422(path || '[' || bad.i || '].progress', 'must be from 0 to 100');
    ELSIF bad.what = 'weight' THEN
        PERFORM api.pt_fail422(path || '[' || bad.i || '].weight', 'must be greater than 0');
    ELSIF bad.what = 'progress_source' THEN
        PERFORM api.pt_fail422(path || '[' || bad.i || '].progress_source', 'must be reported, targets, milestones or children');
    ELSIF bad.what = 'facts' THEN
        PERFORM api.pt_fail422(path || '[' || bad.i || '].facts', 'must be an array of objects', 'type',
                               jsonb_build_object('expected', 'objects'));
    ELSIF bad.what = 'verified' THEN
        PERFORM api.pt_fail('PT403', 'Forbidden', 'only a supervisor may create verified tasks', '{"rule": "verified"}');
    END IF;
    -- units, created on first use; an editor may only name units in its scope
    -- (an editor naming an unknown unit, or anyone when cfg.create_units is false: 422)
    -- (once per distinct name, named after its first use)
    -- umap: name -> unit id, so the insert below looks units up instead of querying per row
    FOR un IN SELECT y.n, api.pt_unit_resolve(y.n, actor, cfg, path || '[' || (ibase + y.i - 1) || '].' || y.f) AS id
               FROM (SELECT DISTINCT ON (x.n) x.n, x.i, x.f
                       FROM (SELECT api.pt_text(e->'lead_unit') AS n, k AS i, 'lead_unit' AS f
                               FROM jsonb_array_elements(list) WITH ORDINALITY AS q(e, k)
                             UNION ALL
                             SELECT c, k, 'co_units' FROM jsonb_array_elements(list) WITH ORDINALITY AS q(e, k),
                                    unnest(CASE WHEN jsonb_typeof(e->'co_units') = 'array' AND jsonb_array_length(e->'co_units') > 0
                                                THEN api.pt_texts(e->'co_units') ELSE '{}'::text[] END) c) x
                      WHERE x.n IS NOT NULL ORDER BY x.n, x.i) y
              ORDER BY y.i LOOP
        umap := umap || jsonb_build_object(un.n, un.id);
    END LOOP;
    IF actor->>'role' = 'editor' THEN
        FOR u IN SELECT DISTINCT (umap->>api.pt_text(e->'lead_unit'))::uuid FROM jsonb_array_elements(list) e LOOP
            PERFORM api.pt_check_scope(actor, u);
        END LOOP;
    END IF;
    -- each field is read out of the row once (j, kept apart by OFFSET 0): pt_text
    -- inlined on x->'field' would look the key up three times per field and row
    WITH src AS (
        SELECT j.*, api.pt_text(j.lead) AS lead_name,
               coalesce(api.pt_text(j.status),
                        CASE WHEN api.pt_text(j.lead) IS NOT NULL THEN 'assigned' ELSE 'planned' END) AS st,
               jsonb_typeof(j.progress) = 'number' AS has_prog
          FROM (SELECT e.n, e.x->'code' AS code, e.x->>'seq' AS seq, e.x->'title' AS title, e.x->'body' AS body,
                       e.x->'lead_unit' AS lead, e.x->'co_units' AS co, e.x->'owner' AS owner,
                       e.x->'leader' AS leader, e.x->'status' AS status, e.x->'progress' AS progress,
                       e.x->>'progress' AS progress_t, e.x->>'start_date' AS start_date,
                       e.x->>'due_date' AS due_date, e.x->'cadence' AS cadence, e.x->'tags' AS tags,
                       e.x->>'weight' AS weight, e.x->'progress_source' AS psrc, e.x->'note' AS note,
                       e.x->'facts' AS facts, e.x->'due_source' AS dsrc
                  FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n) OFFSET 0) j),
    ins AS (
        INSERT INTO public.tasks (plan_id, parent_id, code, seq, title, body, lead_unit_id, co_unit_ids, owner,
                                  leader, status, progress, own_progress_reported, start_date, due_date, cadence,
                                  tags, closed_at, weight, progress_source, assigned_at, original_due_date,
                                  facts, note, due_source)
        SELECT plan, parent,
               coalesce(api.pt_text(code),
                        CASE WHEN parent_code IS NULL THEN (pos + n - 1)::text ELSE parent_code || '.' || (pos + n - 1) END),
               coalesce(seq::int, (pos + n - 1)::int), api.pt_text(title), api.pt_text(body),
               (umap->>lead_name)::uuid,
               CASE WHEN jsonb_typeof(co) = 'array' AND jsonb_array_length(co) > 0 THEN
                   (SELECT coalesce(array_agg((umap->>c.n)::uuid ORDER BY c.k), '{}')
                      FROM unnest(api.pt_texts(co)) WITH ORDINALITY AS c(n, k))
                   ELSE '{}'::uuid[] END,
               api.pt_text(owner), api.pt_text(leader), st,
               CASE WHEN st IN ('done', 'verified') THEN 100
                    WHEN has_prog THEN round(progress_t::numeric)::int ELSE 0 END,
               st IN ('done', 'verified') OR coalesce(has_prog, false),
               nullif(start_date, '')::date, nullif(due_date, '')::date,
               api.pt_text(cadence),
               -- pt_texts (not inlined: a call per row) only for a non-empty list
               CASE WHEN jsonb_typeof(tags) = 'array' AND jsonb_array_length(tags) > 0
                    THEN api.pt_texts(tags) ELSE '{}'::text[] END,
               CASE WHEN st IN ('done', 'verified', 'cancelled') THEN now() END,
               weight::numeric, api.pt_text(psrc),
               CASE WHEN lead_name IS NOT NULL THEN now() END,
               CASE WHEN approved THEN nullif(due_date, '')::date END,
               api.pt_facts(facts), api.pt_text(note),
               coalesce(api.pt_text(dsrc), CASE WHEN nullif(due_date, '') IS NOT NULL THEN cfg->>'due_source' END)
          FROM src ORDER BY n
        RETURNING id, ord)
    SELECT array_agg(id ORDER BY ord) INTO new_ids FROM ins;
    ids := ids || new_ids;
    IF parent IS NOT NULL THEN
        UPDATE public.tasks SET child_count = child_count + cardinality(new_ids) WHERE id = parent;
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(list) e, jsonb_array_elements(e->'targets') g
                WHERE jsonb_typeof(e->'targets') = 'array'
                  AND coalesce(api.pt_text(g->'comparator'), '=') NOT IN ('>=', '<=', '=')) THEN
        PERFORM api.pt_fail422(path || '[].targets[].comparator', 'must be >=, <= or =');
    END IF;
    INSERT INTO public.targets (task_id, ord, label, value, unit, comparator, current, baseline, text, verb, strive)
    SELECT new_ids[e.n], g.k, api.pt_text(g.x->'label'), (g.x->>'value')::numeric, api.pt_text(g.x->'unit'),
           coalesce(api.pt_text(g.x->'comparator'), '='), (g.x->>'current')::numeric, (g.x->>'baseline')::numeric,
           api.pt_text(g.x->'text'), api.pt_text(g.x->'verb'), coalesce((g.x->>'strive')::boolean, false)
      FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n),
           jsonb_array_elements(CASE WHEN jsonb_typeof(e.x->'targets') = 'array' THEN e.x->'targets' ELSE '[]' END)
           WITH ORDINALITY AS g(x, k);
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(list) e, jsonb_array_elements(e->'milestones') m
                WHERE jsonb_typeof(e->'milestones') = 'array' AND api.pt_text(m->'title') IS NULL) THEN
        PERFORM api.pt_fail422(path || '[].milestones[].title', 'is required');
    END IF;
    INSERT INTO public.milestones (task_id, ord, title, due_date, target)
    SELECT new_ids[e.n], m.k, api.pt_text(m.x->'title'), nullif(m.x->>'due_date', '')::date, api.pt_ms_target(m.x->'target')
      FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n),
           jsonb_array_elements(CASE WHEN jsonb_typeof(e.x->'milestones') = 'array' THEN e.x->'milestones' ELSE '[]' END)
           WITH ORDINALITY AS m(x, k);
    FOR kid IN SELECT e.n, e.x->'children' AS children, t.code
                 FROM jsonb_array_elements(list) WITH ORDINALITY AS e(x, n)
                 JOIN public.tasks t ON t.id = new_ids[e.n]
                WHERE jsonb_typeof(e.x->'children') = 'array' AND jsonb_array_length(e.x->'children') > 0
                ORDER BY e.n LOOP
        ids := api.pt_tasks_insert(plan, new_ids[kid.n], kid.code, kid.children, 1, actor,
                                      path || '[' || (ibase + kid.n - 1) || '].children', ids, 0, cfg);
    END LOOP;
END $$;

-- Next sibling position under parent (or at the plan's top level).
CREATE FUNCTION api.pt_next_pos(plan uuid, parent uuid) RETURNS int
LANGUAGE sql STABLE AS $$
    SELECT count(*)::int + 1 FROM public.tasks
     WHERE plan_id = plan AND parent_id IS NOT DISTINCT FROM parent AND deleted_at IS NULL
$$;
