-- Host processes sharing this store (src/store/host-instances.ts, src/host/recovery.ts).
--
-- Each host process registers itself at start under a random id and refreshes heartbeat_at every
-- heartbeat_ms; a graceful close sets stopped_at. journal.instance_id names the process that wrote
-- a pending row, so crash recovery reverses only rows whose writer is gone (stopped, heartbeat
-- stale, or a previous run of this host) and leaves alone what a live process is still working on.
--
-- heartbeat_ms is the writer's own interval: "stale" is judged against it (several misses), so
-- processes with different settings can share a store. Times are the database's clock (now()),
-- never a host's, so clock skew between machines does not make a live process look dead.

CREATE TABLE host_instances (
  id           uuid PRIMARY KEY,
  -- Where the process runs: os.hostname() and its pid (a process on the same machine whose pid is
  -- gone is known dead at once, without waiting for its heartbeat to go stale).
  hostname     text NOT NULL CHECK (hostname <> '' AND length(hostname) <= 255),
  pid          integer NOT NULL CHECK (pid > 0),
  -- Which machine and pid namespace that pid belongs to (Linux: boot id and the pid namespace's
  -- inode). The hostname alone is not enough: containers sharing the host's network share its
  -- hostname but each has its own pids (Node is often pid 1 in all of them), so a pid missing here
  -- says nothing about them. The pid is only checked by a process with the same identity; NULL
  -- (not Linux, /proc unreadable) means never: the heartbeat alone decides.
  machine      text CHECK (machine IS NULL OR (machine <> '' AND length(machine) <= 255)),
  heartbeat_ms integer NOT NULL CHECK (heartbeat_ms > 0),
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  stopped_at   timestamptz
);

-- The host process that wrote the row (NULL: written before this migration, or by a store handle
-- shared by several host instances of one process). No foreign key: the insert is on the
-- purchase path, and a row whose instance is unknown is treated as written by a dead process.
ALTER TABLE journal ADD COLUMN instance_id uuid;
