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
  // 7: with several repositories (adapter `repos`), each repository's main as the engine last saw it move by a fast-forward
  //    (engine_state.main_sha stays the single repository's).
  `
  CREATE TABLE repo_main (
    repo TEXT PRIMARY KEY,
    sha  TEXT NOT NULL
  );
  `,
];
