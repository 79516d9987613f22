-- Every write transaction increments its organization's generation (see `begin_in`). An
-- authentication result cached by a server is trusted only while the generation it was read at
-- is still current, so a change made by any process or replica (a key revoked, a member demoted
-- or removed, a role edited) takes effect on the next request everywhere.
ALTER TABLE organizations ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
