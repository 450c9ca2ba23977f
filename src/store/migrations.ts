/**
 * Append-only, numbered migrations. Never edit a released entry: add a new one.
 * `user_version` records how many have been applied.
 */
export const migrations: readonly string[] = [
  // 1: the core schema
  `
  CREATE TABLE tasks (
    id               TEXT PRIMARY KEY,          -- roadmap T-id, or a generated id
    repo             TEXT NOT NULL,
    tier             INTEGER NOT NULL,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL,
    plan             TEXT,                      -- JSON: { files_touched, tests, dependencies, risk, summary }
    attempt          INTEGER NOT NULL DEFAULT 0,
    branch           TEXT,
    worktree         TEXT,
    host             TEXT,
    worker_pid       INTEGER,
    pr               INTEGER,
    cost_usd         REAL NOT NULL DEFAULT 0,
    reason           TEXT,                      -- why it was abandoned / deferred / rejected last
    roadmap_state    TEXT NOT NULL DEFAULT 'present', -- present | missing (disappeared from the roadmap)
    seq              INTEGER NOT NULL,          -- roadmap order within the file
    last_progress_at INTEGER NOT NULL,          -- never null: every status change stamps it
    last_deferred_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
  );
  CREATE INDEX tasks_status ON tasks(status);

  CREATE TABLE event (
    id      INTEGER PRIMARY KEY,                -- rowid: rows are never deleted, so ids only grow
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    task    TEXT,
    payload TEXT NOT NULL DEFAULT '{}'
  );
  CREATE INDEX event_task ON event(task, id);
  CREATE INDEX event_spend_at ON event(at) WHERE kind = 'spend';

  CREATE TABLE actor_snapshot (
    actor      TEXT PRIMARY KEY,                -- e.g. engine, engineState, host:local, task:T0-1
    machine    TEXT NOT NULL,
    status     TEXT NOT NULL,                   -- xstate snapshot status: active | done | error
    value      TEXT NOT NULL,                   -- JSON state value
    snapshot   TEXT NOT NULL,                   -- JSON persisted snapshot
    seq        INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE engine_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    killed   INTEGER NOT NULL DEFAULT 0,
    hard     INTEGER NOT NULL DEFAULT 0,
    reason   TEXT,
    by       TEXT,
    at       INTEGER
  );
  INSERT INTO engine_state (id, killed) VALUES (1, 0);

  CREATE TABLE pull_request (
    number      INTEGER PRIMARY KEY AUTOINCREMENT,
    task        TEXT NOT NULL,
    branch      TEXT NOT NULL,
    base        TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    head_sha    TEXT NOT NULL,
    state       TEXT NOT NULL,                  -- open | merged | closed
    checks      TEXT NOT NULL DEFAULT 'pending',-- pending | success | failure
    checks_sha  TEXT,
    checks_log  TEXT,
    merge_sha   TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX pull_request_open_branch ON pull_request(branch) WHERE state = 'open';

  CREATE TABLE pull_request_comment (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    pr      INTEGER NOT NULL REFERENCES pull_request(number),
    at      INTEGER NOT NULL,
    body    TEXT NOT NULL
  );
  `,
  // 2: which agent backend served each task, and what its worker is doing right now
  `
  ALTER TABLE tasks ADD COLUMN backend TEXT;       -- e.g. claude/claude-sonnet-4-5 (the worker's route)
  ALTER TABLE tasks ADD COLUMN activity TEXT;      -- JSON {kind, tool?}: starting | thinking | tool | permission | retrying | finished
  ALTER TABLE tasks ADD COLUMN activity_at INTEGER;
  `,
  // 3: a kill rewrites every task's row; keep what it touches small.
  //    - The status index moved every entry on every status change (two index pages per commit). The seeder's
  //      lookup of queued tasks is the hot one: a partial index that other statuses never touch. The other
  //      status queries (live counts, the deadman, summaries) scan the table, which is cheap at its size.
  //    - A snapshot's context is stored apart and rewritten only when it changed: a kill or resume
  //      changes the state, not the context. NULL means the context is inside `snapshot` (older rows).
  `
  DROP INDEX tasks_status;
  CREATE INDEX tasks_queued ON tasks(tier, seq, id) WHERE status = 'queued';
  ALTER TABLE actor_snapshot ADD COLUMN context TEXT;
  `,
  // 4: main's sha after the engine's last look, so a move that is no fast-forward sets the killswitch (contract 3.7).
  `
  ALTER TABLE engine_state ADD COLUMN main_sha TEXT;
  `,
  // 5: process groups a hard kill (or a drain) decided to terminate, kept until each is gone, so a group
  //    on a host unreachable at that moment is terminated when it comes back or at the next start.
  `
  CREATE TABLE kill_group (
    host      TEXT NOT NULL,
    pid       INTEGER NOT NULL,
    task      TEXT,
    reason    TEXT NOT NULL,          -- 'hard kill' | 'drain'
    at        INTEGER NOT NULL,       -- when the engine decided to terminate it
    tries     INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    PRIMARY KEY (host, pid)
  );
  `,
  // 6: messages to a live agent (`oxi say`), queued until the worker's turn ends and its session is resumed with them;
  //    a listener row exists while a worker session is live and can still take a message.
  `
  CREATE TABLE agent_message (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    task         TEXT NOT NULL,
    body         TEXT NOT NULL,
    by           TEXT NOT NULL,
    at           INTEGER NOT NULL,
    delivered_at INTEGER,            -- NULL while queued
    session      TEXT                -- the agent session it was delivered to
  );
  CREATE INDEX agent_message_pending ON agent_message(task, id) WHERE delivered_at IS NULL;
  CREATE TABLE agent_listener (
    task    TEXT PRIMARY KEY,
    host    TEXT NOT NULL,
    pid     INTEGER NOT NULL,
    backend TEXT NOT NULL,
    at      INTEGER NOT NULL
  );
  `,
  // 7: the stuck-task summaries (`task.triage` rows) are read per task by `oxi tasks` and every dashboard snapshot:
  //    a partial index keeps that lookup off the whole ledger (and costs nothing while triage is off).
  `
  CREATE INDEX event_triage ON event(task, id) WHERE kind = 'task.triage';
  `,
  // 8: shadow runs (agents.shadow): each sampled worker session is also run on the shadow route in a sibling
  //    workspace, never shipped; one row per session pairs both results (docs/agents.md).
  `
  CREATE TABLE shadow_pair (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    task           TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    fix            INTEGER NOT NULL,
    start_sha      TEXT NOT NULL,      -- the commit both sessions started from
    workspace      TEXT NOT NULL,      -- the shadow's sibling workspace
    host           TEXT NOT NULL,
    pid            INTEGER,            -- the shadow session's process group while it runs
    real_backend   TEXT NOT NULL,
    real_model     TEXT,
    real_outcome   TEXT,               -- NULL while the real worker runs
    real_files     TEXT,               -- JSON array, sorted
    real_cost_usd  REAL,
    shadow_backend TEXT NOT NULL,
    shadow_model   TEXT,
    shadow_status  TEXT NOT NULL,      -- 'running' | 'done' | 'failed' | 'interrupted'
    shadow_outcome TEXT,
    shadow_error   TEXT,
    shadow_files   TEXT,               -- JSON array, sorted
    shadow_cost_usd REAL,
    shadow_checks  TEXT,               -- 'success' | 'failure' | 'skipped'
    shape_match    INTEGER,            -- 1 when both changed-file sets are equal; NULL until both are known
    started_at     INTEGER NOT NULL,
    ended_at       INTEGER,
    UNIQUE (task, attempt, fix)
  );
  CREATE INDEX shadow_pair_running ON shadow_pair(shadow_status) WHERE shadow_status = 'running';
  `,
  // 9: the promoter's questions to the ledger (its last run, the newest merge) answered from small partial indexes.
  `
  CREATE INDEX event_promote ON event(id) WHERE kind IN ('promote.started', 'promote.run', 'promote.armed');
  CREATE INDEX event_merged ON event(id) WHERE kind = 'task.merged';
  `,
  // 10: fewer B-tree pages per persisted transition (one fsync'd commit wrote four leaves: snapshot, task row,
  //    ledger row, ledger task index). A task actor's snapshot now lives on its task row, so one UPDATE
  //    writes status, last_progress_at and the snapshot in one leaf. Other actors keep actor_snapshot.
  //    The snapshot columns come last, so a large context overflows without moving the hot columns.
  //    NULL snap_status: no snapshot on the row (a fresh boot, or a row actor_snapshot still holds).
  `
  ALTER TABLE tasks ADD COLUMN snap_status TEXT;     -- xstate snapshot status: active | done | error
  ALTER TABLE tasks ADD COLUMN snap_value TEXT;      -- JSON state value
  ALTER TABLE tasks ADD COLUMN snap_seq INTEGER;     -- shares actor_snapshot's sequence
  ALTER TABLE tasks ADD COLUMN snap_at INTEGER;
  ALTER TABLE tasks ADD COLUMN snapshot TEXT;        -- JSON persisted snapshot, without its context
  ALTER TABLE tasks ADD COLUMN snap_context TEXT;    -- JSON context (NULL: inside snapshot)
  UPDATE tasks SET (snap_status, snap_value, snap_seq, snap_at, snapshot, snap_context) =
    (SELECT s.status, s.value, s.seq, s.updated_at, s.snapshot, s.context FROM actor_snapshot s WHERE s.actor = 'task:' || tasks.id)
  WHERE EXISTS (SELECT 1 FROM actor_snapshot s WHERE s.actor = 'task:' || tasks.id);
  DELETE FROM actor_snapshot WHERE actor IN (SELECT 'task:' || id FROM tasks WHERE snap_status IS NOT NULL);
  `,
  // 11: with several repositories (adapter `repos`), each repository's main as the engine last saw it move by a fast-forward
  //    (engine_state.main_sha stays the single repository's).
  `
  CREATE TABLE repo_main (
    repo TEXT PRIMARY KEY,
    sha  TEXT NOT NULL
  );
  `,
  // 12: why a shadow's tree was not checked (shadow_checks 'skipped'): it did not end well, the engine stopped,
  //    or it ran on an SSH host, whose tree is never shipped to where the checks run.
  `
  ALTER TABLE shadow_pair ADD COLUMN shadow_checks_reason TEXT;
  `,
  // 13: the latches read on every status and dashboard snapshot (the forge, agent and environment gates, the
  //    daemon's config row) by index: without it each read scanned the whole ledger when the kind never occurred.
  //    Rare rows, so the index costs the hot ledger appends nothing. The list is LATCH_KINDS (ledger-queries.ts).
  `
  CREATE INDEX event_latch ON event(id) WHERE kind IN ('forge.gate_closed', 'forge.gate_opened', 'agent.gate_closed', 'agent.gate_opened', 'dispatch.env_blocked', 'dispatch.env_cleared', 'config.loaded');
  `,
  // 14: today's spend (every status and dashboard snapshot, per repository too) summed from the index alone: the
  //    spend rows' amount and task in the index entry, so the sum reads no ledger row. It replaces event_spend_at.
  `
  CREATE INDEX event_spend_usd ON event(at, CAST(json_extract(payload, '$.usd') AS REAL), task) WHERE kind = 'spend';
  DROP INDEX event_spend_at;
  `,
  // 15: a promote command in flight and its process group, recorded as it starts and cleared (with its promote.run row)
  //    when it ends: a restart after a crash ends a group whose runner died and records the run as interrupted.
  `
  CREATE TABLE promote_group (
    started_id   INTEGER PRIMARY KEY,  -- the run's promote.started ledger row
    name         TEXT NOT NULL,        -- the recipe
    actor        TEXT NOT NULL,        -- who runs it (promoter:<name>, cli:<user>)
    trigger      TEXT NOT NULL,
    merge_id     INTEGER NOT NULL,     -- the newest merge the run covers
    owner_pid    INTEGER NOT NULL,     -- the process running it (the daemon or the CLI)
    owner_start  TEXT,                 -- its start time (/proc ticks): a reused pid is not the owner
    boot_id      TEXT,                 -- the kernel's boot id: after a reboot every recorded process is gone
    pid          INTEGER,              -- the command's process group; NULL until it has started
    leader_start TEXT,                 -- the group leader's start time: a reused pid is not the group
    at           INTEGER NOT NULL
  );
  `,
  // 16: the janitor removes a finished shadow run's workspace (agents.shadow) once its task ended long enough ago;
  //    the pair stays (it is the report), marked so the janitor looks at it only once.
  `
  ALTER TABLE shadow_pair ADD COLUMN workspace_removed_at INTEGER;
  `,
  // 17: the janitor removes a finished task's agent logs (engine.janitor.logsKeepMs); when it did, so it does so once
  //    (a task retried and finished again since, updated_at past the mark, has its new logs removed in turn).
  `
  ALTER TABLE tasks ADD COLUMN logs_removed_at INTEGER;
  `,
];
