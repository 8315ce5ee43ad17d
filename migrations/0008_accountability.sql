-- 0008_accountability.sql - issue 11: units as a tree with kind and 分管领导,
-- 交办/签收/退回 (status assigned), plan approval and change requests,
-- 办结 evidence (attachments kept in PostgreSQL), 销号 by a second person,
-- reminders sent once per task and occasion. Functions: sql/api/55_accountability.sql.

-- units: 分管领导 and a version for PATCH
ALTER TABLE public.units
    ADD COLUMN leader     text,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN version    int NOT NULL DEFAULT 1;

-- tasks: the status assigned (交办, not yet signed for), who signed or
-- returned it, the due date fixed when the plan was approved, who reported
-- it done (销号 needs somebody else).
ALTER TABLE public.tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE public.tasks ADD CONSTRAINT tasks_status_check
    CHECK (status IN ('assigned', 'planned', 'in_progress', 'blocked', 'done', 'verified', 'cancelled'));
ALTER TABLE public.tasks
    ADD COLUMN original_due_date date,
    ADD COLUMN assigned_at       timestamptz,
    ADD COLUMN signed_at         timestamptz,
    ADD COLUMN signed_by         text,
    ADD COLUMN returned_at       timestamptz,
    ADD COLUMN returned_by       text,
    ADD COLUMN returned_unit_id  uuid REFERENCES public.units(id),
    ADD COLUMN return_reason     text,
    ADD COLUMN done_by           text,
    ADD COLUMN done_by_token     uuid;
-- (no index for co_unit_ids or assigned_at: an office's plans are scanned whole by
-- the reminders anyway, and every index slows the 10 000-row import)

-- plans: approval fixes the list (titles, due dates, targets change only by request)
ALTER TABLE public.plans
    ADD COLUMN owner       text,
    ADD COLUMN approved_at timestamptz,
    ADD COLUMN approved_by text;

-- progress reports: a lead unit's report or a co-operating unit's feedback (协办反馈);
-- 签收 and 退回 are steps in the journal, not reports
ALTER TABLE public.updates
    ADD COLUMN kind    text NOT NULL DEFAULT 'report' CHECK (kind IN ('report', 'co')),
    ADD COLUMN unit_id uuid REFERENCES public.units(id);

-- 延期申请 / 调整申请
CREATE TABLE public.change_requests (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id         uuid NOT NULL REFERENCES public.tasks(id) ON DELETE CASCADE,
    plan_id         uuid NOT NULL REFERENCES public.plans(id) ON DELETE CASCADE,
    fields          text[] NOT NULL CHECK (cardinality(fields) > 0),
    changes         jsonb NOT NULL,          -- {field: [old, new]} as filed
    reason          text NOT NULL CHECK (length(btrim(reason)) > 0),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
    requested_by    text NOT NULL,
    requested_token uuid,
    requested_unit  uuid REFERENCES public.units(id),
    requested_at    timestamptz NOT NULL DEFAULT now(),
    decided_by      text,
    decided_token   uuid,
    decided_at      timestamptz,
    comment         text
);
CREATE INDEX change_requests_state_idx ON public.change_requests (state, requested_at, id);
CREATE INDEX change_requests_task_idx ON public.change_requests (task_id, requested_at);

-- 佐证材料: the bytes live in the database, so a database backup holds everything
CREATE TABLE public.attachments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id      uuid NOT NULL REFERENCES public.tasks(id) ON DELETE CASCADE,
    update_id    uuid REFERENCES public.updates(id) ON DELETE SET NULL,
    filename     text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size >= 0),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    data         bytea NOT NULL,
    uploaded_by  text NOT NULL,
    token_id     uuid,
    unit_id      uuid REFERENCES public.units(id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- images, PDFs and office files are compressed already
ALTER TABLE public.attachments ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX attachments_task_idx ON public.attachments (task_id, created_at);
CREATE INDEX attachments_update_idx ON public.attachments (update_id) WHERE update_id IS NOT NULL;

-- A reminder is sent once per task, kind and occasion, whichever daemon runs
-- the scheduler and however often it restarts.
CREATE TABLE public.reminders_sent (
    task_id  uuid NOT NULL REFERENCES public.tasks(id) ON DELETE CASCADE,
    kind     text NOT NULL CHECK (kind IN ('due_soon', 'overdue', 'report_missing', 'unsigned')),
    occasion text NOT NULL,
    sent_at  timestamptz NOT NULL DEFAULT now(),
    event_id bigint,
    PRIMARY KEY (task_id, kind, occasion)
);

-- the new event types
ALTER TABLE public.events DROP CONSTRAINT events_type_check;
ALTER TABLE public.events ADD CONSTRAINT events_type_check CHECK (type IN (
    'plan.created', 'plan.approved',
    'task.created', 'task.updated', 'task.deleted', 'task.reported',
    'task.signed', 'task.returned', 'task.verified',
    'change.requested', 'change.approved', 'change.rejected',
    'attachment.added', 'unit.created', 'unit.updated',
    'task.due_soon', 'task.overdue', 'task.report_missing', 'task.unsigned'));
