-- 0012_plan_version.sql - a plan's version and last change (issue 12): the
-- ETag of GET/PATCH /v1/plans/{id} (If-Match like tasks and units), bumped by
-- rename, archive, unarchive, delete and restore. Bookkeeping: the journal
-- leaves both out of its field changes (sql/api/15_journal.sql).

ALTER TABLE public.plans
    ADD COLUMN version    int NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN updated_at timestamptz;
