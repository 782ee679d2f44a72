-- How another process of the same machine knows an instance's process is gone without waiting for its heartbeat
-- to go stale: the kernel's boot id and pid namespace, where its pid means something (a host name is not
-- enough: containers may share one and not their pids), and the process's start time in clock ticks since
-- boot, which tells a reused pid apart. NULL where they cannot be read (not Linux): judged by heartbeat only.
ALTER TABLE instances ADD COLUMN boot_id TEXT;
ALTER TABLE instances ADD COLUMN pid_ns TEXT;
ALTER TABLE instances ADD COLUMN proc_start INTEGER;
-- Set, in database time, by the instance that found the process gone: from then on its leases are taken over
-- as a silent instance's are.
ALTER TABLE instances ADD COLUMN dead_at INTEGER;
