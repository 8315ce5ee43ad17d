-- 0010_plan_hygiene.sql - what a careful clerk reads in a plan, and plans that
-- can be renamed, archived, deleted and restored (issue 12).
--
-- tasks.facts       context counts read from the item (原有119支队伍): shown, never scored
-- tasks.note        备注 from a CSV row or the API
-- tasks.due_source  where due_date came from: text (the item names it), csv,
--                   api, parent / plan_period (no own date: effective due applies)
-- targets.verb      the verb class (new, complete, reach, not_less, strive, reduce_by, ...)
-- targets.strive    力争: a stretch target
-- milestones.target the partial target a milestone reaches (其中上半年完成1处)
-- plans.archived_*  archived plans are hidden from lists and rankings unless asked
-- plans.deleted_*   soft delete, restorable for 30 days (then purged)
-- The event types are 0009's plus plan administration, task moves, calendar
-- loads and import jobs.

ALTER TABLE public.tasks
    ADD COLUMN facts      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(facts) = 'array'),
    ADD COLUMN note       text,
    ADD COLUMN due_source text;

ALTER TABLE public.targets
    ADD COLUMN verb   text,
    ADD COLUMN strive boolean NOT NULL DEFAULT false;

ALTER TABLE public.milestones
    ADD COLUMN target jsonb CHECK (target IS NULL OR jsonb_typeof(target) = 'object');

ALTER TABLE public.plans
    ADD COLUMN archived_at timestamptz,
    ADD COLUMN archived_by text,
    ADD COLUMN deleted_by  text;

ALTER TABLE public.events DROP CONSTRAINT events_type_check;
ALTER TABLE public.events ADD CONSTRAINT events_type_check
    CHECK (type IN (
    'plan.created', 'plan.approved',
    'plan.updated', 'plan.archived', 'plan.unarchived', 'plan.deleted', 'plan.restored',
    'task.created', 'task.updated', 'task.deleted', 'task.reported', 'task.moved',
    'task.signed', 'task.returned', 'task.verified',
    'change.requested', 'change.approved', 'change.rejected',
    'attachment.added', 'unit.created', 'unit.updated',
    'task.due_soon', 'task.overdue', 'task.report_missing', 'task.unsigned',
    'webhook.paused', 'calendar.updated', 'import.finished'));
