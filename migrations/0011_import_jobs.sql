-- 0011_import_jobs.sql - CSV imports that run as jobs, and the replay record
-- that makes uploading the same file twice a no-op (issue 12 item 3, issue 15
-- defect 8).
--
-- import_jobs     one row per import accepted with 202 (above imports.job_rows
--                 rows): queued -> running -> done | failed, all or nothing;
--                 result is the import's answer (counts, warnings), errors the
--                 problem when it failed
-- import_replays  one row per committed CSV import: key = sha256 of the body,
--                 plan, parent and mode; a second upload with the same key is
--                 answered from here and writes nothing

CREATE TABLE public.import_jobs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id     uuid NOT NULL REFERENCES public.plans(id) ON DELETE CASCADE,
    parent_id   uuid,
    mode        text NOT NULL CHECK (mode IN ('append', 'upsert')),
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    rows        int NOT NULL DEFAULT 0 CHECK (rows >= 0),
    progress    int NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    result      jsonb,
    errors      jsonb,
    created_by  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);
CREATE INDEX import_jobs_status_idx ON public.import_jobs (status, created_at);

CREATE TABLE public.import_replays (
    key        text PRIMARY KEY CHECK (length(key) = 64),
    plan_id    uuid NOT NULL REFERENCES public.plans(id) ON DELETE CASCADE,
    parent_id  uuid,
    mode       text NOT NULL,
    sha256     text NOT NULL,
    job_id     uuid,
    result     jsonb NOT NULL DEFAULT '{}',
    created_by text,
    created_at timestamptz NOT NULL DEFAULT now()
);
