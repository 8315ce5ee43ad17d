-- 0003_webhooks.sql - webhook subscriptions and their delivery log.
--
-- Every event published by api.pt_events_publish fans out, in the publisher's
-- transaction, into one pending webhook_deliveries row per matching active
-- webhook (the trigger and functions are in sql/api/80_webhooks.sql).
-- (Release b3c5c60 shipped this version with those functions in public; 0004
-- removes them.)

CREATE TABLE public.webhooks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    url         text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
    secret      text NOT NULL CHECK (length(secret) BETWEEN 16 AND 200),
    event_types text[] NOT NULL DEFAULT '{}',          -- empty = every event type
    active      boolean NOT NULL DEFAULT true,
    version     int NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX webhooks_live ON public.webhooks (created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE public.webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    webhook_id      uuid NOT NULL REFERENCES public.webhooks(id),
    event_seq       bigint NOT NULL,
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    last_status     int,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (webhook_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON public.webhook_deliveries (next_attempt_at) WHERE status = 'pending';
