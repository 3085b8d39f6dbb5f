-- The day of a province, city, county or township in the order it is shown (issue 12): one
-- index per level of the area codes, keyed by the unit's path (the first 4, 9, 16 or 26
-- characters of a task's path: /37/, /37/3716/, /37/3716/371602/, …/371602001/) and then by
-- the last day, so that the first page of a unit's showing tasks is walked in order instead of
-- every showing task of the subtree being sorted (a county's 54,000 at 1M records, p99 75 ms).
-- A village, and any unit below it, keeps its range of `person_tasks_unit`: few tasks to sort.
CREATE INDEX person_tasks_day_province ON person_tasks (substr(managing_path, 1, 4), due_on, id, show_from, hide_after);
CREATE INDEX person_tasks_day_city ON person_tasks (substr(managing_path, 1, 9), due_on, id, show_from, hide_after);
CREATE INDEX person_tasks_day_county ON person_tasks (substr(managing_path, 1, 16), due_on, id, show_from, hide_after);
CREATE INDEX person_tasks_day_township ON person_tasks (substr(managing_path, 1, 26), due_on, id, show_from, hide_after);
