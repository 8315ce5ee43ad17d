-- 0009_webhook_pause.sql - a webhook that keeps failing is paused.
--
-- consecutive_failures counts failed attempts since the last success; when it
-- reaches the daemon's webhooks.pause_after the webhook is paused (paused_at),
-- its deliveries are no longer claimed, and a webhook.paused event is emitted.
-- POST /v1/webhooks/{id}/resume (admin) clears both (sql/api/80_webhooks.sql).
-- The event types are 0008's (accountability) and webhook.paused.

ALTER TABLE public.webhooks
    ADD COLUMN consecutive_failures int NOT NULL DEFAULT 0,
    ADD COLUMN paused_at timestamptz;

ALTER TABLE public.events DROP CONSTRAINT events_type_check;
ALTER TABLE public.events ADD CONSTRAINT events_type_check
    CHECK (type IN (
    'plan.created', 'plan.approved',
    'task.created', 'task.updated', 'task.deleted', 'task.reported',
    'task.signed', 'task.returned', 'task.verified',
    'change.requested', 'change.approved', 'change.rejected',
    'attachment.added', 'unit.created', 'unit.updated',
    'task.due_soon', 'task.overdue', 'task.report_missing', 'task.unsigned',
    'webhook.paused'));
