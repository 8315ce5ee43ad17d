-- 0001_schema.sql - the data model (see DESIGN.md "Data model" and docs/sql-api.md).
-- Applied by the migrations runner in one transaction; no BEGIN/COMMIT here.
-- Every name is schema-qualified with public so nothing depends on search_path.

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- 责任单位: a tree; names are unique among siblings.
CREATE TABLE public.units (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    parent_id  uuid REFERENCES public.units(id) ON DELETE RESTRICT,
    name       text NOT NULL CHECK (length(btrim(name)) > 0),
    kind       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE UNIQUE INDEX units_parent_name_key
    ON public.units ((coalesce(parent_id, '00000000-0000-0000-0000-000000000000'::uuid)), name);
CREATE INDEX units_name_idx ON public.units (name);
CREATE INDEX units_parent_idx ON public.units (parent_id);

CREATE TABLE public.plans (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title         text NOT NULL,
    year          int CHECK (year IS NULL OR year BETWEEN 1900 AND 2200),
    org           text,
    source_sha256 text UNIQUE CHECK (source_sha256 IS NULL OR source_sha256 ~ '^[0-9a-f]{64}$'),
    source_text   text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);
-- keyset order of GET /v1/plans: newest first
CREATE INDEX plans_created_idx ON public.plans (created_at DESC, id DESC);

CREATE TABLE public.tasks (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    ord                   bigserial NOT NULL UNIQUE,      -- document / keyset order
    plan_id               uuid NOT NULL REFERENCES public.plans(id) ON DELETE CASCADE,
    parent_id             uuid REFERENCES public.tasks(id) ON DELETE CASCADE,
    code                  text,
    seq                   int,
    title                 text NOT NULL,
    body                  text,
    lead_unit_id          uuid REFERENCES public.units(id),
    co_unit_ids           uuid[] NOT NULL DEFAULT '{}',
    owner                 text,
    leader                text,
    status                text NOT NULL DEFAULT 'planned'
                          CHECK (status IN ('planned','in_progress','blocked','done','verified','cancelled')),
    progress              int NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    own_progress_reported boolean NOT NULL DEFAULT false,
    start_date            date,
    due_date              date,
    cadence               text CHECK (cadence IS NULL OR cadence IN ('weekly','monthly','quarterly','yearly')),
    tags                  text[] NOT NULL DEFAULT '{}',
    version               int NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    closed_at             timestamptz,
    deleted_at            timestamptz,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX tasks_plan_ord_idx ON public.tasks (plan_id, ord) WHERE deleted_at IS NULL;
CREATE INDEX tasks_parent_idx   ON public.tasks (parent_id, ord) WHERE deleted_at IS NULL;
CREATE INDEX tasks_lead_unit_idx ON public.tasks (lead_unit_id, ord) WHERE deleted_at IS NULL;
CREATE INDEX tasks_due_idx      ON public.tasks (due_date) WHERE deleted_at IS NULL;
CREATE INDEX tasks_status_idx   ON public.tasks (status, ord) WHERE deleted_at IS NULL;
CREATE INDEX tasks_title_trgm   ON public.tasks USING gin (title public.gin_trgm_ops);
CREATE INDEX tasks_body_trgm    ON public.tasks USING gin (body public.gin_trgm_ops);

-- 指标
CREATE TABLE public.targets (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id    uuid NOT NULL REFERENCES public.tasks(id) ON DELETE CASCADE,
    ord        int NOT NULL DEFAULT 0,
    label      text,
    value      numeric,
    unit       text,
    comparator text NOT NULL DEFAULT '=' CHECK (comparator IN ('>=','<=','=')),
    current    numeric,
    text       text
);
CREATE INDEX targets_task_idx ON public.targets (task_id, ord);

-- 时间节点
CREATE TABLE public.milestones (
    id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id  uuid NOT NULL REFERENCES public.tasks(id) ON DELETE CASCADE,
    ord      int NOT NULL DEFAULT 0,
    title    text NOT NULL,
    due_date date,
    done_at  timestamptz
);
CREATE INDEX milestones_task_idx ON public.milestones (task_id, ord);

-- 进度填报: append-only history
CREATE TABLE public.updates (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id         uuid NOT NULL REFERENCES public.tasks(id) ON DELETE CASCADE,
    author          text NOT NULL,
    token_id        uuid,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    status_from     text NOT NULL,
    status_to       text NOT NULL,
    progress_from   int CHECK (progress_from BETWEEN 0 AND 100),
    progress        int CHECK (progress BETWEEN 0 AND 100),
    targets         jsonb NOT NULL DEFAULT '[]',
    note            text,
    problems        text,
    next_steps      text,
    idempotency_key text
);
CREATE INDEX updates_task_at_idx ON public.updates (task_id, at DESC, id DESC);

-- outbox / change feed. A write inserts its event with seq NULL; the daemon's
-- publisher (pt_events_publish) then numbers committed events under one lock,
-- so the feed only ever grows at its end and a reader never misses an event
-- that committed late.
CREATE SEQUENCE public.events_feed_seq;
CREATE TABLE public.events (
    id      bigserial PRIMARY KEY,
    seq     bigint UNIQUE,
    type    text NOT NULL CHECK (type IN ('plan.created','task.created','task.updated','task.deleted','task.reported')),
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    plan_id uuid,
    task_id uuid,
    payload jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_task_idx ON public.events (task_id, seq);
CREATE INDEX events_unpublished_idx ON public.events (id) WHERE seq IS NULL;

CREATE TABLE public.api_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('viewer','editor','supervisor','admin')),
    unit_id      uuid REFERENCES public.units(id),
    token_sha256 text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_created_idx ON public.api_tokens (created_at DESC, id DESC);

-- Idempotency-Key answers, per token; kept at least 24 h (pt_idem_gc drops > 48 h).
CREATE TABLE public.idempotency_keys (
    token_id   uuid NOT NULL,
    key        text NOT NULL,
    req_hash   text NOT NULL,
    fn         text NOT NULL,
    status     int NOT NULL,
    body       jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON public.idempotency_keys (created_at);
