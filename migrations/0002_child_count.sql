-- 0002_child_count.sql - tasks.child_count: lets the hot paths know a leaf
-- without a query. The trigger that keeps it current when tasks are deleted or
-- moved, and every function, lives in the repeatable API set (sql/api/).
-- (Release b3c5c60 shipped this version as 0002_api.sql, which also created
-- the functions in public; 0004 removes those.)

ALTER TABLE public.tasks ADD COLUMN child_count int NOT NULL DEFAULT 0 CHECK (child_count >= 0);
