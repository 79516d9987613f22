-- The PostgreSQL twin of migrations/sqlite/0004_write_generation.sql. Every write transaction
-- increments its organization's generation (see `begin_in`); that UPDATE is also the row lock that
-- serializes the organization's writes. An authentication result cached by a server is trusted
-- only while the generation it was read at is still current.
ALTER TABLE organizations ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
