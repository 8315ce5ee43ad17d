-- sql/api/70_tokens.sql - API tokens: create, look up, list, revoke.
-- Part of the repeatable API set (docs/sql-api.md): migrate drops the api schema
-- and re-creates it from every sql/api/*.sql file, in name order, in one
-- transaction. Tables are public.*, API objects api.*: nothing depends on
-- the caller's search_path.

---------------------------------------------------------------------------
-- tokens
---------------------------------------------------------------------------

CREATE FUNCTION api.pt_token_json(k public.api_tokens) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', k.id, 'name', k.name, 'role', k.role, 'unit', api.pt_unit_name(k.unit_id),
        'created_at', api.pt_ts(k.created_at), 'revoked_at', api.pt_ts(k.revoked_at),
        'last_used_at', api.pt_ts(k.last_used_at))
$$;

CREATE FUNCTION api.pt_token_create(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    k public.api_tokens;
    role text := api.pt_text(a->'role');
BEGIN
    PERFORM api.pt_actor_begin(a);
    IF api.pt_text(a->'name') IS NULL THEN PERFORM api.pt_fail422('name', 'is required'); END IF;
    IF role IS NULL OR role NOT IN ('viewer', 'editor', 'supervisor', 'admin') THEN
        PERFORM api.pt_fail422('role', 'must be viewer, editor, supervisor or admin');
    END IF;
    IF a->>'token_sha256' IS NULL OR a->>'token_sha256' !~ '^[0-9a-f]{64}$' THEN
        PERFORM api.pt_fail422('token_sha256', 'must be 64 lowercase hex digits');
    END IF;
    INSERT INTO public.api_tokens (name, role, unit_id, token_sha256)
    VALUES (api.pt_text(a->'name'), role, api.pt_unit_ensure(api.pt_text(a->'unit')), a->>'token_sha256')
    RETURNING * INTO k;
    RETURN QUERY SELECT 201, jsonb_build_object('id', k.id, 'name', k.name, 'role', k.role,
        'unit', api.pt_unit_name(k.unit_id), 'created_at', api.pt_ts(k.created_at));
END $$;

-- The live token with this hash; notes its use at most every 5 minutes.
CREATE FUNCTION api.pt_token_lookup(hash text)
RETURNS TABLE(id uuid, name text, role text, unit_id uuid)
LANGUAGE plpgsql AS $$
DECLARE k public.api_tokens;
BEGIN
    SELECT * INTO k FROM public.api_tokens t WHERE t.token_sha256 = lower(hash) AND t.revoked_at IS NULL;
    IF NOT FOUND THEN RETURN; END IF;
    IF k.last_used_at IS NULL OR k.last_used_at < now() - interval '5 minutes' THEN
        UPDATE public.api_tokens t SET last_used_at = now()
         WHERE t.id = (SELECT x.id FROM public.api_tokens x WHERE x.id = k.id FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN QUERY SELECT k.id, k.name, k.role, k.unit_id;
END $$;

CREATE FUNCTION api.pt_tokens_list(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim int := api.pt_limit(a);
    cur record := api.pt_parse_ts_cursor(a->>'cursor');
    items jsonb[] := '{}';
    n int := 0;
    k public.api_tokens;
    last public.api_tokens;
BEGIN
    FOR k IN SELECT * FROM public.api_tokens t
              WHERE cur.t IS NULL OR (t.created_at, t.id) < (cur.t, cur.id)
              ORDER BY t.created_at DESC, t.id DESC LIMIT lim + 1 LOOP
        n := n + 1;
        EXIT WHEN n > lim;
        items := items || api.pt_token_json(k);
        last := k;
    END LOOP;
    RETURN QUERY SELECT 200, jsonb_build_object('items', coalesce(to_jsonb(items), '[]'),
        'next_cursor', CASE WHEN n > lim THEN api.pt_ts_cursor(last.created_at, last.id) END);
END $$;

CREATE FUNCTION api.pt_token_revoke(a jsonb) RETURNS TABLE(status int, body jsonb)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM api.pt_actor_begin(a);
    UPDATE public.api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = api.pt_uuid(a->>'id');
    IF NOT FOUND THEN
        PERFORM api.pt_fail('PT404', 'Token not found', 'no token with id ' || coalesce(a->>'id', 'null'));
    END IF;
    RETURN QUERY SELECT 204, NULL::jsonb;
END $$;
