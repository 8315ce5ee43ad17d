-- sql/api/35_csv_import.sql - CSV task imports (POST /v1/plans/{id}/tasks/import):
-- the plan a sheet is read for (its year), append and upsert, the replay record
-- (the same file twice writes nothing), the summary event and import jobs
-- (GET /v1/jobs/{id}). Issue 12 item 3 and issue 15 defect 8.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*.

-- The plan a CSV import writes to, for the daemon before it reads the sheet:
-- {id, year} (dates without a year take the plan's year), 404 otherwise.
CREATE FUNCTION api.pt_import_plan(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE p public.plans;
BEGIN
    SELECT * INTO p FROM public.plans WHERE id = api.pt_uuid(a->>'plan_id') AND deleted_at IS NULL;
    IF p.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Plan not found', 'no plan with id ' || coalesce(a->>'plan_id', 'null'));
    END IF;
    RETURN QUERY SELECT 200, jsonb_build_object('id', p.id, 'year', p.year);
END $$;

-- The replay key: sha256 of the body's sha256, the plan, the parent and the mode.
CREATE FUNCTION api.pt_import_key(sha text, plan uuid, parent uuid, mode text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(concat_ws('|', sha, plan::text, coalesce(parent::text, ''), mode), 'UTF8')), 'hex')
$$;

-- The stage: the sheet's rows, typed, one per row, n its place in the sheet
-- (from 1). An import job fills it with COPY (the daemon's job thread:
-- CSVIMPORT_COPY_COLUMNS in include/plantrack/csvimport.h names the columns
-- it sends), then calls pt_csv_import without "tasks"; pt_csv_import fills it from a->'tasks'
-- when the rows come in the argument (synchronous imports). A sheet row has
-- at most one target (目标值 and 单位): t_* (NULL t_value: none). tid is the id the
-- row's task will have (drawn up front, so its targets need no look-up).
-- Temporary and dropped at commit. Why COPY: 100,000 rows as one 20 MB jsonb
-- argument took about 1.6 s to parse, and every pass over it (validation,
-- units, the inserts) read the fields out of the document again.
CREATE FUNCTION api.pt_csv_stage() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS pt_csv_stage (
        n int NOT NULL, seq int, id text, title text, body text, lead_unit text, co_units jsonb,
        owner text, leader text, due_date text, weight numeric, note text,
        t_label text, t_value numeric, t_unit text, t_comparator text, t_text text,
        tid uuid NOT NULL DEFAULT gen_random_uuid()) ON COMMIT DROP;
    TRUNCATE pt_csv_stage;
END $$;

-- A staged text field as stored: trimmed, NULL when empty.
CREATE FUNCTION api.pt_csv_text(v text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT nullif(btrim(v), '')
$$;

-- Bulk writes (import jobs): PostgreSQL checks a foreign key once per
-- inserted row (a query per row and key: 400,000 for a 100,000-row sheet
-- with targets, 1.9 to 3.3 s of its 8 to 11). When the role may set
-- session_replication_role (superuser, or GRANT SET ON PARAMETER
-- session_replication_role TO the daemon's role; docs/operations.md), a job
-- does what those checks do once per referenced row instead: it locks the
-- plan, the parent and every unit the rows name FOR KEY SHARE (what each
-- check would lock), and only if all of them are still there turns the
-- session to replica for its inserts, which skips the per-row checks. The
-- journal's triggers fire ALWAYS (sql/api/15_journal.sql), so every row is
-- still journalled. Returns whether bulk mode is on; false leaves the
-- per-row checks in place (the same rows, the same outcome, slower).
-- The transaction (is_local) holds the setting; pt_bulk_end turns it back.
CREATE FUNCTION api.pt_bulk_begin(plan uuid, parent uuid, units uuid[]) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT has_parameter_privilege('session_replication_role', 'SET') THEN
        RETURN false;
    END IF;
    PERFORM 1 FROM public.plans x WHERE x.id = plan FOR KEY SHARE;
    IF NOT FOUND THEN RETURN false; END IF;
    IF parent IS NOT NULL THEN
        PERFORM 1 FROM public.tasks x WHERE x.id = parent FOR KEY SHARE;
        IF NOT FOUND THEN RETURN false; END IF;
    END IF;
    IF (SELECT count(*) FROM (SELECT 1 FROM public.units x WHERE x.id = ANY (units) FOR KEY SHARE) l)
       <> (SELECT count(DISTINCT u) FROM unnest(units) u WHERE u IS NOT NULL) THEN
        RETURN false;
    END IF;
    PERFORM set_config('session_replication_role', 'replica', true),
            set_config('plantrack.bulk', 'on', true);   -- for the job's log
    RETURN true;
END $$;

CREATE FUNCTION api.pt_bulk_end() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('session_replication_role', 'origin', true);
END $$;

-- Appends the stage's rows (pt_csv_stage, in sheet order) under parent
-- (NULL: top level) of plan p, numbered from pos, and their targets; returns
-- the new ids in order. One statement per table: a 100,000-row sheet is one
-- INSERT into tasks and one into targets. Errors name the row as
-- tasks[i] (i from 0, the row's place in the sheet). A row with a lead unit
-- starts assigned (交办, awaiting 签收); in an approved plan its due date is
-- also its original one; a due date's source is csv.
CREATE FUNCTION api.pt_csv_append(p public.plans, parent uuid, parent_code text, pos int, actor jsonb, cfg jsonb)
RETURNS uuid[]
LANGUAGE plpgsql AS $$
DECLARE
    bad record;
    umap jsonb := '{}';
    un record;
    u uuid;
    ids uuid[];
    approved boolean := p.approved_at IS NOT NULL;
    bulk boolean := false;
BEGIN
    SELECT n INTO bad FROM pt_csv_stage WHERE api.pt_csv_text(title) IS NULL ORDER BY n LIMIT 1;
    IF FOUND THEN PERFORM api.pt_fail422('tasks[' || (bad.n - 1) || '].title', 'is required'); END IF;
    SELECT n INTO bad FROM pt_csv_stage WHERE weight <= 0 ORDER BY n LIMIT 1;
    IF FOUND THEN PERFORM api.pt_fail422('tasks[' || (bad.n - 1) || '].weight', 'must be greater than 0'); END IF;
    SELECT n INTO bad FROM pt_csv_stage WHERE coalesce(t_comparator, '=') NOT IN ('>=', '<=', '=') ORDER BY n LIMIT 1;
    IF FOUND THEN
        PERFORM api.pt_fail422('tasks[' || (bad.n - 1) || '].targets[0].comparator', 'must be >=, <= or =');
    END IF;
    -- units, created on first use (named after their first row); an editor may
    -- only name units in its scope. umap: name -> unit id, once per name.
    FOR un IN SELECT y.n, api.pt_unit_resolve(y.n, actor, cfg, 'tasks[' || (y.i - 1) || '].' || y.f) AS id
               FROM (SELECT DISTINCT ON (x.n) x.n, x.i, x.f
                       FROM (SELECT api.pt_csv_text(s.lead_unit) AS n, s.n AS i, 'lead_unit' AS f FROM pt_csv_stage s
                             UNION ALL
                             SELECT c, s.n, 'co_units' FROM pt_csv_stage s,
                                    unnest(CASE WHEN jsonb_typeof(s.co_units) = 'array' AND jsonb_array_length(s.co_units) > 0
                                                THEN api.pt_texts(s.co_units) ELSE '{}'::text[] END) c) x
                      WHERE x.n IS NOT NULL ORDER BY x.n, x.i) y
              ORDER BY y.i LOOP
        umap := umap || jsonb_build_object(un.n, un.id);
    END LOOP;
    IF actor->>'role' = 'editor' THEN
        FOR u IN SELECT DISTINCT (umap->>api.pt_csv_text(s.lead_unit))::uuid FROM pt_csv_stage s LOOP
            PERFORM api.pt_check_scope(actor, u);
        END LOOP;
    END IF;
    IF (cfg->>'bulk')::boolean THEN
        bulk := api.pt_bulk_begin(p.id, parent,
                                  ARRAY(SELECT (e.value #>> '{}')::uuid FROM jsonb_each(umap) e));
    END IF;
    -- in sheet order, so ord (the serial default) follows the sheet
    INSERT INTO public.tasks (id, plan_id, parent_id, code, seq, title, body, lead_unit_id, co_unit_ids, owner,
                              leader, status, due_date, weight, assigned_at, original_due_date, note, due_source)
    SELECT s.tid, p.id, parent,
           CASE WHEN parent_code IS NULL THEN (pos + s.k - 1)::text ELSE parent_code || '.' || (pos + s.k - 1) END,
           coalesce(s.seq, (pos + s.k - 1)::int), api.pt_csv_text(s.title), api.pt_csv_text(s.body),
           (umap->>s.lead)::uuid,
           CASE WHEN jsonb_typeof(s.co_units) = 'array' AND jsonb_array_length(s.co_units) > 0 THEN
               (SELECT coalesce(array_agg((umap->>c.n)::uuid ORDER BY c.k), '{}')
                  FROM unnest(api.pt_texts(s.co_units)) WITH ORDINALITY AS c(n, k))
               ELSE '{}'::uuid[] END,
           api.pt_csv_text(s.owner), api.pt_csv_text(s.leader),
           CASE WHEN s.lead IS NOT NULL THEN 'assigned' ELSE 'planned' END,
           s.due, s.weight,
           CASE WHEN s.lead IS NOT NULL THEN now() END,
           CASE WHEN approved THEN s.due END,
           api.pt_csv_text(s.note),
           CASE WHEN s.due IS NOT NULL THEN coalesce(cfg->>'due_source', 'csv') END
      FROM (SELECT x.*, api.pt_csv_text(x.lead_unit) AS lead, nullif(x.due_date, '')::date AS due,
                   row_number() OVER (ORDER BY x.n) AS k
              FROM pt_csv_stage x) s
     ORDER BY s.n;
    INSERT INTO public.targets (task_id, ord, label, value, unit, comparator, text)
    SELECT s.tid, 1, api.pt_csv_text(s.t_label), s.t_value, api.pt_csv_text(s.t_unit), coalesce(s.t_comparator, '='),
           api.pt_csv_text(s.t_text)
      FROM pt_csv_stage s WHERE s.t_value IS NOT NULL
     ORDER BY s.n;
    IF bulk THEN PERFORM api.pt_bulk_end(); END IF;
    SELECT coalesce(array_agg(tid ORDER BY n), '{}') INTO ids FROM pt_csv_stage;
    IF parent IS NOT NULL THEN
        UPDATE public.tasks SET child_count = child_count + cardinality(ids) WHERE id = parent;
    END IF;
    RETURN ids;
END $$;

-- Upsert: rows of the stage (pt_csv_stage) that match a live task (by id when
-- the sheet has an id column, else by 序号 under the parent) are updated in
-- place, field by field, only where a column of the sheet (a->'columns')
-- differs; the journal triggers record each real change. Returns the ids of
-- the tasks changed, the fields each changed (keys: {id: [field…]}) and
-- removes the matched rows from the stage (what is left is appended).
CREATE FUNCTION api.pt_csv_upsert(p public.plans, parent uuid, a jsonb, OUT changed uuid[],
                                  OUT unchanged int, OUT keys jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    cols text[] := coalesce(api.pt_texts(a->'columns'), ARRAY['title', 'body', 'lead_unit', 'owner', 'due_date']);
    actor jsonb := a->'actor';
    umap jsonb := '{}';
    un record;
    bad record;
    r record;
    tchanged uuid[];
BEGIN
    -- every row and what it matches (x: the staged row as an object; every
    -- key is there, so a column the sheet lacks is known by cols, not by its key)
    CREATE TEMP TABLE IF NOT EXISTS pt_csv_rows (n int, x jsonb, id uuid, version int, lead uuid, st text)
        ON COMMIT DROP;
    TRUNCATE pt_csv_rows;
    -- joins, not a lookup per row: a 100,000-row sheet under one parent
    -- would otherwise scan the parent's children once per row
    INSERT INTO pt_csv_rows (n, x, id)
    SELECT e.n, e.x, coalesce(byid.id, byseq.id)
      FROM (SELECT s.n, to_jsonb(s) - ARRAY['tid', 't_label', 't_value', 't_unit', 't_comparator', 't_text']
                        || jsonb_build_object('targets', CASE WHEN s.t_value IS NOT NULL THEN jsonb_build_array(
                               jsonb_build_object('label', s.t_label, 'value', s.t_value, 'unit', s.t_unit,
                                                  'comparator', coalesce(s.t_comparator, '='), 'text', s.t_text)) END) AS x
              FROM pt_csv_stage s) e
      LEFT JOIN public.tasks byid ON byid.id = api.pt_uuid(e.x->>'id') AND byid.plan_id = p.id
                                 AND byid.deleted_at IS NULL
      LEFT JOIN (SELECT DISTINCT ON (t.seq) t.seq, t.id FROM public.tasks t
                  WHERE t.plan_id = p.id AND t.deleted_at IS NULL AND t.seq IS NOT NULL
                    AND ((parent IS NULL AND t.parent_id IS NULL) OR t.parent_id = parent)
                  ORDER BY t.seq, t.ord) byseq
             ON e.x->>'id' IS NULL AND jsonb_typeof(e.x->'seq') = 'number' AND byseq.seq = (e.x->>'seq')::int;
    -- an id that is not a live task of this plan, or a 序号 two tasks share
    SELECT n INTO bad FROM pt_csv_rows WHERE x->>'id' IS NOT NULL AND id IS NULL ORDER BY n LIMIT 1;
    IF FOUND THEN
        PERFORM api.pt_fail422('rows[' || coalesce((SELECT x->>'row' FROM pt_csv_rows WHERE n = bad.n), bad.n::text) || '].id',
                               'is not a task of this plan', 'reference', '{"resource": "task"}');
    END IF;
    SELECT s.n, s.x->>'seq' AS seq INTO bad FROM pt_csv_rows s
      JOIN (SELECT t.seq FROM public.tasks t
             WHERE t.plan_id = p.id AND t.deleted_at IS NULL AND t.seq IS NOT NULL
               AND ((parent IS NULL AND t.parent_id IS NULL) OR t.parent_id = parent)
             GROUP BY t.seq HAVING count(*) > 1) d ON d.seq = (s.x->>'seq')::int
     WHERE s.x->>'id' IS NULL AND s.id IS NOT NULL
     ORDER BY s.n LIMIT 1;
    IF FOUND THEN
        PERFORM api.pt_fail('PT422', 'Validation failed',
            format('row %s: 序号 %s matches more than one task under this parent; give the id column or renumber',
                   coalesce((SELECT x->>'row' FROM pt_csv_rows WHERE n = bad.n), bad.n::text), bad.seq),
            jsonb_build_object('type', 'import-ambiguous-seq', 'errors', jsonb_build_array(jsonb_build_object(
                'field', 'rows[' || coalesce((SELECT x->>'row' FROM pt_csv_rows WHERE n = bad.n), bad.n::text) || '].序号',
                'message', 'matches more than one task under this parent'))));
    END IF;
    UPDATE pt_csv_rows s SET version = t.version, lead = t.lead_unit_id, st = t.status
      FROM public.tasks t WHERE t.id = s.id;
    -- units named by the matched rows (new rows resolve theirs in pt_tasks_insert)
    FOR un IN SELECT y.n, api.pt_unit_resolve(y.n, actor, a->'cfg', 'rows[' || y.i || '].' || y.f) AS id
                FROM (SELECT DISTINCT ON (q.n) q.n, q.i, q.f
                        FROM (SELECT api.pt_text(x->'lead_unit') AS n, n AS i, 'lead_unit' AS f FROM pt_csv_rows
                               WHERE id IS NOT NULL AND 'lead_unit' = ANY (cols)
                              UNION ALL
                              SELECT c, s.n, 'co_units' FROM pt_csv_rows s,
                                     unnest(CASE WHEN 'co_units' = ANY (cols) AND jsonb_typeof(s.x->'co_units') = 'array'
                                                 THEN api.pt_texts(s.x->'co_units') ELSE '{}'::text[] END) c
                               WHERE s.id IS NOT NULL) q
                       WHERE q.n IS NOT NULL ORDER BY q.n, q.i) y LOOP
        umap := umap || jsonb_build_object(un.n, un.id);
    END LOOP;
    IF actor->>'role' = 'editor' THEN
        FOR un IN SELECT DISTINCT u FROM (SELECT lead AS u FROM pt_csv_rows WHERE id IS NOT NULL
                                          UNION ALL
                                          SELECT (umap->>api.pt_text(x->'lead_unit'))::uuid FROM pt_csv_rows
                                           WHERE id IS NOT NULL AND 'lead_unit' = ANY (cols)) z LOOP
            PERFORM api.pt_check_scope(actor, un.u);
        END LOOP;
    END IF;
    -- the new values: a column the sheet has replaces the field, others stay
    CREATE TEMP TABLE IF NOT EXISTS pt_csv_new (id uuid, title text, body text, lead_unit_id uuid, owner text,
        due_date date, co_unit_ids uuid[], leader text, weight numeric, note text) ON COMMIT DROP;
    TRUNCATE pt_csv_new;
    INSERT INTO pt_csv_new
    SELECT t.id,
           CASE WHEN 'title' = ANY (cols) THEN coalesce(api.pt_text(s.x->'title'), t.title) ELSE t.title END,
           CASE WHEN 'body' = ANY (cols) THEN api.pt_text(s.x->'body') ELSE t.body END,
           CASE WHEN 'lead_unit' = ANY (cols) THEN (umap->>api.pt_text(s.x->'lead_unit'))::uuid ELSE t.lead_unit_id END,
           CASE WHEN 'owner' = ANY (cols) THEN api.pt_text(s.x->'owner') ELSE t.owner END,
           CASE WHEN 'due_date' = ANY (cols) THEN nullif(s.x->>'due_date', '')::date ELSE t.due_date END,
           CASE WHEN 'co_units' = ANY (cols) AND jsonb_typeof(s.x->'co_units') = 'array' THEN
               (SELECT coalesce(array_agg((umap->>c.n)::uuid ORDER BY c.k), '{}')
                  FROM unnest(api.pt_texts(s.x->'co_units')) WITH ORDINALITY AS c(n, k))
                ELSE t.co_unit_ids END,
           CASE WHEN 'leader' = ANY (cols) THEN api.pt_text(s.x->'leader') ELSE t.leader END,
           CASE WHEN 'weight' = ANY (cols) THEN (s.x->>'weight')::numeric ELSE t.weight END,
           CASE WHEN 'note' = ANY (cols) THEN api.pt_text(s.x->'note') ELSE t.note END
      FROM pt_csv_rows s JOIN public.tasks t ON t.id = s.id;
    SELECT n.id INTO bad FROM pt_csv_new n WHERE n.weight IS NOT NULL AND n.weight <= 0 LIMIT 1;
    IF FOUND THEN PERFORM api.pt_fail422('weight', 'must be greater than 0'); END IF;
    -- an editor changes an approved plan's titles and due dates by change request only
    IF actor->>'role' = 'editor' AND p.approved_at IS NOT NULL AND EXISTS (
            SELECT 1 FROM pt_csv_new n JOIN public.tasks t ON t.id = n.id
             WHERE (n.title, n.due_date) IS DISTINCT FROM (t.title, t.due_date)) THEN
        PERFORM api.pt_fail('PT409', 'plan is approved: file a change request',
            'the plan is approved; titles and due dates of its tasks change only through an approved request');
    END IF;
    SELECT coalesce(jsonb_object_agg(n.id, to_jsonb(array_remove(ARRAY[
               CASE WHEN n.title IS DISTINCT FROM t.title THEN 'title' END,
               CASE WHEN n.body IS DISTINCT FROM t.body THEN 'body' END,
               CASE WHEN n.lead_unit_id IS DISTINCT FROM t.lead_unit_id THEN 'lead_unit' END,
               CASE WHEN n.owner IS DISTINCT FROM t.owner THEN 'owner' END,
               CASE WHEN n.due_date IS DISTINCT FROM t.due_date THEN 'due_date' END,
               CASE WHEN n.co_unit_ids IS DISTINCT FROM t.co_unit_ids THEN 'co_units' END,
               CASE WHEN n.leader IS DISTINCT FROM t.leader THEN 'leader' END,
               CASE WHEN n.weight IS DISTINCT FROM t.weight THEN 'weight' END,
               CASE WHEN n.note IS DISTINCT FROM t.note THEN 'note' END], NULL))), '{}')
      INTO keys
      FROM pt_csv_new n JOIN public.tasks t ON t.id = n.id;
    WITH upd AS (
        UPDATE public.tasks t SET title = n.title, body = n.body, lead_unit_id = n.lead_unit_id, owner = n.owner,
               due_date = n.due_date, co_unit_ids = n.co_unit_ids, leader = n.leader, weight = n.weight,
               note = n.note,
               due_source = CASE WHEN n.due_date IS DISTINCT FROM t.due_date THEN 'csv' ELSE t.due_source END,
               status = CASE WHEN n.lead_unit_id IS DISTINCT FROM t.lead_unit_id AND t.status IN ('planned', 'assigned')
                             THEN CASE WHEN n.lead_unit_id IS NULL THEN 'planned' ELSE 'assigned' END
                             ELSE t.status END,
               assigned_at = CASE WHEN n.lead_unit_id IS DISTINCT FROM t.lead_unit_id AND t.status IN ('planned', 'assigned')
                                  THEN CASE WHEN n.lead_unit_id IS NOT NULL THEN now() END ELSE t.assigned_at END,
               version = t.version + 1, updated_at = now()
          FROM pt_csv_new n
         WHERE t.id = n.id
           AND (t.title, t.body, t.lead_unit_id, t.owner, t.due_date, t.co_unit_ids, t.leader, t.weight, t.note)
               IS DISTINCT FROM
               (n.title, n.body, n.lead_unit_id, n.owner, n.due_date, n.co_unit_ids, n.leader, n.weight, n.note)
        RETURNING t.id)
    SELECT coalesce(array_agg(id), '{}') INTO changed FROM upd;
    -- targets: replaced where the row gives a target (目标值) that differs
    tchanged := '{}';
    FOR r IN SELECT s.id, s.x->'targets' AS tg FROM pt_csv_rows s
              WHERE s.id IS NOT NULL AND jsonb_typeof(s.x->'targets') = 'array'
                AND (SELECT coalesce(jsonb_agg(jsonb_build_array(g.label, g.value, g.unit, g.comparator) ORDER BY g.ord), '[]')
                       FROM public.targets g WHERE g.task_id = s.id)
                    IS DISTINCT FROM
                    (SELECT coalesce(jsonb_agg(jsonb_build_array(api.pt_text(e->'label'), (e->>'value')::numeric,
                                                                 api.pt_text(e->'unit'),
                                                                 coalesce(api.pt_text(e->'comparator'), '=')) ORDER BY k), '[]')
                       FROM jsonb_array_elements(s.x->'targets') WITH ORDINALITY AS q(e, k)) LOOP
        PERFORM api.pt_set_targets(r.id, r.tg);
        tchanged := tchanged || r.id;
        keys := jsonb_set(keys, ARRAY[r.id::text], coalesce(keys->(r.id::text), '[]') || '["targets"]');
    END LOOP;
    IF cardinality(tchanged) > 0 THEN
        UPDATE public.tasks t SET version = t.version + 1, updated_at = now()
         WHERE t.id = ANY (tchanged) AND NOT t.id = ANY (changed);
        changed := changed || ARRAY(SELECT u FROM unnest(tchanged) u WHERE NOT u = ANY (changed));
    END IF;
    SELECT count(*) - cardinality(changed) INTO unchanged FROM pt_csv_rows WHERE id IS NOT NULL;
    DELETE FROM pt_csv_stage s USING pt_csv_rows m WHERE m.n = s.n AND m.id IS NOT NULL;
END $$;

-- The CSV import: {actor, cfg, plan_id, parent_id?, mode: append|upsert,
-- sha256 (of the body), columns: [the sheet's fields], tasks?: [row…],
-- warnings?, job_id?}. The rows are a->'tasks' ({seq, id, title, body,
-- lead_unit, co_units, owner, leader, due_date, weight, note, targets}, as
-- the daemon's sheet reader makes them) or, without "tasks", the stage the
-- caller filled with COPY in this transaction (pt_csv_stage). All or nothing. A key (sha256 + plan + parent + mode)
-- seen before is a replay: 200 {"replay": true, …} and nothing is written.
-- Events: task.created / task.updated per row while the import touches at most
-- cfg.import_row_events rows (default 1000), then one import.finished for
-- every import. items: the created and updated tasks, when at most
-- cfg.import_answer_items (default 1000); otherwise left out ("items_omitted").
CREATE FUNCTION api.pt_csv_import(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql SET jit = off SET work_mem = '64MB' AS $$
DECLARE
    p public.plans;
    par public.tasks;
    mode text := coalesce(nullif(a->>'mode', ''), 'append');
    k text;
    rep public.import_replays;
    ids uuid[] := '{}';
    changed uuid[] := '{}';
    unchanged int := 0;
    keys jsonb := '{}';
    row_events int := coalesce((a->'cfg'->>'import_row_events')::int, 1000);
    answer_items int := coalesce((a->'cfg'->>'import_answer_items')::int, 1000);
    job uuid := api.pt_uuid(a->>'job_id');
    res jsonb;
    badrow bigint;
BEGIN
    PERFORM api.pt_actor_begin(a);
    IF a ? 'tasks' THEN
        IF jsonb_typeof(a->'tasks') IS DISTINCT FROM 'array'
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(a->'tasks') e WHERE jsonb_typeof(e) <> 'object') THEN
            PERFORM api.pt_fail422('tasks', 'must be an array of rows (objects)');
        END IF;
        -- a sheet row has one 目标值 at most
        SELECT e.n INTO badrow FROM jsonb_array_elements(a->'tasks') WITH ORDINALITY AS e(x, n)
         WHERE jsonb_typeof(e.x->'targets') = 'array' AND jsonb_array_length(e.x->'targets') > 1 LIMIT 1;
        IF badrow IS NOT NULL THEN
            PERFORM api.pt_fail422('tasks[' || (badrow - 1) || '].targets', 'a sheet row has at most one target');
        END IF;
        PERFORM api.pt_csv_stage();
        BEGIN
            INSERT INTO pt_csv_stage (n, seq, id, title, body, lead_unit, co_units, owner, leader, due_date, weight,
                                      note, t_label, t_value, t_unit, t_comparator, t_text)
            SELECT e.n, e.seq, e.id, e.title, e.body, e.lead_unit, e.co_units, e.owner, e.leader, e.due_date, e.weight,
                   e.note, api.pt_text(e.targets->0->'label'), (e.targets->0->>'value')::numeric,
                   api.pt_text(e.targets->0->'unit'), api.pt_text(e.targets->0->'comparator'),
                   api.pt_text(e.targets->0->'text')
              FROM ROWS FROM (jsonb_to_recordset(a->'tasks') AS (seq int, id text, title text, body text,
                       lead_unit text, co_units jsonb, owner text, leader text, due_date text, weight numeric,
                       note text, targets jsonb))
                   WITH ORDINALITY AS e(seq, id, title, body, lead_unit, co_units, owner, leader, due_date, weight,
                                        note, targets, n);
        EXCEPTION WHEN data_exception THEN
            PERFORM api.pt_fail('PT422', 'Validation failed', SQLERRM);
        END;
    ELSIF to_regclass('pg_temp.pt_csv_stage') IS NULL THEN
        PERFORM api.pt_fail422('tasks', 'is required (or COPY the rows into pt_csv_stage first)');
    END IF;
    -- the journal reads the inserted rows from transition tables and sorts the
    -- targets' snapshots: above 10,000 rows 64MB spills to disk (measured when the
    -- tasks' snapshots were sorted too: 100,000 of them 16 s external merge, 9 s in memory)
    IF (SELECT count(*) FROM pt_csv_stage) > 10000 THEN
        PERFORM set_config('work_mem', '256MB', true);
    END IF;
    SELECT * INTO p FROM public.plans WHERE id = api.pt_uuid(a->>'plan_id') AND deleted_at IS NULL;
    IF p.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Plan not found', 'no plan with id ' || coalesce(a->>'plan_id', 'null'));
    END IF;
    IF mode NOT IN ('append', 'upsert') THEN
        PERFORM api.pt_fail422('mode', 'must be append or upsert');
    END IF;
    IF a->>'parent_id' IS NOT NULL THEN
        SELECT * INTO par FROM public.tasks
         WHERE id = api.pt_uuid(a->>'parent_id') AND plan_id = p.id AND deleted_at IS NULL;
        IF par.id IS NULL THEN PERFORM api.pt_fail422('parent', 'is not a task of this plan'); END IF;
        IF a->'actor'->>'role' = 'editor' THEN PERFORM api.pt_check_scope(a->'actor', par.lead_unit_id); END IF;
    END IF;
    IF a->>'sha256' IS NOT NULL THEN
        k := api.pt_import_key(a->>'sha256', p.id, par.id, mode);
        PERFORM pg_advisory_xact_lock(hashtextextended(k, 0));
        SELECT * INTO rep FROM public.import_replays r WHERE r.key = k;
        IF rep.key IS NOT NULL THEN
            res := jsonb_build_object('replay', true, 'plan_id', p.id, 'parent_id', par.id, 'mode', mode,
                'created', 0, 'updated', 0, 'unchanged', 0,
                'first_import', rep.result || jsonb_build_object('at', api.pt_ts(rep.created_at), 'by', rep.created_by));
            IF job IS NOT NULL THEN
                UPDATE public.import_jobs SET status = 'done', progress = 100, result = res, finished_at = clock_timestamp()
                 WHERE id = job;
            END IF;
            RETURN QUERY SELECT 200, res;
            RETURN;
        END IF;
    END IF;
    BEGIN
        IF mode = 'upsert' THEN
            SELECT u.changed, u.unchanged, u.keys INTO changed, unchanged, keys
              FROM api.pt_csv_upsert(p, par.id, a) u;
        END IF;
        ids := api.pt_csv_append(p, par.id, par.code, api.pt_next_pos(p.id, par.id), a->'actor',
                                 coalesce(a->'cfg', '{}') || jsonb_build_object('due_source', 'csv', 'bulk', job IS NOT NULL));
    EXCEPTION WHEN data_exception THEN
        PERFORM api.pt_fail('PT422', 'Validation failed', SQLERRM);
    END;
    IF cardinality(ids) + cardinality(changed) <= row_events THEN
        PERFORM api.pt_emit_created(ids);
        PERFORM api.pt_emit('task.updated', t.plan_id, t.id,
                            jsonb_build_object('changed', coalesce(keys->(t.id::text), '[]'), 'version', t.version,
                                               'by', a->'actor'->>'name'))
           FROM public.tasks t WHERE t.id = ANY (changed) ORDER BY t.ord;
    END IF;
    res := jsonb_build_object('replay', false, 'plan_id', p.id, 'parent_id', par.id, 'mode', mode,
        'created', cardinality(ids), 'updated', cardinality(changed), 'unchanged', unchanged);
    PERFORM api.pt_emit('import.finished', p.id, par.id, res || jsonb_build_object('job_id', job,
        'row_events', cardinality(ids) + cardinality(changed) <= row_events));
    IF k IS NOT NULL THEN
        INSERT INTO public.import_replays (key, plan_id, parent_id, mode, sha256, job_id, result, created_by)
        VALUES (k, p.id, par.id, mode, a->>'sha256', job, res - 'replay', a->'actor'->>'name');
    END IF;
    IF job IS NOT NULL THEN
        UPDATE public.import_jobs SET status = 'done', progress = 100, finished_at = clock_timestamp(),
               result = res || jsonb_build_object('warnings', coalesce(a->'warnings', '[]'))
         WHERE id = job;
    END IF;
    IF cardinality(ids) + cardinality(changed) <= answer_items THEN
        res := res || jsonb_build_object('items',
            (SELECT coalesce(jsonb_agg(x.doc ORDER BY ((x.ev).t).ord), '[]')
               FROM api.pt_eval_docs(p.id, a->'cfg', par.id) x
              WHERE ((x.ev).t).id = ANY (ids) OR ((x.ev).t).id = ANY (changed)));
    ELSE
        res := res || '{"items_omitted": true}';
    END IF;
    RETURN QUERY SELECT CASE WHEN cardinality(ids) > 0 THEN 201 ELSE 200 END, res;
END $$;

---------------------------------------------------------------------------
-- import jobs: a big import is accepted (202) and runs on the daemon's job
-- connection with its own statement_timeout (imports.job_timeout_ms)
---------------------------------------------------------------------------

CREATE FUNCTION api.pt_import_job_json(j public.import_jobs) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', j.id, 'kind', 'csv-import', 'plan_id', j.plan_id, 'parent_id', j.parent_id,
        'mode', j.mode, 'status', j.status, 'rows', j.rows, 'progress', j.progress, 'result', j.result,
        'errors', j.errors, 'created_by', j.created_by, 'created_at', api.pt_ts(j.created_at),
        'started_at', api.pt_ts(j.started_at), 'finished_at', api.pt_ts(j.finished_at))
$$;

-- {actor, plan_id, parent_id?, mode, rows}: a queued job (202 with its document).
CREATE FUNCTION api.pt_import_job_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    p public.plans;
    j public.import_jobs;
BEGIN
    PERFORM api.pt_actor_begin(a);
    SELECT * INTO p FROM public.plans WHERE id = api.pt_uuid(a->>'plan_id') AND deleted_at IS NULL;
    IF p.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Plan not found', 'no plan with id ' || coalesce(a->>'plan_id', 'null'));
    END IF;
    IF a->>'parent_id' IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM public.tasks WHERE id = api.pt_uuid(a->>'parent_id') AND plan_id = p.id AND deleted_at IS NULL) THEN
        PERFORM api.pt_fail422('parent', 'is not a task of this plan');
    END IF;
    PERFORM api.pt_import_jobs_orphaned(coalesce((a->>'timeout_ms')::int, 600000));
    INSERT INTO public.import_jobs (plan_id, parent_id, mode, rows, created_by)
    VALUES (p.id, api.pt_uuid(a->>'parent_id'), coalesce(nullif(a->>'mode', ''), 'append'),
            coalesce((a->>'rows')::int, 0), a->'actor'->>'name')
    RETURNING * INTO j;
    RETURN QUERY SELECT 202, api.pt_import_job_json(j);
END $$;

-- The job thread: running (its own transaction, so GET shows it at once), the
-- sheet read: nrows is its count of rows (the job was created with the count
-- of its lines, before the sheet was read); NULL keeps the count.
CREATE FUNCTION api.pt_import_job_start(job uuid, nrows int DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
    UPDATE public.import_jobs SET status = 'running', progress = 10, started_at = clock_timestamp(),
           rows = coalesce(nrows, rows)
     WHERE id = job AND status = 'queued'
$$;

-- The job thread: the import failed and was rolled back; problem is the
-- answer a synchronous import would have given (type, title, status, detail, errors).
CREATE FUNCTION api.pt_import_job_fail(job uuid, problem jsonb) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE j public.import_jobs;
BEGIN
    UPDATE public.import_jobs SET status = 'failed', finished_at = clock_timestamp(), errors = problem
     WHERE id = job AND status IN ('queued', 'running') RETURNING * INTO j;
    IF j.id IS NOT NULL THEN
        PERFORM api.pt_emit('import.finished', j.plan_id, j.parent_id,
            jsonb_build_object('job_id', j.id, 'mode', j.mode, 'failed', true, 'problem', problem));
    END IF;
END $$;

-- Jobs a stopped daemon left queued or running fail (the import rolled back):
-- those older than the job timeout (timeout_ms) and a minute, which no
-- daemon can still be running. Called when a job is created.
CREATE FUNCTION api.pt_import_jobs_orphaned(timeout_ms int) RETURNS int
LANGUAGE sql AS $$
    WITH f AS (
        UPDATE public.import_jobs SET status = 'failed', finished_at = clock_timestamp(),
               errors = '{"type": "urn:plantrack:problem:import-interrupted", "title": "The import was interrupted", "status": 503, "detail": "the daemon stopped before the job finished; nothing was imported: upload the file again"}'
         WHERE status IN ('queued', 'running')
           AND created_at < now() - interval '1 minute' - make_interval(secs => timeout_ms / 1000.0) RETURNING 1)
    SELECT count(*)::int FROM f
$$;

-- GET /v1/jobs/{id}: {actor, id}.
CREATE FUNCTION api.pt_import_job_get(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE j public.import_jobs;
BEGIN
    SELECT * INTO j FROM public.import_jobs WHERE id = api.pt_uuid(a->>'id');
    IF j.id IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Job not found', 'no job with id ' || coalesce(a->>'id', 'null'));
    END IF;
    RETURN QUERY SELECT 200, api.pt_import_job_json(j);
END $$;
