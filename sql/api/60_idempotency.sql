-- sql/api/60_idempotency.sql - Idempotency-Key: run an API function once per key, replay afterwards.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

---------------------------------------------------------------------------
-- idempotency
---------------------------------------------------------------------------

CREATE FUNCTION api.pt_idem_gc() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    DELETE FROM public.idempotency_keys WHERE created_at < now() - interval '48 hours';
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- Run fn(a) once per (token, key); replay the stored answer afterwards.
CREATE FUNCTION api.pt_idem(token uuid, key text, req_hash text, fn text, a jsonb)
RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    tok uuid := coalesce(token, '00000000-0000-0000-0000-000000000000'::uuid);
    k public.idempotency_keys;
    st int;
    bd jsonb;
BEGIN
    IF fn IS NULL OR fn !~ '^pt_[a-z_]+$' OR fn IN ('pt_idem', 'pt_idem_gc')
       OR to_regprocedure('api.' || fn || '(jsonb)') IS NULL THEN
        RAISE EXCEPTION 'pt_idem: % is not an API function', fn;
    END IF;
    IF key IS NULL OR length(key) NOT BETWEEN 1 AND 255 THEN
        PERFORM api.pt_fail('PT400', 'Invalid Idempotency-Key', 'the key must be 1 to 255 characters');
    END IF;
    IF NOT pg_try_advisory_xact_lock(hashtextextended(tok::text || '/' || key, 0)) THEN
        PERFORM api.pt_fail('PT409', 'Request in progress',
            'a request with this Idempotency-Key is still being processed; retry later');
    END IF;
    SELECT * INTO k FROM public.idempotency_keys i WHERE i.token_id = tok AND i.key = pt_idem.key;
    IF FOUND AND k.created_at < now() - interval '48 hours' THEN
        DELETE FROM public.idempotency_keys i WHERE i.token_id = tok AND i.key = pt_idem.key;
        k := NULL;
    END IF;
    IF k.token_id IS NOT NULL THEN
        IF k.req_hash IS DISTINCT FROM req_hash OR k.fn IS DISTINCT FROM fn THEN
            PERFORM api.pt_fail('PT422', 'Idempotency-Key reused',
                'this Idempotency-Key was used with a different request',
                jsonb_build_array(jsonb_build_object('field', 'Idempotency-Key',
                                                     'message', 'already used with a different request')));
        END IF;
        RETURN QUERY SELECT k.status, k.body;
        RETURN;
    END IF;
    EXECUTE format('SELECT status, body FROM api.%I($1)', fn)
       INTO st, bd USING coalesce(a, '{}') || jsonb_build_object('idempotency_key', key);
    INSERT INTO public.idempotency_keys (token_id, key, req_hash, fn, status, body)
    VALUES (tok, key, coalesce(req_hash, ''), fn, st, bd);
    IF random() < 0.001 THEN PERFORM api.pt_idem_gc(); END IF;
    RETURN QUERY SELECT st, bd;
END $$;
