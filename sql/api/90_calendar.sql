-- sql/api/90_calendar.sql - the working-day calendar (docs/calendar.md, migrations/0007_calendar.sql).
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

-- A working day: what the calendar says, else Monday..Friday.
CREATE FUNCTION api.pt_is_workday(d date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT c.kind = 'workday' FROM public.calendar_days c WHERE c.day = d),
                    extract(isodow FROM d) < 6)
$$;

-- Working days in [a, b], both included; 0 when a > b.
CREATE FUNCTION api.pt_workdays_between(a date, b date) RETURNS int
LANGUAGE sql STABLE AS $$
    SELECT count(*) FILTER (WHERE coalesce(c.kind = 'workday', extract(isodow FROM g.d) < 6))::int
      FROM generate_series(a, b, interval '1 day') AS g(d)
      LEFT JOIN public.calendar_days c ON c.day = g.d::date
$$;

-- 序时进度 in working days: working days of [start, d] / of [start, due].
CREATE FUNCTION api.pt_expected_workdays(start date, due date, d date) RETURNS float8
LANGUAGE plpgsql STABLE AS $$
DECLARE total int;
BEGIN
    IF d < start THEN RETURN 0; END IF;
    IF d >= due THEN RETURN 100; END IF;
    total := api.pt_workdays_between(start, due);
    IF total = 0 THEN RETURN 100; END IF;
    RETURN 100.0 * api.pt_workdays_between(start, d) / total;
END $$;

CREATE FUNCTION api.pt_calendar_json(y int) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('year', cy.year, 'source', cy.source,
        'days', (SELECT coalesce(jsonb_agg(jsonb_build_object('day', c.day, 'kind', c.kind, 'name', c.name)
                                           ORDER BY c.day), '[]')
                   FROM public.calendar_days c WHERE c.day BETWEEN make_date(y, 1, 1) AND make_date(y, 12, 31)),
        'workdays', api.pt_workdays_between(make_date(y, 1, 1), make_date(y, 12, 31)),
        'loaded_at', api.pt_ts(cy.loaded_at), 'loaded_by', cy.loaded_by)
      FROM public.calendar_years cy WHERE cy.year = y
$$;

-- {actor, calendar: canonical form (workcal_to_json)} -> 201 (new year) or 200
-- (replaced) with the stored calendar; journalled as entity calendar.
CREATE FUNCTION api.pt_calendar_put(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    cal jsonb := a->'calendar';
    y int := (cal->>'year')::int;
    existed boolean;
    before jsonb;
BEGIN
    PERFORM api.pt_actor_begin(a);
    IF y IS NULL OR y NOT BETWEEN 1900 AND 2999 THEN
        PERFORM api.pt_fail422('year', 'required: an integer from 1900 to 2999');
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_to_recordset(coalesce(cal->'days', '[]')) AS x(day date)
                WHERE x.day IS NULL OR extract(year FROM x.day) <> y) THEN
        PERFORM api.pt_fail422('days', 'every day must be a date in ' || y);
    END IF;
    PERFORM pg_advisory_xact_lock(726261042, y);  -- (class, year): one loader per year at a time
    before := api.pt_calendar_json(y);
    existed := before IS NOT NULL;
    DELETE FROM public.calendar_days WHERE day BETWEEN make_date(y, 1, 1) AND make_date(y, 12, 31);
    BEGIN
        INSERT INTO public.calendar_days (day, kind, name)
        SELECT x.day, x.kind, x.name FROM jsonb_to_recordset(coalesce(cal->'days', '[]')) AS x(day date, kind text, name text);
    EXCEPTION WHEN data_exception OR check_violation OR unique_violation OR not_null_violation THEN
        PERFORM api.pt_fail('PT422', 'Validation failed', SQLERRM,
            jsonb_build_array(jsonb_build_object('field', 'days', 'message', SQLERRM)));
    END;
    INSERT INTO public.calendar_years (year, source, loaded_by) VALUES (y, api.pt_text(cal->'source'), a->'actor'->>'name')
    ON CONFLICT (year) DO UPDATE SET source = EXCLUDED.source, loaded_at = now(), loaded_by = EXCLUDED.loaded_by;
    PERFORM api.pt_journal(NULL, NULL, 'calendar', NULL, CASE WHEN existed THEN 'update' ELSE 'create' END,
        jsonb_build_object('year', jsonb_build_array(CASE WHEN existed THEN y END, y),
                           'days', jsonb_build_array(jsonb_array_length(coalesce(before->'days', '[]')),
                                                     jsonb_array_length(coalesce(cal->'days', '[]')))),
        api.pt_calendar_json(y), NULL);
    RETURN QUERY SELECT CASE WHEN existed THEN 200 ELSE 201 END, api.pt_calendar_json(y);
END $$;

-- {year} -> 200 the stored calendar; PT404 when the year was never loaded.
CREATE FUNCTION api.pt_calendar_get(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE b jsonb := api.pt_calendar_json((a->>'year')::int);
BEGIN
    IF b IS NULL THEN
        PERFORM api.pt_fail('PT404', 'Calendar not found', 'no calendar loaded for ' || coalesce(a->>'year', 'null'));
    END IF;
    RETURN QUERY SELECT 200, b;
END $$;
