-- tests/sql/smoke.sql - exercises every pt_* function of docs/sql-api.md against
-- a database with migrations/*.sql applied. Run: psql -v ON_ERROR_STOP=1 -f smoke.sql
-- (tests/sql/run.sh does it on a throwaway cluster). Fails on the first broken assertion.
\set ON_ERROR_STOP 1
\pset pager off
\pset tuples_only on
\o /dev/null
SET client_min_messages = warning;

-- assertion helpers (session-local)
CREATE FUNCTION pg_temp.ok(cond boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cond IS NOT TRUE THEN RAISE EXCEPTION 'FAILED: %', what; END IF;
END $$;
-- run sql, expect SQLSTATE code; returns the message
CREATE FUNCTION pg_temp.err(sql text, code text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; hint text;
BEGIN
    BEGIN
        EXECUTE sql;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
        IF st <> code THEN RAISE EXCEPTION 'FAILED: % gave % (%: %), wanted %', sql, st, msg, det, code; END IF;
        RETURN msg || ' | ' || det || ' | ' || hint;
    END;
    RAISE EXCEPTION 'FAILED: % succeeded, wanted %', sql, code;
END $$;
CREATE FUNCTION pg_temp.call(fn text, a jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE s int; b jsonb;
BEGIN
    EXECUTE format('SELECT status, body FROM api.%I($1)', fn) INTO s, b USING a;
    RETURN jsonb_build_object('status', s, 'body', b);
END $$;

-- actors and config: "today" pinned to 2025-06-15
\set cfg '{"lag_points":20,"due_soon_days":7,"due_soon_progress":80,"today":"2025-06-15"}'
\set admin '{"token_id":null,"name":"admin","role":"admin","unit_id":null}'
\set sup '{"token_id":null,"name":"督查室","role":"supervisor","unit_id":null}'
\set viewer '{"token_id":null,"name":"看客","role":"viewer","unit_id":null}'

-- units: 社会事务办 > 民生科; 城管办 elsewhere
INSERT INTO units (name, kind) VALUES ('社会事务办', 'office'), ('城管办', 'office');
INSERT INTO units (name, parent_id) SELECT '民生科', id FROM units WHERE name = '社会事务办';
SELECT id AS social FROM units WHERE name = '社会事务办' \gset
SELECT id AS city FROM units WHERE name = '城管办' \gset
SELECT pg_temp.ok((SELECT count(*) FROM units) = 3, 'three units');
SELECT pg_temp.err($$INSERT INTO units (name) VALUES ('城管办')$$, '23505');

-- tokens
SELECT pg_temp.call('pt_token_create', jsonb_build_object('actor', :'admin'::jsonb, 'name', '社会事务办填报',
       'role', 'editor', 'unit', '社会事务办', 'token_sha256', repeat('ab', 32))) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)->>'status' = '201' AND (:'r'::jsonb)#>>'{body,unit}' = '社会事务办', 'token create');
SELECT id AS editor_tok, unit_id AS editor_unit FROM pt_token_lookup(repeat('ab', 32)) \gset
SELECT pg_temp.ok(:'editor_unit'::uuid = :'social'::uuid, 'lookup gives the unit');
SELECT pg_temp.ok((SELECT last_used_at IS NOT NULL FROM api_tokens WHERE id = :'editor_tok'), 'last_used_at noted');
SELECT pg_temp.call('pt_token_create', jsonb_build_object('name', 'tmp', 'role', 'viewer', 'unit', null,
       'token_sha256', repeat('cd', 32))) AS r \gset
SELECT pg_temp.ok((SELECT count(*) FROM pt_token_lookup(repeat('cd', 32))) = 1, 'second token');
SELECT pg_temp.call('pt_tokens_list', '{"limit":1}') AS r \gset
SELECT pg_temp.ok(jsonb_array_length((:'r'::jsonb)#>'{body,items}') = 1 AND (:'r'::jsonb)#>>'{body,next_cursor}' IS NOT NULL, 'tokens page 1');
SELECT pg_temp.call('pt_tokens_list', jsonb_build_object('limit', 1, 'cursor', (:'r'::jsonb)#>>'{body,next_cursor}')) AS r2 \gset
SELECT pg_temp.ok((:'r2'::jsonb)#>>'{body,items,0,id}' <> (:'r'::jsonb)#>>'{body,items,0,id}'
                  AND (:'r2'::jsonb)#>'{body,next_cursor}' = 'null', 'tokens page 2');
SELECT pg_temp.call('pt_token_revoke', jsonb_build_object('actor', :'admin'::jsonb,
       'id', (SELECT id FROM api_tokens WHERE name = 'tmp'))) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)->>'status' = '204', 'revoke 204');
SELECT pg_temp.ok((SELECT count(*) FROM pt_token_lookup(repeat('cd', 32))) = 0, 'revoked token is gone');
SELECT pg_temp.err($$SELECT * FROM pt_token_revoke('{"id":"00000000-0000-0000-0000-000000000001"}')$$, 'PT404');
SELECT pg_temp.err($$SELECT * FROM pt_tokens_list('{"cursor":"garbage"}')$$, 'PT422');
\set editor '{"token_id":"':editor_tok'","name":"社会事务办填报","role":"editor","unit_id":"':social'"}'

-- a plan with a nested tree (its leaves say status planned: signed for already,
-- so the state machine below starts where it always did; see test_workflow for 交办)
SELECT pg_temp.call('pt_plan_create', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'plan', $j$
{"title":"城东街道2025年工作谋划","year":2025,"org":"城东街道","source_sha256":"0000000000000000000000000000000000000000000000000000000000000abc",
 "source_text":"（一）聚力做好党建文章……",
 "tasks":[
  {"title":"聚力做好党建文章","children":[
    {"title":"增设网格驿站","status":"planned","lead_unit":"社会事务办","owner":"王芳","start_date":"2025-01-01","due_date":"2025-12-31",
     "co_units":["城管办","民生科"],"tags":["党建","网格"],"cadence":"monthly",
     "targets":[{"label":"网格驿站","value":10,"unit":"处","comparator":">=","text":"新增网格驿站10处"}],
     "milestones":[{"title":"选址完成","due_date":"2025-07-15"}]},
    {"title":"孵化志愿服务团队","status":"planned","body":"孵化30支以上志愿服务团队_100%","lead_unit":"民生科","start_date":"2025-01-01","due_date":"2025-06-10"}]},
  {"title":"提升城市品质","code":"二","children":[
    {"title":"老旧小区改造","status":"planned","lead_unit":"城管办","start_date":"2025-06-01","due_date":"2025-12-31",
     "targets":[{"label":"改造面积","value":8.5,"unit":"万平方米","comparator":">="}]},
    {"title":"背街小巷整治","status":"planned","lead_unit":"城管办","due_date":"2025-06-20","progress":50}]}]}
$j$::jsonb)) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)->>'status' = '201', 'plan 201');
SELECT (:'r'::jsonb)#>>'{body,id}' AS plan \gset
SELECT pg_temp.ok((:'r'::jsonb)#>>'{body,task_count}' = '6', 'task_count 6');
SELECT pg_temp.ok((:'r'::jsonb)#>>'{body,tasks,0,code}' = '1' AND (:'r'::jsonb)#>>'{body,tasks,0,children,1,code}' = '1.2'
                  AND (:'r'::jsonb)#>>'{body,tasks,1,code}' = '二' AND (:'r'::jsonb)#>>'{body,tasks,1,children,0,code}' = '二.1',
                  'derived codes');
SELECT id AS party FROM tasks WHERE title = '聚力做好党建文章' \gset
SELECT id AS station FROM tasks WHERE title = '增设网格驿站' \gset
SELECT id AS volunteers FROM tasks WHERE title = '孵化志愿服务团队' \gset
SELECT id AS city2 FROM tasks WHERE title = '提升城市品质' \gset
SELECT id AS estates FROM tasks WHERE title = '老旧小区改造' \gset
SELECT id AS alleys FROM tasks WHERE title = '背街小巷整治' \gset
-- re-import of the same document is idempotent
SELECT pg_temp.call('pt_plan_create', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'plan',
       '{"title":"again","source_sha256":"0000000000000000000000000000000000000000000000000000000000000abc","tasks":[{"title":"x"}]}'::jsonb)) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)->>'status' = '200' AND (:'r'::jsonb)#>>'{body,id}' = :'plan', 'same sha -> 200 same plan');
SELECT pg_temp.ok((SELECT count(*) FROM plans) = 1, 'no second plan');
SELECT pg_temp.err($$SELECT * FROM pt_plan_create('{"plan":{"title":"x","tasks":[{"body":"no title"}]}}')$$, 'PT422');
SELECT pg_temp.err($$SELECT * FROM pt_plan_create('{"plan":{"title":"x","tasks":[{"title":"a","due_date":"2025-02-30"}]}}')$$, 'PT422');

-- plan get / list / export
SELECT pg_temp.call('pt_plan_get', jsonb_build_object('cfg', :'cfg'::jsonb, 'id', :'plan', 'tree', false)) AS r \gset
SELECT pg_temp.ok(NOT ((:'r'::jsonb)->'body' ? 'tasks') AND (:'r'::jsonb)#>>'{body,title}' = '城东街道2025年工作谋划', 'plan get');
SELECT pg_temp.call('pt_plan_get', jsonb_build_object('cfg', :'cfg'::jsonb, 'id', :'plan', 'tree', true)) AS r \gset
SELECT pg_temp.ok(jsonb_array_length((:'r'::jsonb)#>'{body,tasks}') = 2
                  AND (:'r'::jsonb)#>>'{body,tasks,0,children,0,targets,0,value}' = '10', 'plan tree');
SELECT pg_temp.err($$SELECT * FROM pt_plan_get('{"id":"00000000-0000-0000-0000-000000000000"}')$$, 'PT404');
SELECT pg_temp.err($$SELECT * FROM pt_plan_get('{"id":"nope"}')$$, 'PT404');
SELECT pg_temp.call('pt_plans_list', '{"limit":50}') AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)#>>'{body,items,0,id}' = :'plan' AND (:'r'::jsonb)#>'{body,next_cursor}' = 'null', 'plans list');
SELECT pg_temp.call('pt_plan_export', jsonb_build_object('cfg', :'cfg'::jsonb, 'id', :'plan')) AS r \gset
SELECT pg_temp.ok((SELECT array_agg(x->>'code') FROM jsonb_array_elements((:'r'::jsonb)#>'{body,rows}') x)
                  = '{1,1.1,1.2,二,二.1,二.2}', 'export in document order');

-- the task shape
SELECT pg_temp.call('pt_task_get', jsonb_build_object('cfg', :'cfg'::jsonb, 'id', :'station')) AS r \gset
SELECT pg_temp.ok((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((:'r'::jsonb)->'body') k)
    = '{assigned_at,body,cadence,closed_at,co_units,code,created_at,done_by,due_date,due_date_source,due_source,effective_due,expected_progress,facts,id,late,lead_unit,leader,light,light_counts,milestones,note,original_due_date,own_light,owner,parent_id,plan_id,progress,progress_source,returned,seq,signed_at,signed_by,start_date,status,tags,targets,title,updated_at,version,weight}',
    'task keys');
SELECT pg_temp.ok((:'r'::jsonb)#>'{body,co_units}' = '["城管办","民生科"]' AND (:'r'::jsonb)#>>'{body,lead_unit}' = '社会事务办'
                  AND (:'r'::jsonb)#>'{body,tags}' = '["党建","网格"]' AND (:'r'::jsonb)#>>'{body,milestones,0,due_date}' = '2025-07-15'
                  AND (:'r'::jsonb)#>>'{body,version}' = '1' AND (:'r'::jsonb)#>>'{body,created_at}' ~ 'Z$', 'task fields');
SELECT pg_temp.err($$SELECT * FROM pt_task_get('{"id":"00000000-0000-0000-0000-000000000000"}')$$, 'PT404');

-- lights with today = 2025-06-15
--  station: start 01-01 due 12-31, elapsed 45%, progress 0 -> yellow (lag)
--  volunteers: due 06-10 -> red; alleys: due 06-20 (5 days), progress 50 -> yellow (due soon)
--  estates: start 06-01, elapsed 7% -> green
--  party: runs to the plan's end, worst of its items -> red; 提升城市品质: progress 25 of 45 elapsed, worst yellow
SELECT pg_temp.ok(pt_task_light(t, :'cfg'::jsonb) = CASE t.title WHEN '增设网格驿站' THEN 'yellow' WHEN '孵化志愿服务团队' THEN 'red'
                  WHEN '背街小巷整治' THEN 'yellow' WHEN '聚力做好党建文章' THEN 'red' WHEN '提升城市品质' THEN 'yellow'
                  ELSE 'green' END, 'light of ' || t.title) FROM tasks t WHERE t.plan_id = :'plan';
SELECT pg_temp.ok(pt_task_light(t, jsonb_set(:'cfg'::jsonb, '{lag_points}', '50')) = 'green', 'lag_points 50: green')
  FROM tasks t WHERE t.title = '增设网格驿站';
SELECT pg_temp.ok(pt_task_light(t, '{"due_soon_days":3,"lag_points":60,"today":"2025-06-15"}') = 'green', 'due_soon_days 3: green')
  FROM tasks t WHERE t.title = '背街小巷整治';
SELECT pg_temp.ok(pt_light('planned', 0, NULL, '2025-12-31', '{"today":"2026-01-01"}') = 'red'
              AND pt_light('done', 0, NULL, '2020-01-01', '{}') = 'done'
              AND pt_light('cancelled', 0, NULL, NULL, '{}') = 'cancelled'
              AND pt_light('planned', 0, '2025-01-01', '2025-12-31', '{"today":"2025-01-02"}') = 'green', 'pt_light');
-- without start_date, the plan's year starts the window: 背街小巷 elapsed ~97%, progress 50
SELECT pg_temp.ok(pt_task_light(t, '{"today":"2025-06-19","due_soon_days":0,"lag_points":20}') = 'yellow', 'plan-year start')
  FROM tasks t WHERE t.title = '背街小巷整治';

-- list filters
CREATE FUNCTION pg_temp.titles(a jsonb) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(x->>'title' ORDER BY n), '{}')
      FROM pt_tasks_list(a) r, jsonb_array_elements(r.body->'items') WITH ORDINALITY e(x, n)
$$;
SELECT pg_temp.ok(cardinality(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'plan', :'plan', 'limit', 50))) = 6, 'plan filter');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'plan', :'plan', 'unit', '城管办', 'limit', 50))
                  = '{老旧小区改造,背街小巷整治}', 'unit by name');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'unit', '社会事务办', 'limit', 50))
                  = '{增设网格驿站,孵化志愿服务团队}', 'unit includes units below');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'unit', :'city', 'limit', 50))
                  = '{老旧小区改造,背街小巷整治}', 'unit by id');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'unit', '没有这个单位', 'limit', 50)) = '{}', 'unknown unit');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'plan', :'plan', 'q', '志愿', 'limit', 50))
                  = '{孵化志愿服务团队}', 'q Chinese');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'q', '_100%', 'limit', 50)) = '{孵化志愿服务团队}', 'q with _ and %');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'q', '%', 'limit', 50)) = '{孵化志愿服务团队}', 'q % is literal');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'plan', :'plan', 'light', 'red', 'limit', 50))
                  = '{聚力做好党建文章,孵化志愿服务团队}', 'light red');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'plan', :'plan', 'light', 'yellow', 'limit', 50))
                  = '{增设网格驿站,提升城市品质,背街小巷整治}', 'light yellow');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'plan', :'plan', 'due_before', '2025-06-15', 'limit', 50))
                  = '{孵化志愿服务团队}', 'due_before');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'parent', :'party', 'due_after', '2025-06-15', 'limit', 50))
                  = '{增设网格驿站}', 'parent + due_after');
SELECT pg_temp.ok(pg_temp.titles(jsonb_build_object('cfg', :'cfg'::jsonb, 'plan', :'plan', 'status', 'planned', 'limit', 50))
                  = '{聚力做好党建文章,增设网格驿站,孵化志愿服务团队,提升城市品质,老旧小区改造,背街小巷整治}', 'status');
SELECT pg_temp.err($$SELECT * FROM pt_tasks_list('{"cursor":"x1"}')$$, 'PT422');
SELECT pg_temp.err($$SELECT * FROM pt_tasks_list('{"plan":"nope"}')$$, 'PT422');

-- pagination over a second plan of 57 tasks, 10 a page
SELECT pg_temp.call('pt_plan_create', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'plan',
       jsonb_build_object('title', '分页', 'year', 2025, 'tasks',
           (SELECT jsonb_agg(jsonb_build_object('title', '分页' || lpad(i::text, 3, '0'))) FROM generate_series(1, 57) i)))) AS r \gset
SELECT (:'r'::jsonb)#>>'{body,id}' AS plan2 \gset
DO $$
DECLARE cur text; page jsonb; seen text[] := '{}'; pages int := 0; p uuid := (SELECT id FROM plans WHERE title = '分页');
BEGIN
    LOOP
        SELECT body INTO page FROM pt_tasks_list(jsonb_build_object('plan', p, 'limit', 10, 'cursor', cur, 'cfg', '{}'::jsonb));
        seen := seen || ARRAY(SELECT x->>'title' FROM jsonb_array_elements(page->'items') x);
        pages := pages + 1;
        cur := page->>'next_cursor';
        EXIT WHEN cur IS NULL OR pages > 20;
    END LOOP;
    PERFORM pg_temp.ok(cardinality(seen) = 57 AND (SELECT count(DISTINCT s) FROM unnest(seen) s) = 57 AND pages = 6,
                       format('pagination: %s rows in %s pages', cardinality(seen), pages));
    PERFORM pg_temp.ok(seen[1] = '分页001' AND seen[57] = '分页057', 'pagination order');
END $$;

-- progress reports and the state machine
SELECT pg_temp.call('pt_task_report', jsonb_build_object('actor', :'editor'::jsonb, 'cfg', :'cfg'::jsonb, 'id', :'station', 'if_match', 1,
       'report', jsonb_build_object('status', 'in_progress', 'progress', 40, 'note', '本月新增4处', 'problems', '选址难', 'next_steps', '6月底前完成',
           'targets', jsonb_build_array(jsonb_build_object('id', (SELECT id FROM targets WHERE label = '网格驿站'), 'current', 4))))) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)->>'status' = '201' AND (:'r'::jsonb)#>>'{body,task,status}' = 'in_progress'
                  AND (:'r'::jsonb)#>>'{body,task,progress}' = '40' AND (:'r'::jsonb)#>>'{body,task,version}' = '2'
                  AND (:'r'::jsonb)#>>'{body,task,targets,0,current}' = '4'
                  AND (:'r'::jsonb)#>>'{body,update,status_from}' = 'planned' AND (:'r'::jsonb)#>>'{body,update,status_to}' = 'in_progress'
                  AND (:'r'::jsonb)#>>'{body,update,progress_from}' = '0' AND (:'r'::jsonb)#>>'{body,update,author}' = '社会事务办填报',
                  'report 201');
SELECT pg_temp.ok((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((:'r'::jsonb)#>'{body,update}') k)
    = '{at,attachments,author,id,kind,next_steps,note,problems,progress,progress_from,status_from,status_to,targets,task_id,unit}', 'update keys');
-- stale if_match
SELECT pg_temp.err(format('SELECT * FROM pt_task_report(%L)', jsonb_build_object('actor', :'sup'::jsonb, 'id', :'station', 'if_match', 1,
       'report', '{"progress":50}'::jsonb)), 'PT412');
SELECT pg_temp.err(format('SELECT * FROM pt_task_patch(%L)', jsonb_build_object('actor', :'sup'::jsonb, 'id', :'station', 'if_match', 1,
       'patch', '{"owner":"李强"}'::jsonb)), 'PT412');
-- unknown target id
SELECT pg_temp.err(format('SELECT * FROM pt_task_report(%L)', jsonb_build_object('actor', :'sup'::jsonb, 'id', :'station',
       'report', jsonb_build_object('targets', jsonb_build_array(jsonb_build_object('id', gen_random_uuid(), 'current', 1))))), 'PT422');
-- invalid transition planned -> verified (409) leaves the task alone
SELECT pg_temp.err(format('SELECT * FROM pt_task_report(%L)', jsonb_build_object('actor', :'sup'::jsonb, 'id', :'estates',
       'report', '{"status":"verified"}'::jsonb)), 'PT409');
SELECT pg_temp.ok((SELECT status = 'planned' AND version = 1 FROM tasks WHERE id = :'estates'), 'untouched after 409');
-- the walk
DO $$
DECLARE s text; want text; got text; tid uuid := (SELECT id FROM tasks WHERE title = '老旧小区改造');
BEGIN
    FOR s, want IN SELECT * FROM (VALUES ('in_progress','201'),('blocked','201'),('in_progress','201'),('done','201'),
                                         ('in_progress','201'),('done','201'),('verified','201'),('in_progress','PT409'),
                                         ('cancelled','PT409')) v LOOP
        BEGIN
            -- 办结 and 退回 carry a note; 销号 is somebody else's
            SELECT status::text INTO got FROM pt_task_report(jsonb_build_object('actor',
                CASE WHEN s = 'verified' THEN '{"name":"督查室复核","role":"supervisor"}'::jsonb
                     ELSE '{"name":"督查室","role":"supervisor"}'::jsonb END,
                'id', tid, 'report', jsonb_build_object('status', s, 'note', '步骤 ' || s)));
        EXCEPTION WHEN OTHERS THEN got := SQLSTATE;
        END;
        PERFORM pg_temp.ok(got = want, format('walk to %s: %s, wanted %s', s, got, want));
    END LOOP;
END $$;
SELECT pg_temp.ok((SELECT status = 'verified' AND progress = 100 AND closed_at IS NOT NULL AND version = 8 FROM tasks WHERE id = :'estates'), 'verified, 100, closed');
SELECT pg_temp.ok((SELECT count(*) FROM updates WHERE task_id = :'estates') = 7, 'seven history rows');
SELECT pg_temp.call('pt_task_get', jsonb_build_object('cfg', :'cfg'::jsonb, 'id', :'estates')) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)#>>'{body,light}' = 'verified', 'light verified');
-- reopen clears closed_at
SELECT pg_temp.ok((SELECT (body->'task'->>'closed_at') IS NOT NULL FROM pt_task_report(jsonb_build_object('actor', :'sup'::jsonb,
       'id', :'alleys', 'report', '{"status":"done","note":"已办结"}'::jsonb))), 'done sets closed_at');
SELECT pg_temp.ok((SELECT (body->'task'->>'closed_at') IS NULL AND (body->'task'->>'status') = 'in_progress' FROM pt_task_report(jsonb_build_object('actor', :'sup'::jsonb,
       'id', :'alleys', 'report', '{"status":"in_progress","progress":60,"note":"退回补充"}'::jsonb))), 'reopen clears closed_at');
-- scope: editor of 社会事务办 may not touch 城管办 tasks, may touch 民生科 ones
SELECT pg_temp.err(format('SELECT * FROM pt_task_report(%L)', jsonb_build_object('actor', :'editor'::jsonb, 'id', :'alleys',
       'report', '{"note":"越权"}'::jsonb)), 'PT403');
SELECT pg_temp.ok((SELECT status = 201 FROM pt_task_report(jsonb_build_object('actor', :'editor'::jsonb, 'cfg', :'cfg'::jsonb,
       'id', :'volunteers', 'report', '{"progress":10,"note":"下级单位"}'::jsonb))), 'editor below');
SELECT pg_temp.ok((SELECT status = 201 FROM pt_task_report(jsonb_build_object('actor', :'editor'::jsonb, 'id', :'station',
       'report', '{"status":"done","note":"已办结"}'::jsonb))), 'editor done');
SELECT pg_temp.err(format('SELECT * FROM pt_task_report(%L)', jsonb_build_object('actor', :'editor'::jsonb, 'id', :'station',
       'report', '{"status":"verified"}'::jsonb)), 'PT403');
SELECT pg_temp.err(format('SELECT * FROM pt_task_report(%L)', jsonb_build_object('actor', :'viewer'::jsonb, 'id', :'station',
       'report', '{"note":"x"}'::jsonb)), 'PT403');
SELECT pg_temp.err(format('SELECT * FROM pt_task_patch(%L)', jsonb_build_object('actor', :'editor'::jsonb, 'id', :'alleys',
       'patch', '{"owner":"x"}'::jsonb)), 'PT403');
SELECT pg_temp.err(format('SELECT * FROM pt_task_patch(%L)', jsonb_build_object('actor', :'editor'::jsonb, 'id', :'volunteers',
       'patch', '{"lead_unit":"城管办"}'::jsonb)), 'PT403');
SELECT pg_temp.err(format('SELECT * FROM pt_task_report(%L)', jsonb_build_object('actor', :'sup'::jsonb, 'id', gen_random_uuid(),
       'report', '{"note":"x"}'::jsonb)), 'PT404');

-- roll-up: 党建 has no own report: avg(station 100 (done), volunteers 10) = 55
SELECT pg_temp.call('pt_task_get', jsonb_build_object('cfg', :'cfg'::jsonb, 'id', :'party')) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)#>>'{body,progress}' = '55', 'roll-up ' || ((:'r'::jsonb)#>>'{body,progress}'));
-- three levels: a grandchild under volunteers makes volunteers' own report still win
SELECT pg_temp.call('pt_task_create', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'task',
       jsonb_build_object('plan_id', :'plan', 'parent_id', :'city2', 'title', '新增任务', 'due_date', '2025-07-05',
                          'progress', 20, 'children', '[{"title":"子任务A","progress":80},{"title":"子任务B"}]'::jsonb))) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)->>'status' = '201' AND (:'r'::jsonb)#>>'{body,code}' = '二.3'
                  AND (:'r'::jsonb)#>>'{body,progress}' = '20' AND (:'r'::jsonb)#>>'{body,light}' = 'yellow', 'task create');
SELECT (:'r'::jsonb)#>>'{body,id}' AS newtask \gset
SELECT pg_temp.ok((SELECT array_agg(code ORDER BY ord) FROM tasks WHERE parent_id = :'newtask') = '{二.3.1,二.3.2}', 'child codes');
-- 提升城市品质: estates 100 (verified), alleys 60, new 20 -> 60
SELECT pg_temp.ok((SELECT body->>'progress' FROM pt_task_get(jsonb_build_object('id', :'city2'))) = '60', 'roll-up of three');
SELECT pg_temp.err(format('SELECT * FROM pt_task_create(%L)', jsonb_build_object('actor', :'editor'::jsonb,
       'task', jsonb_build_object('plan_id', :'plan', 'title', 'x', 'lead_unit', '城管办'))), 'PT403');
SELECT pg_temp.err(format('SELECT * FROM pt_task_create(%L)', jsonb_build_object('actor', :'sup'::jsonb,
       'task', jsonb_build_object('plan_id', :'plan', 'parent_id', gen_random_uuid(), 'title', 'x'))), 'PT422');

-- patch
SELECT pg_temp.call('pt_task_patch', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'id', :'newtask', 'if_match', 1,
       'patch', '{"owner":"赵敏","lead_unit":"城管办","tags":["a"],"targets":[{"label":"面积","value":3,"unit":"亩"}],"milestones":[{"title":"开工"}]}'::jsonb)) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)->>'status' = '200' AND (:'r'::jsonb)#>>'{body,owner}' = '赵敏' AND (:'r'::jsonb)#>>'{body,lead_unit}' = '城管办'
                  AND (:'r'::jsonb)#>>'{body,version}' = '2' AND (:'r'::jsonb)#>>'{body,targets,0,comparator}' = '='
                  AND (:'r'::jsonb)#>>'{body,milestones,0,title}' = '开工' AND (:'r'::jsonb)#>>'{body,title}' = '新增任务', 'patch');
SELECT (:'r'::jsonb)#>>'{body,targets,0,id}' AS tgt \gset
SELECT pg_temp.call('pt_task_patch', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'id', :'newtask',
       'patch', '{"targets":[{"label":"面积","value":4,"unit":"亩"},{"label":"户数","value":100}],"owner":null}'::jsonb)) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)#>>'{body,targets,0,id}' = :'tgt' AND jsonb_array_length((:'r'::jsonb)#>'{body,targets}') = 2
                  AND (:'r'::jsonb)#>'{body,owner}' = 'null' AND (:'r'::jsonb)#>>'{body,version}' = '3', 'patch keeps target ids');
SELECT pg_temp.err(format('SELECT * FROM pt_task_patch(%L)', jsonb_build_object('actor', :'sup'::jsonb, 'id', :'newtask',
       'patch', '{"title":""}'::jsonb)), 'PT422');

-- updates history, newest first, paginated
SELECT pg_temp.call('pt_task_updates', jsonb_build_object('id', :'estates', 'limit', 3)) AS r \gset
SELECT pg_temp.ok(jsonb_array_length((:'r'::jsonb)#>'{body,items}') = 3 AND (:'r'::jsonb)#>>'{body,items,0,status_to}' = 'verified', 'updates page 1');
SELECT pg_temp.call('pt_task_updates', jsonb_build_object('id', :'estates', 'limit', 5, 'cursor', (:'r'::jsonb)#>>'{body,next_cursor}')) AS r \gset
SELECT pg_temp.ok(jsonb_array_length((:'r'::jsonb)#>'{body,items}') = 4 AND (:'r'::jsonb)#>'{body,next_cursor}' = 'null'
                  AND (:'r'::jsonb)#>>'{body,items,3,status_to}' = 'in_progress', 'updates page 2');
SELECT pg_temp.err($$SELECT * FROM pt_task_updates('{"id":"00000000-0000-0000-0000-000000000000"}')$$, 'PT404');

-- idempotency
SELECT * FROM pt_idem(:'editor_tok', 'k1', 'h1', 'pt_task_report', jsonb_build_object('actor', :'editor'::jsonb, 'cfg', :'cfg'::jsonb,
       'id', :'volunteers', 'report', '{"progress":77,"note":"幂等"}'::jsonb)) \gset first_
SELECT version AS v_after FROM tasks WHERE id = :'volunteers' \gset
SELECT * FROM pt_idem(:'editor_tok', 'k1', 'h1', 'pt_task_report', jsonb_build_object('actor', :'editor'::jsonb, 'cfg', :'cfg'::jsonb,
       'id', :'volunteers', 'report', '{"progress":77,"note":"幂等"}'::jsonb)) \gset again_
SELECT pg_temp.ok(:'first_status' = '201' AND :'again_status' = '201' AND (:'first_body'::jsonb)#>>'{update,id}' = (:'again_body'::jsonb)#>>'{update,id}', 'replay same answer');
SELECT pg_temp.ok((SELECT version FROM tasks WHERE id = :'volunteers') = :v_after, 'replay changed nothing');
SELECT pg_temp.ok((SELECT idempotency_key FROM updates WHERE id = ((:'first_body'::jsonb)#>>'{update,id}')::uuid) = 'k1', 'key on the history row');
SELECT pg_temp.err(format('SELECT * FROM pt_idem(%L, %L, %L, %L, %L)', :'editor_tok', 'k1', 'h2', 'pt_task_report', '{}'), 'PT422');
SELECT pg_temp.ok((SELECT (body->'update'->>'id') <> ((:'first_body'::jsonb)#>>'{update,id}') FROM pt_idem(NULL, 'k1', 'h1', 'pt_task_report',
       jsonb_build_object('actor', :'sup'::jsonb, 'id', :'volunteers', 'report', '{"progress":77,"note":"幂等"}'::jsonb))), 'keys are per token');
SELECT pg_temp.err($$SELECT * FROM pt_idem(NULL, 'k9', 'h', 'pg_sleep', '{}')$$, 'P0001');
SELECT pg_temp.err($$SELECT * FROM pt_idem(NULL, 'k9', 'h', 'pt_x; drop table tasks', '{}')$$, 'P0001');
-- an error is not stored: the same key may be retried
SELECT pg_temp.err(format('SELECT * FROM pt_idem(NULL, %L, %L, %L, %L)', 'k2', 'h', 'pt_task_report',
       jsonb_build_object('actor', :'sup'::jsonb, 'id', :'estates', 'report', '{"status":"planned"}'::jsonb)), 'PT409');
SELECT pg_temp.ok((SELECT count(*) FROM idempotency_keys WHERE key = 'k2') = 0, 'errors not stored');
SELECT pg_temp.ok((SELECT status = 201 FROM pt_idem(NULL, 'k3', 'h', 'pt_plan_create',
       jsonb_build_object('actor', :'sup'::jsonb, 'plan', '{"title":"幂等计划","tasks":[]}'::jsonb))), 'idem plan create');
UPDATE idempotency_keys SET created_at = now() - interval '3 days' WHERE key = 'k3';
SELECT pg_temp.ok(pt_idem_gc() = 1, 'gc drops old keys');
-- a concurrent duplicate holds the advisory lock: simulate it with dblink-free trick (lock in this session, then a second backend)
-- (covered by tests/sql/run.sh with two psql sessions)

-- delete (soft, subtree)
SELECT pg_temp.call('pt_task_delete', jsonb_build_object('actor', :'admin'::jsonb, 'id', :'newtask')) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)->>'status' = '204' AND (:'r'::jsonb)->'body' = 'null', 'delete 204');
SELECT pg_temp.err(format('SELECT * FROM pt_task_get(%L)', jsonb_build_object('id', :'newtask')), 'PT404');
SELECT pg_temp.ok((SELECT count(*) FROM tasks WHERE (id = :'newtask' OR parent_id = :'newtask') AND deleted_at IS NOT NULL) = 3, 'subtree deleted');
SELECT pg_temp.ok(NOT (:'newtask' = ANY (pg_temp.titles(jsonb_build_object('plan', :'plan', 'limit', 500)))), 'gone from list');
SELECT pg_temp.err(format('SELECT * FROM pt_task_delete(%L)', jsonb_build_object('actor', :'admin'::jsonb, 'id', :'newtask')), 'PT404');
SELECT pg_temp.err(format('SELECT * FROM pt_task_delete(%L)', jsonb_build_object('actor', :'editor'::jsonb, 'id', :'alleys')), 'PT403');

-- CSV-style import under a parent
SELECT pg_temp.call('pt_tasks_import', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'plan_id', :'plan', 'parent_id', :'volunteers',
       'tasks', '[{"seq":1,"title":"民生实事1","lead_unit":"新单位","due_date":"2025-09-30","targets":[{"label":"项目","value":1,"unit":"项"}]},{"seq":2,"title":"民生实事2"}]'::jsonb)) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)->>'status' = '201' AND (:'r'::jsonb)#>>'{body,created}' = '2' AND (:'r'::jsonb)#>>'{body,items,0,code}' = '1.2.1'
                  AND (:'r'::jsonb)#>>'{body,items,0,lead_unit}' = '新单位' AND (:'r'::jsonb)#>>'{body,parent_id}' = :'volunteers', 'tasks import');
SELECT pg_temp.ok((SELECT count(*) FROM units WHERE name = '新单位' AND parent_id IS NULL) = 1, 'unit created on first use');
SELECT pg_temp.err(format('SELECT * FROM pt_tasks_import(%L)', jsonb_build_object('actor', :'sup'::jsonb, 'plan_id', gen_random_uuid(), 'tasks', '[]'::jsonb)), 'PT404');
SELECT pg_temp.err(format('SELECT * FROM pt_tasks_import(%L)', jsonb_build_object('actor', :'sup'::jsonb, 'plan_id', :'plan',
       'tasks', '[{"title":"ok"},{"title":"bad","due_date":"2025-13-01"}]'::jsonb)), 'PT422');
SELECT pg_temp.ok((SELECT count(*) FROM tasks WHERE title = 'ok') = 0, 'all or nothing');

-- summary
SELECT pg_temp.call('pt_plan_summary', jsonb_build_object('cfg', :'cfg'::jsonb, 'id', :'plan')) AS r \gset
SELECT (:'r'::jsonb)->'body' AS summary \gset
SELECT pg_temp.ok((SELECT sum(v::int) FROM jsonb_each_text((:'summary'::jsonb)->'by_status') x(k, v)) = ((:'summary'::jsonb)->>'tasks')::int
              AND (SELECT sum(v::int) FROM jsonb_each_text((:'summary'::jsonb)->'by_light') x(k, v)) = ((:'summary'::jsonb)->>'tasks')::int
              AND ((:'summary'::jsonb)->>'tasks')::int = 8, 'summary counts');
-- 民生实事2 has no due date of its own: it runs to its parent's (06-10)
SELECT pg_temp.ok((SELECT array_agg(x->>'title' ORDER BY x->>'code') FROM jsonb_array_elements((:'summary'::jsonb)->'overdue') x)
                  = '{孵化志愿服务团队,民生实事2}', 'overdue ' || (:'summary'::jsonb)::text);
SELECT pg_temp.ok((SELECT bool_and((u->>'on_time_rate')::numeric BETWEEN 0 AND 1) FROM jsonb_array_elements((:'summary'::jsonb)->'units') u),
                  'on_time_rate is a fraction');
SELECT pg_temp.ok((SELECT min((u->>'rank')::int) FROM jsonb_array_elements((:'summary'::jsonb)->'units') u) = 1
              AND (SELECT count(*) FROM jsonb_array_elements((:'summary'::jsonb)->'units') u WHERE u->>'unit' IN ('社会事务办', '城管办')) = 2, 'units ranked');
SELECT pg_temp.ok((SELECT u->>'rank' FROM jsonb_array_elements((:'summary'::jsonb)->'units') u WHERE u->>'unit' = '社会事务办') = '1', '社会事务办 first (no red, highest progress)');
SELECT pg_temp.err($$SELECT * FROM pt_plan_summary('{"id":"00000000-0000-0000-0000-000000000000"}')$$, 'PT404');

-- events: unnumbered until published; the feed shows only published ones
SELECT pg_temp.ok((SELECT body->'events' = '[]' FROM pt_events_after('{"after":0,"limit":5}')), 'feed empty before publishing');
SELECT pg_temp.ok(pt_events_publish() = (SELECT count(*) FROM events), 'publish numbers every event');
SELECT pg_temp.ok(pt_events_publish() IS NULL, 'publish again: nothing pending');
SELECT pg_temp.call('pt_events_after', '{"after":0,"limit":500}') AS r \gset
SELECT pg_temp.ok((SELECT array_agg(DISTINCT x->>'type' ORDER BY x->>'type') FROM jsonb_array_elements((:'r'::jsonb)#>'{body,events}') x)
                  = '{plan.created,task.created,task.deleted,task.reported,task.updated,task.verified}', 'every event type');
SELECT pg_temp.ok(((:'r'::jsonb)#>>'{body,next_after}')::bigint = (SELECT max(seq) FROM events), 'next_after');
SELECT pg_temp.ok((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys((:'r'::jsonb)#>'{body,events,0}') k) = '{at,data,id,plan_id,seq,task_id,type}', 'event keys');
SELECT pg_temp.call('pt_events_after', '{"after":2,"limit":3}') AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)#>>'{body,events,0,seq}' = '3' AND (:'r'::jsonb)#>>'{body,next_after}' = '5', 'events page');
SELECT pg_temp.ok((SELECT body->>'next_after' = '999999' AND body->'events' = '[]' FROM pt_events_after('{"after":999999,"limit":5}')), 'none after');
SELECT pg_temp.ok((SELECT count(*) FROM updates WHERE kind IN ('report', 'co')) = (SELECT count(*) FROM events WHERE type = 'task.reported'), 'one event per report');

-- issue 10: red_lag_points, effective due dates, progress sources, as_of, ranking
SELECT pg_temp.call('pt_plan_create', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'plan',
       '{"title":"lag","year":2025,"tasks":[{"title":"全年事项","lead_unit":"城管办"}]}'::jsonb)) AS r \gset
SELECT pg_temp.ok(pt_task_light(t, '{"today":"2025-06-15","red_lag_points":40}') = 'red', 'red_lag_points: 45 behind -> red')
  FROM tasks t WHERE t.title = '全年事项';
SELECT pg_temp.ok(pt_task_light(t, '{"today":"2025-06-15","red_lag_points":50}') = 'yellow', 'red_lag_points 50: still yellow')
  FROM tasks t WHERE t.title = '全年事项';
SELECT pg_temp.ok((pt_task_eval(t, '{"today":"2025-06-15"}')).due_source = 'plan'
              AND (pt_task_eval(t, '{"today":"2025-06-15"}')).eff_due = '2025-12-31', 'section runs to the plan end')
  FROM tasks t WHERE t.title = '聚力做好党建文章';
SELECT pg_temp.ok(pt_target_score(jsonb_populate_record(NULL::targets, '{"label":"下降","value":5,"unit":"%","comparator":">=","current":39,"text":"下降5%","baseline":40}')) = 50, 'decrease by 5% from 40');
SELECT pg_temp.ok(pt_target_score(jsonb_populate_record(NULL::targets, '{"label":"控制在","value":10,"unit":"%","comparator":"<=","current":12}'))::numeric(5,2) = 83.33, 'keep below 10: 12 -> 83%');
SELECT pg_temp.ok(pt_target_score(jsonb_populate_record(NULL::targets, '{"label":"新增","value":10,"unit":"处","comparator":">=","current":15}')) = 100, 'capped at 100');
SELECT pg_temp.err(format('SELECT * FROM pt_plan_summary(%L)', jsonb_build_object('id', :'plan', 'cfg', '{"as_of":"2024-12-31"}'::jsonb)), 'PT422');
SELECT pg_temp.call('pt_plan_ranking', jsonb_build_object('cfg', :'cfg'::jsonb, 'id', :'plan',
       'period', '{"label":"2025Q2","from":"2025-04-01","to":"2025-06-30"}'::jsonb)) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)->>'status' = '200' AND (:'r'::jsonb)#>>'{body,as_of}' = '2025-06-15'
                  AND (:'r'::jsonb)#>>'{body,final}' = 'false', 'ranking while the period runs: as of today');

-- the journal: writes are recorded with the actor; append-only for everyone
SELECT pg_temp.ok((SELECT count(*) FROM journal WHERE entity = 'task' AND action = 'create') > 0, 'task creates journalled');
SELECT pg_temp.ok((SELECT count(*) FROM journal WHERE entity = 'task' AND action = 'report' AND author IS NOT NULL) > 0, 'reports journalled with author');
SELECT pg_temp.ok(NOT EXISTS (SELECT 1 FROM journal WHERE action = 'update' AND changes = '{}'), 'no empty updates');
SELECT pg_temp.err($$UPDATE journal SET note = 'x'$$, '42501');
SELECT pg_temp.err($$DELETE FROM journal$$, '42501');
SELECT pg_temp.err($$TRUNCATE journal$$, '42501');
SELECT pg_temp.ok(api.pt_journal(NULL, NULL, 'calendar', NULL, 'update', '{"x":[1,2]}', NULL, 'smoke') > 0, 'pt_journal');

-- accountability (issue 11): unknown units, reminders once per occasion
SELECT pg_temp.call('pt_plan_create', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'plan', $j$
{"title":"提醒","year":2025,"owner":"党工委书记","tasks":[
  {"title":"将到期","lead_unit":"城管办","due_date":"2025-03-07"},
  {"title":"逾期三级","lead_unit":"城管办","leader":"王副主任","due_date":"2025-02-10"},
  {"title":"月报","lead_unit":"城管办","status":"in_progress","cadence":"monthly","due_date":"2025-12-31"},
  {"title":"待签收","lead_unit":"城管办","due_date":"2025-12-31"}]}
$j$::jsonb)) AS r \gset
SELECT (:'r'::jsonb)#>>'{body,id}' AS rplan \gset
UPDATE tasks SET created_at = '2025-01-02', assigned_at = '2025-02-24' WHERE plan_id = :'rplan';
-- 2025-03-04 is a Tuesday: 将到期 is 3 working days ahead, 逾期三级 22 days late, February had no report,
-- 待签收 has waited 6 working days
\set rcfg '{"today":"2025-03-04","reminder_days":3,"sign_days":3,"overdue_levels":[1,6,11]}'
SELECT pt_reminders_run(:'rcfg') AS sent \gset
SELECT pg_temp.ok((SELECT array_agg(e.type || ':' || t.title ORDER BY e.type, t.title) FROM events e JOIN tasks t ON t.id = e.task_id
                    WHERE e.type IN ('task.due_soon', 'task.overdue', 'task.report_missing', 'task.unsigned'))
                  = '{task.due_soon:将到期,task.overdue:逾期三级,task.report_missing:月报,task.unsigned:将到期,task.unsigned:待签收,task.unsigned:逾期三级}'
                  AND :sent = 6, 'the reminders sent: ' || :sent);
SELECT pg_temp.ok((SELECT payload->>'level' = '3' AND payload->>'leader' = '王副主任' AND payload->>'plan_owner' = '党工委书记'
                     FROM events WHERE type = 'task.overdue' AND payload->>'title' = '逾期三级'), 'level 3 names the leader and the plan owner');
SELECT pg_temp.ok((SELECT payload->>'period_start' = '2025-02-01' FROM events WHERE type = 'task.report_missing'), 'the missing month');
SELECT pg_temp.ok(pt_reminders_run(:'rcfg') = 0, 'reminders: never twice for the same occasion');
SELECT pg_temp.ok(pt_reminders_run('{"today":"2025-03-05","overdue_levels":[1,6,11]}') = 0, 'the next day: nothing new');
SELECT pg_temp.ok((SELECT count(*) FROM tasks WHERE plan_id = :'rplan' AND status = 'assigned') = 3, 'lead units make tasks assigned');
SELECT pg_temp.ok((SELECT count(*) FROM pt_tasks_list(jsonb_build_object('cfg', :'rcfg'::jsonb, 'plan', :'rplan', 'unsigned', true, 'limit', 50)) x,
                    jsonb_array_elements(x.body->'items') i) = 3, 'unsigned list');
-- a supervisor naming an unknown unit creates it unless create_units is false; an editor never does
SELECT pg_temp.err(format('SELECT * FROM pt_task_patch(%L)', jsonb_build_object('actor', :'sup'::jsonb,
       'cfg', '{"create_units":false}'::jsonb, 'id', (SELECT id FROM tasks WHERE title = '月报'),
       'patch', '{"lead_unit":"新设专班"}'::jsonb)), 'PT422');
SELECT pg_temp.err(format('SELECT * FROM pt_task_patch(%L)', jsonb_build_object('actor', :'editor'::jsonb,
       'cfg', '{}'::jsonb, 'id', :'station', 'patch', '{"co_units":["新设专班"]}'::jsonb)), 'PT422');
SELECT pg_temp.ok(NOT EXISTS (SELECT 1 FROM units WHERE name = '新设专班'), 'no unit created');
SELECT pg_temp.ok((SELECT status = 200 FROM pt_task_patch(jsonb_build_object('actor', :'sup'::jsonb, 'cfg', '{}'::jsonb,
       'id', (SELECT id FROM tasks WHERE title = '月报'), 'patch', '{"co_units":["新设专班"]}'::jsonb))), 'supervisor creates it');
-- quiet hours: the deliverer's claim leaves reminders pending inside the window (in its time zone), not other events
INSERT INTO webhooks (url, secret) VALUES ('http://127.0.0.1:9/q', 'quiet-hours-secret-0123');
SELECT pt_events_publish() IS NOT NULL AS published \gset
SELECT pg_temp.ok((SELECT count(*) FROM pt_deliveries_claim(jsonb_build_object('limit', 1000, 'lease_seconds', 60,
                      'quiet_hours', to_char(now() AT TIME ZONE 'UTC' - interval '1 hour', 'HH24:MI') || '-'
                                     || to_char(now() AT TIME ZONE 'UTC' + interval '1 hour', 'HH24:MI'), 'tz', 'UTC'))
                    WHERE event_type IN ('task.due_soon', 'task.overdue', 'task.report_missing', 'task.unsigned')) = 0
                  AND (SELECT count(*) FROM webhook_deliveries WHERE event_type = 'task.overdue' AND status = 'pending' AND attempts = 0) > 0,
                  'quiet hours hold reminders');
SELECT pg_temp.ok((SELECT count(*) FROM pt_deliveries_claim('{"limit":1000,"lease_seconds":60,"quiet_hours":"00:00-00:00","tz":"Nowhere/Else"}')
                    WHERE event_type = 'task.overdue') > 0, 'outside the window (or with an unknown zone) they go');
\echo 'smoke.sql: accountability assertions passed'

-- what the plan parser reads (issue 12): facts, due_source, verb, strive, milestone target
SELECT pg_temp.call('pt_plan_create', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'plan', $j$
{"title":"计划管理","year":2025,"tasks":[{"title":"一","code":"一","children":[
  {"title":"志愿服务","code":"一.1","due_source":"plan_period","facts":[{"label":"志愿服务队伍","value":119,"unit":"支","text":"原有119支志愿服务队伍"}],
   "targets":[{"label":"志愿服务团队","value":30,"unit":"支","comparator":">=","verb":"new","strive":true}],
   "milestones":[{"title":"上半年完成1处","due_date":"2025-06-30","target":{"label":"处","value":1,"unit":"处","verb":"complete"}}]},
  {"title":"乙","code":"一.2"}]}, {"title":"二","code":"二"}]}
$j$::jsonb)) AS r \gset
SELECT (:'r'::jsonb)#>>'{body,id}' AS admin_plan, (:'r'::jsonb)#>>'{body,tasks,0,children,0,id}' AS vol \gset
SELECT pg_temp.call('pt_task_get', jsonb_build_object('cfg', :'cfg'::jsonb, 'id', :'vol')) AS r \gset
SELECT pg_temp.ok((:'r'::jsonb)#>>'{body,facts,0,value}' = '119' AND (:'r'::jsonb)#>>'{body,due_date_source}' = 'plan_period'
                  AND (:'r'::jsonb)#>>'{body,targets,0,verb}' = 'new' AND (:'r'::jsonb)#>>'{body,targets,0,strive}' = 'true'
                  AND (:'r'::jsonb)#>>'{body,milestones,0,target,value}' = '1', 'parser fields stored and shown');
SELECT pg_temp.err($$SELECT * FROM pt_plan_create('{"plan":{"title":"x","tasks":[{"title":"y","facts":"many"}]}}')$$, 'PT422');
-- moves: a cycle is refused, a move renumbers (top level in Chinese numerals)
SELECT pg_temp.err(format($$SELECT * FROM pt_task_move('{"actor":%s,"id":"%s","parent_id":"%s"}')$$, :'sup',
       (SELECT parent_id FROM tasks WHERE id = :'vol'), :'vol'), 'PT422');
SELECT pg_temp.call('pt_task_move', jsonb_build_object('actor', :'sup'::jsonb, 'cfg', :'cfg'::jsonb, 'id', :'vol',
       'parent_id', NULL, 'position', 1)) AS r \gset
SELECT pg_temp.ok((SELECT string_agg(code, ',' ORDER BY ord) FROM tasks WHERE plan_id = :'admin_plan') = '一,二,二.1,三',
                  'move renumbers: ' || (SELECT string_agg(code, ',' ORDER BY ord) FROM tasks WHERE plan_id = :'admin_plan'));
SELECT pg_temp.ok(api.pt_cn_numeral(10) = '十' AND api.pt_cn_numeral(23) = '二十三' AND api.pt_cn_numeral(100) = '100', 'numerals');

-- the hot path for a live leaf (pt_leaf_doc) says exactly what the whole plan's evaluation says
SELECT pg_temp.ok(api.pt_leaf_doc(t, c.cfg) = x.doc, 'leaf fast path agrees for ' || t.title || ' ' || c.cfg::text)
  FROM tasks t
  CROSS JOIN (VALUES (:'cfg'::jsonb), ('{"today":"2026-01-05","red_lag_points":30}'::jsonb),
                     ('{"today":"2025-02-01","working_days":true}'::jsonb)) AS c(cfg)
  JOIN LATERAL (SELECT y.doc FROM pt_eval_docs(t.plan_id, c.cfg) y WHERE ((y.ev).t).id = t.id) x ON true
 WHERE t.deleted_at IS NULL AND t.child_count = 0;
SELECT pg_temp.ok((SELECT count(*) FROM tasks WHERE deleted_at IS NULL AND child_count = 0) > 50, 'many leaves compared');

-- a report's evaluation after the write (pt_leaf_ev_after: the node rules again on the
-- evaluation before it) says what a fresh pt_leaf_ev of the written row says: progress
-- reported, status moved (closed, reopened), targets read again or not
SELECT pg_temp.ok(api.pt_leaf_ev_after(api.pt_leaf_ev(t, c.cfg), u.r, c.tg, c.cfg)
                  IS NOT DISTINCT FROM api.pt_leaf_ev(u.r, c.cfg),
                  'pt_leaf_ev_after agrees for ' || t.title || ' ' || (u.r).status || ' ' || c.cfg::text)
  FROM tasks t
  CROSS JOIN (VALUES (:'cfg'::jsonb, true), ('{"today":"2026-01-05","red_lag_points":30}'::jsonb, false),
                     ('{"today":"2025-02-01","working_days":true}'::jsonb, true)) AS c(cfg, tg)
  CROSS JOIN LATERAL (VALUES
      (jsonb_populate_record(t, jsonb_build_object('progress', (t.progress + 37) % 101, 'own_progress_reported', true))),
      (jsonb_populate_record(t, jsonb_build_object('status', CASE WHEN t.status = 'done' THEN 'in_progress' ELSE 'done' END,
                                                   'closed_at', CASE WHEN t.status = 'done' THEN NULL ELSE now() END,
                                                   'progress', 100, 'version', t.version + 1)))) AS u(r)
 WHERE t.deleted_at IS NULL AND t.child_count = 0;

\echo 'smoke.sql: all assertions passed'
