-- 0004_api_schema.sql - the functions, the task_docs view and the triggers
-- move from public to the repeatable api schema (sql/api/, applied by
-- migrate after the numbered migrations). Drops what release b3c5c60 created
-- in public; on a fresh database there is nothing to drop.

DROP VIEW IF EXISTS public.task_docs;
DROP TRIGGER IF EXISTS tasks_child_count ON public.tasks;
DROP TRIGGER IF EXISTS events_webhooks ON public.events;
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'pt\_%'
    LOOP
        EXECUTE format('DROP FUNCTION %s CASCADE', f);
    END LOOP;
END $$;
