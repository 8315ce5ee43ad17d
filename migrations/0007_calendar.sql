-- 0007_calendar.sql - the working-day calendar (工作日历, 调休; docs/calendar.md):
-- per year the days the national schedule makes holidays (休) or working
-- weekend days (班). Every other day: Monday..Friday work. 序时进度 counts
-- working days when [lights] working_days = on (sql/api/05_eval.sql).

CREATE TABLE public.calendar_years (
    year      int PRIMARY KEY CHECK (year BETWEEN 1900 AND 2999),
    source    text,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    loaded_by text
);

CREATE TABLE public.calendar_days (
    day  date PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name text,
    -- the C side checks this too; the table keeps it true whoever writes
    CONSTRAINT calendar_days_workday_on_weekend CHECK (kind <> 'workday' OR extract(isodow FROM day) >= 6)
);
