-- sql/api/80_webhooks.sql - webhook subscriptions (HTTP API), the deliverer's claim
-- and outcome calls, and the fan-out trigger on published events.
-- Part of the repeatable API set (docs/sql-api.md): see 00_helpers.sql.

-- The public shape of a webhook (never the secret).
CREATE FUNCTION api.pt_wh_json(w public.webhooks) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', w.id, 'url', w.url, 'event_types', to_jsonb(w.event_types), 'active', w.active,
        'paused', w.paused_at IS NOT NULL, 'consecutive_failures', w.consecutive_failures,
        'version', w.version, 'created_at', api.pt_ts(w.created_at), 'updated_at', api.pt_ts(w.updated_at),
        'deliveries', (SELECT jsonb_build_object(
                'pending', count(*) FILTER (WHERE d.status = 'pending'),
                'delivered', count(*) FILTER (WHERE d.status = 'delivered'),
                'failed', count(*) FILTER (WHERE d.status = 'failed'))
            FROM public.webhook_deliveries d WHERE d.webhook_id = w.id))
$$;

CREATE FUNCTION api.pt_wh_delivery_json(d public.webhook_deliveries) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', d.id, 'webhook_id', d.webhook_id, 'event_seq', d.event_seq, 'event_type', d.event_type,
        'status', d.status, 'attempts', d.attempts,
        'next_attempt_at', CASE WHEN d.status = 'pending' THEN api.pt_ts(d.next_attempt_at) END,
        'last_status', d.last_status, 'last_error', d.last_error,
        'created_at', api.pt_ts(d.created_at), 'delivered_at', api.pt_ts(d.delivered_at),
        'payload', d.payload)
$$;

-- A live webhook by id, or PT404.
CREATE FUNCTION api.pt_wh_find(p_id text) RETURNS public.webhooks
LANGUAGE plpgsql STABLE AS $$
DECLARE
    w public.webhooks;
BEGIN
    IF p_id IS NULL OR p_id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RAISE EXCEPTION USING ERRCODE = 'PT404', MESSAGE = 'Webhook not found', DETAIL = 'the id is not a webhook id';
    END IF;
    SELECT * INTO w FROM public.webhooks WHERE id = p_id::uuid AND deleted_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'PT404', MESSAGE = 'Webhook not found', DETAIL = format('no webhook %s', p_id);
    END IF;
    RETURN w;
END $$;

CREATE FUNCTION api.pt_wh_types(a jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') FROM jsonb_array_elements_text(coalesce(a, '[]')) AS x
$$;

-- {actor, url, secret, event_types?, active?} -> 201 webhook + "secret" (the only time it is shown).
CREATE FUNCTION api.pt_webhook_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    w public.webhooks;
BEGIN
    PERFORM api.pt_actor_begin(a);
    INSERT INTO public.webhooks (url, secret, event_types, active)
    VALUES (a->>'url', a->>'secret', api.pt_wh_types(a->'event_types'), coalesce((a->>'active')::boolean, true))
    RETURNING * INTO w;
    RETURN QUERY SELECT 201, api.pt_wh_json(w) || jsonb_build_object('secret', w.secret);
END $$;

-- {limit, cursor?} -> 200 {"items":[webhook…],"next_cursor"}, oldest first; the cursor is the last id.
CREATE FUNCTION api.pt_webhook_list(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := api.pt_limit(a);
    cur public.webhooks;
    items jsonb;
    n int;
    last_id uuid;
BEGIN
    IF a->>'cursor' IS NOT NULL THEN
        IF a->>'cursor' !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
            RAISE EXCEPTION USING ERRCODE = 'PT422', MESSAGE = 'Validation failed', DETAIL = 'bad cursor',
                HINT = '[{"field":"cursor","message":"is not a cursor from this API"}]';
        END IF;
        SELECT * INTO cur FROM public.webhooks WHERE id = (a->>'cursor')::uuid;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'PT422', MESSAGE = 'Validation failed', DETAIL = 'bad cursor',
                HINT = '[{"field":"cursor","message":"is not a cursor from this API"}]';
        END IF;
    END IF;
    SELECT coalesce(jsonb_agg(api.pt_wh_json(p) ORDER BY p.created_at, p.id), '[]'), count(*),
           (array_agg(p.id ORDER BY p.created_at DESC, p.id DESC))[1]
      INTO items, n, last_id
      FROM (SELECT * FROM public.webhooks w
             WHERE w.deleted_at IS NULL
               AND (cur.id IS NULL OR (w.created_at, w.id) > (cur.created_at, cur.id))
             ORDER BY w.created_at, w.id LIMIT lim) p;
    RETURN QUERY SELECT 200, jsonb_build_object('items', items,
        'next_cursor', CASE WHEN n = lim THEN last_id::text END);
END $$;

-- {id} -> 200 webhook; PT404.
CREATE FUNCTION api.pt_webhook_get(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY SELECT 200, api.pt_wh_json(api.pt_wh_find(a->>'id'));
END $$;

-- {actor, id, if_match:int|null, patch:{url?, secret?, event_types?, active?}} -> 200 webhook; PT404, PT412.
CREATE FUNCTION api.pt_webhook_patch(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    w public.webhooks := api.pt_wh_find(a->>'id');
    p jsonb := coalesce(a->'patch', '{}');
BEGIN
    PERFORM api.pt_actor_begin(a);
    SELECT * INTO w FROM public.webhooks WHERE id = w.id FOR UPDATE;
    IF jsonb_typeof(a->'if_match') = 'number' AND (a->>'if_match')::int <> w.version THEN
        RAISE EXCEPTION USING ERRCODE = 'PT412', MESSAGE = 'Precondition failed',
            DETAIL = format('the webhook is at version %s', w.version),
            HINT = jsonb_build_object('rule', 'version', 'params', jsonb_build_object('resource', 'webhook', 'version', w.version))::text;
    END IF;
    UPDATE public.webhooks SET
        url = CASE WHEN p ? 'url' THEN p->>'url' ELSE url END,
        secret = CASE WHEN p ? 'secret' THEN p->>'secret' ELSE secret END,
        event_types = CASE WHEN p ? 'event_types' THEN api.pt_wh_types(p->'event_types') ELSE event_types END,
        active = CASE WHEN p ? 'active' THEN (p->>'active')::boolean ELSE active END,
        version = version + 1,
        updated_at = now()
     WHERE id = w.id
    RETURNING * INTO w;
    RETURN QUERY SELECT 200, api.pt_wh_json(w);
END $$;

-- {actor, id} -> 204; soft delete; its pending deliveries fail.
CREATE FUNCTION api.pt_webhook_delete(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    w public.webhooks := api.pt_wh_find(a->>'id');
BEGIN
    PERFORM api.pt_actor_begin(a);
    UPDATE public.webhooks SET deleted_at = now(), active = false, updated_at = now(), version = version + 1
     WHERE id = w.id;
    UPDATE public.webhook_deliveries SET status = 'failed', last_error = 'webhook deleted'
     WHERE webhook_id = w.id AND webhook_deliveries.status = 'pending';
    RETURN QUERY SELECT 204, NULL::jsonb;
END $$;

-- {actor, id} -> 200 webhook: a paused webhook delivers again, its pending
-- deliveries due at once (the failure count starts over).
CREATE FUNCTION api.pt_webhook_resume(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    w public.webhooks := api.pt_wh_find(a->>'id');
BEGIN
    UPDATE public.webhooks SET paused_at = NULL, consecutive_failures = 0, updated_at = now(), version = version + 1
     WHERE id = w.id RETURNING * INTO w;
    UPDATE public.webhook_deliveries SET next_attempt_at = now()
     WHERE webhook_id = w.id AND webhook_deliveries.status = 'pending' AND next_attempt_at > now();
    RETURN QUERY SELECT 200, api.pt_wh_json(w);
END $$;

-- {id, limit, cursor?, status?} -> 200 {"items":[delivery…],"next_cursor"}, newest first; the cursor is an event seq.
CREATE FUNCTION api.pt_webhook_deliveries(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    w public.webhooks := api.pt_wh_find(a->>'id');
    lim int := api.pt_limit(a);
    before bigint;
    items jsonb;
    n int;
    last_seq bigint;
BEGIN
    IF a->>'cursor' IS NOT NULL THEN
        IF a->>'cursor' !~ '^[0-9]{1,18}$' THEN
            RAISE EXCEPTION USING ERRCODE = 'PT422', MESSAGE = 'Validation failed', DETAIL = 'bad cursor',
                HINT = '[{"field":"cursor","message":"is not a cursor from this API"}]';
        END IF;
        before := (a->>'cursor')::bigint;
    END IF;
    SELECT coalesce(jsonb_agg(api.pt_wh_delivery_json(d) ORDER BY d.event_seq DESC), '[]'), count(*), min(d.event_seq)
      INTO items, n, last_seq
      FROM (SELECT * FROM public.webhook_deliveries x
             WHERE x.webhook_id = w.id AND (before IS NULL OR x.event_seq < before)
               AND (a->>'status' IS NULL OR x.status = a->>'status')
             ORDER BY x.event_seq DESC LIMIT lim) d;
    RETURN QUERY SELECT 200, jsonb_build_object('items', items,
        'next_cursor', CASE WHEN n = lim THEN last_seq::text END);
END $$;

-- Internal (the deliverer): {limit, lease_seconds, skip_webhooks?, quiet_hours?, tz?} -> due pending rows of live
-- active webhooks, locked with SKIP LOCKED and leased (next_attempt_at pushed
-- forward, attempts counted) so no other daemon takes them meanwhile.
CREATE FUNCTION api.pt_deliveries_claim(a jsonb)
RETURNS TABLE(id uuid, webhook_id uuid, url text, secret text, event_type text, payload text, attempts int)
LANGUAGE plpgsql AS $$
DECLARE
    lim int := least(greatest(coalesce((a->>'limit')::int, 10), 1), 1000);
    lease interval := make_interval(secs => least(greatest(coalesce((a->>'lease_seconds')::int, 30), 1), 3600));
    -- reminders wait during the quiet hours ("HH:MM-HH:MM" in time zone tz)
    quiet text := a->>'quiet_hours';
    hold boolean := false;
    t time;
    f time;
    u time;
    -- webhooks whose receiver has as many deliveries in flight as the daemon allows
    skip uuid[] := ARRAY(SELECT jsonb_array_elements_text(coalesce(a->'skip_webhooks', '[]'))::uuid);
BEGIN
    IF quiet ~ '^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$' THEN
        BEGIN
            t := (now() AT TIME ZONE coalesce(a->>'tz', 'UTC'))::time;
            f := split_part(quiet, '-', 1)::time;
            u := split_part(quiet, '-', 2)::time;
            hold := CASE WHEN f < u THEN t >= f AND t < u WHEN f > u THEN t >= f OR t < u ELSE false END;
        EXCEPTION WHEN invalid_parameter_value OR data_exception THEN
            hold := false;  -- an unknown zone never stops deliveries
        END;
    END IF;
    RETURN QUERY
    WITH due AS (
        SELECT d.id FROM public.webhook_deliveries d JOIN public.webhooks w ON w.id = d.webhook_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= now()
           AND w.active AND w.deleted_at IS NULL AND w.paused_at IS NULL AND NOT (d.webhook_id = ANY (skip))
           AND NOT (hold AND d.event_type IN ('task.due_soon', 'task.overdue', 'task.report_missing', 'task.unsigned'))
         ORDER BY d.next_attempt_at
         LIMIT lim
         FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE public.webhook_deliveries d
       SET next_attempt_at = now() + lease, attempts = d.attempts + 1
      FROM due, public.webhooks w
     WHERE d.id = due.id AND w.id = d.webhook_id
    RETURNING d.id, d.webhook_id, w.url, w.secret, d.event_type, d.payload::text, d.attempts;
END $$;

-- Internal: {id, ok, status?, error?, retry_seconds? | next_attempt_at?} records one
-- attempt: delivered; or pending until the next attempt; or failed once the
-- delivery is 24 hours old. Rows no longer pending are left alone.
-- Returns the new status (NULL when the row was not pending).
CREATE FUNCTION api.pt_delivery_done(a jsonb) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    wh public.webhooks;
    d public.webhook_deliveries;
    next_at timestamptz;
BEGIN
    SELECT * INTO d FROM public.webhook_deliveries WHERE webhook_deliveries.id = (a->>'id')::uuid FOR UPDATE;
    IF NOT FOUND OR d.status <> 'pending' THEN
        RETURN NULL;
    END IF;
    IF coalesce((a->>'ok')::boolean, false) THEN
        UPDATE public.webhook_deliveries SET status = 'delivered', delivered_at = now(),
               last_status = (a->>'status')::int, last_error = NULL
         WHERE webhook_deliveries.id = d.id;
        UPDATE public.webhooks SET consecutive_failures = 0
         WHERE id = d.webhook_id AND consecutive_failures <> 0;
        RETURN 'delivered';
    END IF;
    -- a real failed attempt (not one given back unattempted) counts towards pausing
    IF NOT coalesce((a->>'deferred')::boolean, false) THEN
        UPDATE public.webhooks SET consecutive_failures = consecutive_failures + 1
         WHERE id = d.webhook_id RETURNING * INTO wh;
        IF coalesce((a->>'pause_after')::int, 0) > 0 AND wh.paused_at IS NULL
           AND wh.consecutive_failures >= (a->>'pause_after')::int THEN
            UPDATE public.webhooks SET paused_at = now() WHERE id = wh.id;
            PERFORM api.pt_emit('webhook.paused', NULL, NULL, jsonb_build_object(
                'webhook_id', wh.id, 'url', wh.url, 'consecutive_failures', wh.consecutive_failures,
                'last_error', left(a->>'error', 500)));
        END IF;
    END IF;
    next_at := CASE
        WHEN a->>'retry_seconds' IS NOT NULL THEN now() + make_interval(secs => (a->>'retry_seconds')::float8)
        WHEN a->>'next_attempt_at' IS NOT NULL THEN (a->>'next_attempt_at')::timestamptz
        ELSE now() + interval '1 minute' END;
    IF now() >= d.created_at + interval '24 hours' THEN
        UPDATE public.webhook_deliveries SET status = 'failed', last_status = (a->>'status')::int,
               last_error = left(a->>'error', 500)
         WHERE webhook_deliveries.id = d.id;
        RETURN 'failed';
    END IF;
    UPDATE public.webhook_deliveries SET next_attempt_at = next_at, last_status = (a->>'status')::int,
           last_error = left(a->>'error', 500)
     WHERE webhook_deliveries.id = d.id;
    RETURN 'pending';
END $$;

-- The fan-out, once per publishing statement (pt_events_publish numbers a batch
-- of committed events in one UPDATE): one pending delivery per newly published
-- event and matching live active webhook. The deliverer polls for due rows.
CREATE FUNCTION api.pt_wh_on_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.webhook_deliveries (webhook_id, event_seq, event_type, payload)
    SELECT w.id, e.seq, e.type,
           jsonb_build_object('seq', e.seq, 'type', e.type, 'at', api.pt_ts(e.at),
                              'plan_id', e.plan_id, 'task_id', e.task_id, 'data', e.payload)
      FROM new_events e
      JOIN public.webhooks w ON w.active AND w.deleted_at IS NULL
                     AND (cardinality(w.event_types) = 0 OR e.type = ANY (w.event_types))
     WHERE e.seq IS NOT NULL
     ORDER BY e.seq, w.id;
    RETURN NULL;
END $$;

CREATE TRIGGER events_webhooks AFTER UPDATE ON public.events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION api.pt_wh_on_events();
