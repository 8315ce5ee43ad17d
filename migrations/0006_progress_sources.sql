-- 0006_progress_sources.sql - what a task's progress is measured from (issue 10):
-- a child's weight in its parent's roll-up, an explicit progress source, and
-- the baseline of "increase/decrease by" targets (PM2.5浓度下降5%).
-- The rules that use them are in sql/api/05_eval.sql (docs/sql-api.md "Progress and lights").

ALTER TABLE public.tasks ADD COLUMN weight numeric CHECK (weight > 0);          -- NULL = 1
ALTER TABLE public.tasks ADD COLUMN progress_source text
    CHECK (progress_source IS NULL OR progress_source IN ('reported', 'targets', 'milestones', 'children'));
                                                                                -- NULL = the default rule
ALTER TABLE public.targets ADD COLUMN baseline numeric;                         -- the value the change is measured from
