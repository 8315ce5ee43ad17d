-- 0005_webhook_pause.sql - a webhook that keeps failing is paused.
--
-- consecutive_failures counts failed attempts since the last success; when it
-- reaches the daemon's webhooks.pause_after the webhook is paused (paused_at),
-- its deliveries are no longer claimed, and a webhook.paused event is emitted.
-- POST /v1/webhooks/{id}/resume (admin) clears both (sql/api/80_webhooks.sql).

ALTER TABLE public.webhooks
    ADD COLUMN consecutive_failures int NOT NULL DEFAULT 0,
    ADD COLUMN paused_at timestamptz;

ALTER TABLE public.events DROP CONSTRAINT events_type_check;
ALTER TABLE public.events ADD CONSTRAINT events_type_check
    CHECK (type IN ('plan.created','task.created','task.updated','task.deleted','task.reported','webhook.paused'));
