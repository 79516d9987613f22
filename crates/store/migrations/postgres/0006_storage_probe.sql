-- One row that a health probe rewrites while a storage outage is in progress, to learn whether
-- writes commit again (the disk has space, the storage recovered) before a client's write does.
-- `pad` is rewritten with 64 KiB each time: the probe succeeds only where a write of a usual
-- size has room, not merely one page.
CREATE TABLE storage_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at BIGINT NOT NULL,
    pad BYTEA
);
INSERT INTO storage_probe (id, probed_at) VALUES (1, 0);
