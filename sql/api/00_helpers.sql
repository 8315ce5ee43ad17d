-- sql/api/00_helpers.sql - shared helpers: timestamps, uuids, client errors, limits, units and scope.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

---------------------------------------------------------------------------
-- small helpers
---------------------------------------------------------------------------

-- RFC 3339 UTC timestamp text.
-- (to_jsonb of a timestamp is ISO 8601 whatever DateStyle says, and much faster than to_char)
CREATE FUNCTION api.pt_ts(t timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (to_jsonb(t AT TIME ZONE 'UTC') #>> '{}') || 'Z'
$$;

-- text -> uuid, NULL when it is no uuid (never an error).
CREATE FUNCTION api.pt_uuid(s text) RETURNS uuid
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s ~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$'
                THEN s::uuid END
$$;

-- Raise a client error: code 'PT404' etc. hint is errors[] (an array) or an
-- object {type?, rule?, params?, errors?}: type names the problem type
-- (otherwise the daemon derives it from the status), rule and params are
-- what the Chinese text is made from (daemon/i18n.c: a row per type and rule),
-- e.g. jsonb_build_object('rule', 'version', 'params', jsonb_build_object('resource', 'task', 'version', 3)).
CREATE FUNCTION api.pt_fail(code text, msg text, detail text DEFAULT NULL, hint jsonb DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = msg,
        DETAIL = coalesce(detail, ''), HINT = coalesce(hint::text, '');
END $$;

-- One-field 422 with the rule it broke (errors[].rule, daemon/i18n.c rules[])
-- and what the message names (errors[].params).
CREATE FUNCTION api.pt_fail422(field text, message text, rule text, params jsonb DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
    SELECT api.pt_fail('PT422', 'Validation failed', field || ' ' || message,
                          jsonb_build_array(jsonb_strip_nulls(jsonb_build_object('field', field, 'message', message,
                                                                                 'rule', rule, 'params', params))))
$$;

-- One-field 422; the rule read off the usual wordings (new code: name it, above).
CREATE FUNCTION api.pt_fail422(field text, message text) RETURNS void
LANGUAGE sql AS $$
    SELECT api.pt_fail422(field, message,
        CASE WHEN message = 'is required' THEN 'required'
             WHEN message = 'must not be empty' THEN 'empty'
             WHEN message ~ '^must be from -?[0-9.]+ to -?[0-9.]+$' THEN 'range'
             WHEN message ~ 'YYYY-MM-DD' THEN 'date'
             WHEN message ~ 'cursor' THEN 'cursor'
             WHEN message ~ 'unit' AND message ~ '(no known|unknown)' THEN 'unknown-unit'
             WHEN message ~ '^(must be an? |is not an? )(plan|task|target|unit|milestone)( id| of|$)' THEN 'reference'
             WHEN message ~ '^is not an? ' THEN 'enum'
             WHEN message ~ '^must be .*( or |, )' THEN 'enum'
             WHEN message ~ 'hex digits' THEN 'format'
             WHEN message ~ '^must be ' THEN 'value' END,
        CASE WHEN message ~ '^must be from -?[0-9.]+ to -?[0-9.]+$'
             THEN jsonb_build_object('min', (regexp_match(message, '^must be from (-?[0-9.]+)'))[1]::numeric,
                                     'max', (regexp_match(message, ' to (-?[0-9.]+)$'))[1]::numeric)
             WHEN message ~ '^(must be an? |is not an? )(plan|task|target|unit|milestone)( id| of|$)'
             THEN jsonb_build_object('resource', (regexp_match(message, '^(?:must be an? |is not an? )(\w+)'))[1])
             WHEN message ~ '^must be .*( or |, )' AND message !~ '^must be from '
             THEN jsonb_build_object('values', substr(message, 9)) END)
$$;

-- The day lights are measured on: cfg.as_of, else cfg.today (the [clock]
-- setting that pins "today" for tests), else today in cfg.tz (Asia/Shanghai).
CREATE FUNCTION api.pt_today(cfg jsonb) RETURNS date
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(cfg->>'as_of', '')::date, nullif(cfg->>'today', '')::date,
                    (now() AT TIME ZONE coalesce(nullif(cfg->>'tz', ''), 'Asia/Shanghai'))::date)
$$;

-- A jsonb string/null as text: empty strings count as absent.
CREATE FUNCTION api.pt_text(v jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(v) = 'string' THEN nullif(btrim(v #>> '{}'), '')
                WHEN jsonb_typeof(v) IN ('number', 'boolean') THEN v #>> '{}' END
$$;

CREATE FUNCTION api.pt_texts(v jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(x ORDER BY n), '{}')
      FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(v) = 'array' THEN v ELSE '[]' END)
           WITH ORDINALITY AS e(x, n)
     WHERE btrim(x) <> ''
$$;

CREATE FUNCTION api.pt_limit(a jsonb) RETURNS int
LANGUAGE sql IMMUTABLE AS $$
    SELECT greatest(1, least(500, coalesce((a->>'limit')::int, 50)))
$$;

---------------------------------------------------------------------------
-- units and scope
---------------------------------------------------------------------------

-- The unit called n (a root one preferred), created at the root on first use.
CREATE FUNCTION api.pt_unit_ensure(n text) RETURNS uuid
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

CREATE FUNCTION api.pt_unit_name(u uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT name FROM public.units WHERE id = u
$$;

-- May actor write to a task whose lead unit is u? supervisor/admin: always;
-- editor: when u is its unit or below it; anyone else: never.
CREATE FUNCTION api.pt_in_scope(actor jsonb, u uuid) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    role text := actor->>'role';
    mine uuid := api.pt_uuid(actor->>'unit_id');
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

CREATE FUNCTION api.pt_check_scope(actor jsonb, u uuid) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT api.pt_in_scope(actor, u) THEN
        PERFORM api.pt_fail('PT403', 'Forbidden',
            CASE WHEN actor->>'role' = 'editor'
                 THEN 'the task''s lead unit is not your unit or a unit below it'
                 ELSE 'your role may not change this task' END,
            CASE WHEN actor->>'role' = 'editor' THEN '{"rule": "scope"}'::jsonb
                 ELSE '{"rule": "role", "params": {"role": "editor"}}'::jsonb END);
    END IF;
END $$;

-- The unit u and every unit below it.
CREATE FUNCTION api.pt_unit_subtree(roots uuid[]) RETURNS uuid[]
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE down(id, depth) AS (
        SELECT unnest(roots), 0
        UNION
        SELECT un.id, down.depth + 1 FROM public.units un JOIN down ON un.parent_id = down.id
         WHERE down.depth < 64)
    SELECT coalesce(array_agg(DISTINCT id), '{}') FROM down
$$;

-- The unit called n for a write by actor (field: where n came from, for a 422).
-- Known: its id (a root unit preferred). Unknown: an editor gets 422; a
-- supervisor or admin creates it at the root, unless cfg.create_units is false.
CREATE FUNCTION api.pt_unit_resolve(n text, actor jsonb, cfg jsonb, field text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE u uuid;
BEGIN
    n := nullif(btrim(n), '');
    IF n IS NULL THEN RETURN NULL; END IF;
    SELECT id INTO u FROM public.units WHERE name = n ORDER BY parent_id IS NOT NULL, created_at, id LIMIT 1;
    IF u IS NOT NULL THEN RETURN u; END IF;
    IF actor->>'role' IS NOT DISTINCT FROM 'editor' THEN
        PERFORM api.pt_fail422(field, 'names an unknown unit "' || n || '" (only a supervisor may create units)');
    END IF;
    IF NOT coalesce((cfg->>'create_units')::boolean, true) THEN
        PERFORM api.pt_fail422(field, 'names an unknown unit "' || n || '" (create it with POST /v1/units first)');
    END IF;
    RETURN api.pt_unit_ensure(n);
END $$;

-- Is one of the units us (a task's co-operating units) the actor's unit or below it?
CREATE FUNCTION api.pt_in_co_scope(actor jsonb, us uuid[]) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE u uuid;
BEGIN
    IF actor->>'role' IS DISTINCT FROM 'editor' OR api.pt_uuid(actor->>'unit_id') IS NULL THEN
        RETURN false;
    END IF;
    FOREACH u IN ARRAY coalesce(us, '{}') LOOP
        IF api.pt_in_scope(actor, u) THEN RETURN true; END IF;
    END LOOP;
    RETURN false;
END $$;

-- Working days in (a, b]: the calendar's (sql/api/90_calendar.sql: a loaded
-- year's holidays and 调休 workdays), else Monday to Friday. plpgsql, so the
-- calendar functions defined later in the api set resolve at run time.
CREATE FUNCTION api.pt_workdays_after(a date, b date) RETURNS int
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF a IS NULL OR b IS NULL OR b <= a THEN RETURN 0; END IF;
    RETURN api.pt_workdays_between(a + 1, b);
END $$;

-- The working day n working days before d (n >= 0; d itself when n = 0).
CREATE FUNCTION api.pt_workdays_before(d date, n int) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE k int := 0;
BEGIN
    WHILE k < n LOOP
        d := d - 1;
        IF api.pt_is_workday(d) THEN k := k + 1; END IF;
    END LOOP;
    RETURN d;
END $$;

-- PT412 when if_match (a number: the ETag the client sent) is not the
-- resource's version; nothing when there is no If-Match.
CREATE FUNCTION api.pt_check_if_match(resource text, version bigint, if_match jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF jsonb_typeof(if_match) = 'number' AND (if_match #>> '{}')::numeric <> version THEN
        PERFORM api.pt_fail('PT412', 'Precondition failed',
            format('the %s is at version %s, not %s', resource, version, if_match #>> '{}'),
            jsonb_build_object('rule', 'version', 'params', jsonb_build_object('resource', resource, 'version', version)));
    END IF;
END $$;
