-- 0005_journal.sql - the journal: every change to plans, tasks, targets and
-- milestones (and, later, reports, change requests, attachments, units and the
-- calendar), with who made it and the full row afterwards, so any day's state
-- can be rebuilt ("as of") and every step of a task is traceable.
--
-- The rows are written by triggers and functions of the repeatable api schema
-- (sql/api/15_journal.sql). The guard below is the one documented exception to
-- "functions live in api": it lives here, in public, so that rebuilding the
-- api schema (DROP SCHEMA api CASCADE) never leaves the journal unguarded.
-- Append-only for everyone, table owner and superuser included: UPDATE,
-- DELETE and TRUNCATE are refused.

CREATE TABLE public.journal (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    plan_id    uuid,
    task_id    uuid,
    entity     text NOT NULL CHECK (length(entity) BETWEEN 1 AND 40),
               -- plan|task|target|milestone|report|change|attachment|unit|calendar
    entity_id  uuid,
    action     text NOT NULL CHECK (length(action) BETWEEN 1 AND 40),
               -- create|update|delete|report|sign|return|approve|reject|verify|...
    changes    jsonb NOT NULL DEFAULT '{}',   -- {field: [old, new]}
    snapshot   jsonb,                         -- the full row after the change (NULL after a hard delete)
    author     text,
    token_id   uuid,
    role       text,
    request_id text,
    note       text
);
CREATE INDEX journal_task_at_idx ON public.journal (task_id, at, id);
CREATE INDEX journal_plan_at_idx ON public.journal (plan_id, at);

CREATE FUNCTION public.journal_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'the journal is append-only',
        DETAIL = TG_OP || ' on public.journal is refused';
END $$;
COMMENT ON FUNCTION public.journal_append_only() IS
    'Refuses UPDATE, DELETE and TRUNCATE on public.journal (kept in public so the api rebuild never drops it)';

CREATE TRIGGER journal_no_update_delete BEFORE UPDATE OR DELETE ON public.journal
    FOR EACH ROW EXECUTE FUNCTION public.journal_append_only();
CREATE TRIGGER journal_no_truncate BEFORE TRUNCATE ON public.journal
    FOR EACH STATEMENT EXECUTE FUNCTION public.journal_append_only();

-- Backfill: one create snapshot per existing plan, task, target and milestone,
-- at its creation time (targets and milestones: their task's), so as-of reads
-- work on upgraded databases. A task's snapshot carries its state before its
-- first progress report; every report then becomes a 'report' entry at its
-- time (status and progress from the updates history).
INSERT INTO public.journal (at, plan_id, task_id, entity, entity_id, action, snapshot, author, note)
SELECT p.created_at, p.id, NULL, 'plan', p.id, 'create', to_jsonb(p) - 'source_text', NULL, 'backfilled by migration 0005'
  FROM public.plans p;

INSERT INTO public.journal (at, plan_id, task_id, entity, entity_id, action, snapshot, author, note)
SELECT t.created_at, t.plan_id, t.id, 'task', t.id, 'create',
       to_jsonb(t) || jsonb_build_object('deleted_at', NULL)
              || CASE WHEN f.id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object(
                     'status', f.status_from, 'progress', coalesce(f.progress_from, 0),
                     'own_progress_reported', false, 'closed_at', NULL) END,
       NULL, 'backfilled by migration 0005'
  FROM public.tasks t
  LEFT JOIN LATERAL (SELECT u.* FROM public.updates u WHERE u.task_id = t.id ORDER BY u.at, u.id LIMIT 1) f ON true;

INSERT INTO public.journal (at, plan_id, task_id, entity, entity_id, action, changes, snapshot, author, token_id, note)
SELECT u.at, t.plan_id, t.id, 'task', t.id, 'report',
       jsonb_build_object('status', jsonb_build_array(u.status_from, u.status_to),
                          'progress', jsonb_build_array(u.progress_from, u.progress)),
       to_jsonb(t) || jsonb_build_object('status', u.status_to, 'progress', coalesce(u.progress, 0),
           'own_progress_reported', true,
           'closed_at', CASE WHEN u.status_to IN ('done', 'verified', 'cancelled') THEN to_jsonb(u.at) END,
           'deleted_at', NULL),
       u.author, u.token_id, u.note
  FROM public.updates u JOIN public.tasks t ON t.id = u.task_id;

INSERT INTO public.journal (at, plan_id, task_id, entity, entity_id, action, snapshot, note)
SELECT t.deleted_at, t.plan_id, t.id, 'task', t.id, 'delete', to_jsonb(t), 'backfilled by migration 0005'
  FROM public.tasks t WHERE t.deleted_at IS NOT NULL;

INSERT INTO public.journal (at, plan_id, task_id, entity, entity_id, action, snapshot, note)
SELECT t.created_at, t.plan_id, t.id, 'target', g.id, 'create', to_jsonb(g), 'backfilled by migration 0005'
  FROM public.targets g JOIN public.tasks t ON t.id = g.task_id;

INSERT INTO public.journal (at, plan_id, task_id, entity, entity_id, action, snapshot, note)
SELECT t.created_at, t.plan_id, t.id, 'milestone', m.id, 'create', to_jsonb(m), 'backfilled by migration 0005'
  FROM public.milestones m JOIN public.tasks t ON t.id = m.task_id;
