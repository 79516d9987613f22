-- Each organization's clock (core::clock::OrgClock): the process clock shifted by
-- `clock_offset_seconds`, or stopped at `clock_frozen_at` (Unix seconds) while that is set.
-- Read in the statements that read `generation` (authentication, `begin_in`), so a request and a
-- write transaction know their organization's time at no extra statement. An existing
-- organization keeps the process clock.
ALTER TABLE organizations ADD COLUMN clock_offset_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN clock_frozen_at INTEGER NULL;
