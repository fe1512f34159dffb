import Foundation

/// How a training run ended, or that it has not.
public enum RunStatus: String, Codable, Sendable, CaseIterable {
    case running
    case finished
    /// Stopped by the user (Ctrl-C) after saving a checkpoint: it can be resumed.
    case interrupted
    case failed
}

/// The process that trains a run: its id, its host, and when it started (a pid may be reused by a later process).
public struct RunOwner: Codable, Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    public var host: String
    /// The process's start time as the system counts it (Linux: clock ticks since boot, field 22 of
    /// `/proc/<pid>/stat`); empty where it cannot be read.
    public var start: String

    public init(pid: Int32, host: String, start: String) {
        self.pid = pid
        self.host = host
        self.start = start
    }

    /// This process.
    public static var current: RunOwner {
        let pid = getpid()
        return RunOwner(pid: pid, host: hostName, start: startTime(of: pid) ?? "")
    }

    /// The running process `pid` of this host, or `nil` when there is none (where the start time can be read).
    public static func process(_ pid: Int32) -> RunOwner? {
        guard let start = startTime(of: pid) else { return nil }
        return RunOwner(pid: pid, host: hostName, start: start)
    }

    /// Whether the process is still running. A process on another host is taken as alive (it cannot be checked).
    public var isAlive: Bool {
        guard host == RunOwner.hostName else { return true }
        if !start.isEmpty, let now = RunOwner.startTime(of: pid) { return now == start }
        if !start.isEmpty, FileManager.default.fileExists(atPath: "/proc/self/stat") { return false }  // no such pid
        return kill(pid, 0) == 0 || errno == EPERM
    }

    public var description: String { "process \(pid) on \(host)" }

    private static var hostName: String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count) == 0 else { return "" }
        return String(cString: name)
    }

    /// Field 22 of `/proc/<pid>/stat` (after the parenthesised command, which may hold spaces), or `nil`.
    private static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil  // fields[0] is field 3 (state)
    }
}

/// A row of `runs`: one training session and its configuration.
public struct RunRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// The model the run trains; `nil` before it is saved, or after it was deleted (`ON DELETE SET NULL`).
    public var modelID: Int64?
    public var configJSON: String
    public var status: RunStatus
    /// ISO-8601 UTC.
    public var startedAt: String
    /// ISO-8601 UTC; `nil` exactly while the status is ``RunStatus/running`` (a CHECK in the schema).
    public var finishedAt: String?
    /// The process that trains (or last trained) the run; `nil` for runs recorded before owners were.
    public var owner: RunOwner?
}

/// Which data a metric was measured on.
public enum MetricSplit: String, Codable, Sendable, CaseIterable {
    case train
    case valid
    case test
}

/// A row of `metrics`: measurements of one run at one step on one split. Missing measurements are `nil`.
///
/// SQLite has no NaN: a NaN loss (a diverged run) is stored as NULL and reads back as `nil`.
public struct MetricRow: Codable, Sendable, Equatable {
    public var runID: Int64
    public var step: Int
    public var epoch: Int
    public var split: MetricSplit
    public var loss: Double?
    public var perplexity: Double?
    public var tokensPerSecond: Double?
    public var wallSeconds: Double?

    public init(runID: Int64, step: Int, epoch: Int, split: MetricSplit = .train, loss: Double? = nil,
                perplexity: Double? = nil, tokensPerSecond: Double? = nil, wallSeconds: Double? = nil) {
        self.runID = runID
        self.step = step
        self.epoch = epoch
        self.split = split
        self.loss = loss
        self.perplexity = perplexity
        self.tokensPerSecond = tokensPerSecond
        self.wallSeconds = wallSeconds
    }
}

/// A row of `checkpoints`: where a run was, and (as JSON) the optimizer, schedule, data position and RNG state
/// needed to resume it. Its tensors come with it from ``Store/latestCheckpoint(run:)``.
public struct CheckpointRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var runID: Int64
    public var step: Int
    public var epoch: Int
    public var stateJSON: String
    /// ISO-8601 UTC.
    public var createdAt: String
}

extension Store {
    // MARK: Runs

    /// Records the start of a training run, with status ``RunStatus/running``.
    ///
    /// - Parameters:
    ///   - name: A label; runs are identified by id, so names may repeat.
    ///   - modelID: The model being trained, if it is already saved.
    ///   - configJSON: The run's configuration, valid JSON.
    /// - Returns: The run's id.
    ///   - owner: The process training it; a run whose owner is gone reads back as ``RunStatus/interrupted``.
    @discardableResult
    public func createRun(name: String, modelID: Int64? = nil, configJSON: String, owner: RunOwner? = nil) throws
        -> Int64 {
        try StoreName.validate(name, kind: "run")
        try requireJSON(configJSON, what: "configJSON", kind: "run", name: name)
        return try database.transaction {
            if let modelID { _ = try model(id: modelID) }
            try database.execute("""
                INSERT INTO runs(name, model_id, config_json, owner_pid, owner_host, owner_start)
                VALUES (?, ?, ?, ?, ?, ?)
                """, name, modelID, configJSON, owner.map { Int64($0.pid) }, owner?.host, owner?.start)
            return database.lastInsertedRowID
        }
    }

    /// Marks a run ``RunStatus/running`` again, trained now by `owner` (a resumed run).
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` for an unknown run.
    public func claimRun(_ id: Int64, owner: RunOwner) throws {
        try database.transaction {
            try database.execute("""
                UPDATE runs SET status = 'running', finished_at = NULL, owner_pid = ?, owner_host = ?, owner_start = ?
                WHERE id = ?
                """, Int64(owner.pid), owner.host, owner.start, id)
            guard database.changes == 1 else { throw notFound("run", "#\(id)") }
        }
    }

    /// Links a run to the model it saved (while it runs: a run killed later still names its model).
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` for an unknown run or model.
    public func setRunModel(_ id: Int64, modelID: Int64) throws {
        try database.transaction {
            _ = try model(id: modelID)
            try database.execute("UPDATE runs SET model_id = ? WHERE id = ?", modelID, id)
            guard database.changes == 1 else { throw notFound("run", "#\(id)") }
        }
    }

    /// The runs named `name` that another live process is training (runs recorded without an owner do not count:
    /// nothing tells whether their process is alive).
    public func liveRuns(named name: String) throws -> [RunRecord] {
        let me = RunOwner.current
        return try runRecords(where: "name = ? AND status = 'running'", name).filter { run in
            run.status == .running && run.owner.map { $0 != me } ?? false
        }
    }

    /// Sets a run's status; any status but ``RunStatus/running`` also records the finishing time, and
    /// ``RunStatus/running`` clears it (a resumed run).
    ///
    /// - Parameters:
    ///   - modelID: The model the run produced, if it was saved after the run started; `nil` leaves the link as is.
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` for an unknown run or model.
    public func finishRun(_ id: Int64, status: RunStatus, modelID: Int64? = nil) throws {
        try database.transaction {
            if let modelID { _ = try model(id: modelID) }
            try database.execute("""
                UPDATE runs SET status = ?1,
                    finished_at = CASE WHEN ?1 = 'running' THEN NULL ELSE \(Schema.now) END,
                    model_id = ifnull(?2, model_id)
                WHERE id = ?3
                """, status.rawValue, modelID, id)
            guard database.changes == 1 else { throw notFound("run", "#\(id)") }
        }
    }

    /// Every run, oldest first.
    public func runs() throws -> [RunRecord] {
        try runRecords(where: "1")
    }

    /// The run of this id.
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` (named `#id`).
    public func run(id: Int64) throws -> RunRecord {
        guard let run = try runRecords(where: "id = ?", id).first else {
            throw notFound("run", "#\(id)")
        }
        return run
    }

    // MARK: Metrics

    /// Appends metric rows, in one transaction.
    ///
    /// A row for a (run, step, split) already stored replaces it: a run resumed from a checkpoint logs again the
    /// steps after that checkpoint, and the new measurements are the ones that count.
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` for an unknown run.
    public func appendMetrics(_ rows: [MetricRow]) throws {
        guard !rows.isEmpty else { return }
        try database.transaction { try insertMetrics(rows) }
    }

    /// A run's metrics, by step, then train · valid · test.
    public func metrics(run id: Int64) throws -> [MetricRow] {
        try database.query("""
            SELECT run_id, step, epoch, split, loss, perplexity, tokens_per_second, wall_seconds FROM metrics
            WHERE run_id = ?
            ORDER BY step, CASE split WHEN 'train' THEN 0 WHEN 'valid' THEN 1 ELSE 2 END
            """, id
        ) { row in
            guard let split = MetricSplit(rawValue: row.string(3)) else {  // the schema's CHECK makes this unreachable
                throw StoreError.corrupt(path: path, reason: "run #\(id) has a metric of split '\(row.string(3))'")
            }
            return MetricRow(
                runID: row.int64(0), step: row.int(1), epoch: row.int(2), split: split, loss: row.optionalDouble(4),
                perplexity: row.optionalDouble(5), tokensPerSecond: row.optionalDouble(6),
                wallSeconds: row.optionalDouble(7))
        }
    }

    // MARK: Checkpoints

    /// Saves a checkpoint of a run: its row, its tensors, the metrics measured since the last one, and the pruning of
    /// older checkpoints, all in **one** transaction, so a crash leaves either the old state or the new one.
    ///
    /// A checkpoint at a step the run already has replaces it.
    ///
    /// - Parameters:
    ///   - run: The run's id.
    ///   - step: The optimizer step reached (≥ 0).
    ///   - epoch: The epoch reached (≥ 0).
    ///   - stateJSON: Optimizer, schedule, data position and RNG state, valid JSON.
    ///   - tensors: Parameters and optimizer moments, by unique name.
    ///   - metrics: Rows to append with it (each for this run), as ``appendMetrics(_:)`` would.
    ///   - keepLast: How many checkpoints of the run to keep, counting this one: the others with the highest steps
    ///     stay, older ones and their tensors are deleted. At least 1.
    /// - Returns: The checkpoint's id.
    @discardableResult
    public func saveCheckpoint(run: Int64, step: Int, epoch: Int, stateJSON: String, tensors: [StoredTensor],
                               metrics: [MetricRow] = [], keepLast: Int = 3) throws -> Int64 {
        let label = "run #\(run) step \(step)"
        guard keepLast >= 1 else {
            throw StoreError.invalidRecord(kind: "checkpoint", name: label,
                                           reason: "keepLast is \(keepLast); keep at least the checkpoint being saved")
        }
        if let other = metrics.first(where: { $0.runID != run }) {
            throw StoreError.invalidRecord(kind: "checkpoint", name: label,
                                           reason: "a metric row belongs to run #\(other.runID), not #\(run)")
        }
        try requireJSON(stateJSON, what: "stateJSON", kind: "checkpoint", name: label)
        return try database.transaction {
            _ = try self.run(id: run)
            // Replacing a checkpoint at the same step: its tensors go with it (ON DELETE CASCADE).
            try database.execute("DELETE FROM checkpoints WHERE run_id = ? AND step = ?", run, step)
            try database.execute("INSERT INTO checkpoints(run_id, step, epoch, state_json) VALUES (?, ?, ?, ?)",
                                 run, step, epoch, stateJSON)
            let id = database.lastInsertedRowID
            try insertTensors(tensors, owner: .checkpoint(id))
            try insertMetrics(metrics)
            try database.execute("""
                DELETE FROM checkpoints
                WHERE run_id = ?1 AND id <> ?2 AND id NOT IN (
                    SELECT id FROM checkpoints WHERE run_id = ?1 AND id <> ?2 ORDER BY step DESC, id DESC LIMIT ?3)
                """, run, id, keepLast - 1)
            return id
        }
    }

    /// The checkpoint of a run with the highest step, and its tensors (by name); `nil` if the run has none.
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` for an unknown run.
    public func latestCheckpoint(run: Int64) throws -> (CheckpointRecord, [StoredTensor])? {
        try database.transaction(.deferred) {  // one snapshot: the checkpoint cannot be pruned between the two reads
            _ = try self.run(id: run)
            guard let checkpoint = try checkpointRecords(run: run, newestFirst: true, limit: 1).first else {
                return nil
            }
            return (checkpoint, try loadTensors(.checkpoint(checkpoint.id)))
        }
    }

    /// A run's checkpoints, by step.
    public func checkpoints(run: Int64) throws -> [CheckpointRecord] {
        try checkpointRecords(run: run, newestFirst: false, limit: -1)
    }

    // MARK: Helpers

    /// Upserts metric rows with one reused statement; the caller holds the transaction.
    private func insertMetrics(_ rows: [MetricRow]) throws {
        for runID in Set(rows.map(\.runID)) { _ = try run(id: runID) }
        let insert = try database.prepare("""
            INSERT INTO metrics(run_id, step, epoch, split, loss, perplexity, tokens_per_second, wall_seconds)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (run_id, step, split) DO UPDATE SET
                epoch = excluded.epoch, loss = excluded.loss, perplexity = excluded.perplexity,
                tokens_per_second = excluded.tokens_per_second, wall_seconds = excluded.wall_seconds
            """)
        for row in rows {
            try insert.run([row.runID, row.step, row.epoch, row.split.rawValue, row.loss, row.perplexity,
                            row.tokensPerSecond, row.wallSeconds])
        }
    }

    private func runRecords(where condition: String, _ arguments: any SQLConvertible...) throws -> [RunRecord] {
        let statement = try database.prepare("""
            SELECT id, name, model_id, config_json, status, started_at, finished_at, owner_pid, owner_host, owner_start
            FROM runs
            WHERE \(condition) ORDER BY id
            """)
        try statement.bind(arguments)
        var records: [RunRecord] = []
        while try statement.step() {
            let id = statement.int64(0)
            guard var status = RunStatus(rawValue: statement.string(4)) else {  // unreachable: the schema's CHECK
                throw StoreError.corrupt(path: path, reason: "run #\(id) has status '\(statement.string(4))'")
            }
            let owner = statement.optionalInt64(7).map {
                RunOwner(pid: Int32(truncatingIfNeeded: $0), host: statement.optionalString(8) ?? "",
                         start: statement.optionalString(9) ?? "")
            }
            // A run whose process is gone was killed (kill -9, a crash, a power cut) before it could record that.
            if status == .running, let owner, !owner.isAlive { status = .interrupted }
            records.append(RunRecord(
                id: id, name: statement.string(1), modelID: statement.optionalInt64(2),
                configJSON: statement.string(3), status: status, startedAt: statement.string(5),
                finishedAt: statement.optionalString(6), owner: owner))
        }
        return records
    }

    private func checkpointRecords(run: Int64, newestFirst: Bool, limit: Int) throws -> [CheckpointRecord] {
        try database.query("""
            SELECT id, run_id, step, epoch, state_json, created_at FROM checkpoints
            WHERE run_id = ? ORDER BY step \(newestFirst ? "DESC" : "ASC"), id \(newestFirst ? "DESC" : "ASC")
            LIMIT ?
            """, run, limit
        ) {
            CheckpointRecord(id: $0.int64(0), runID: $0.int64(1), step: $0.int(2), epoch: $0.int(3),
                             stateJSON: $0.string(4), createdAt: $0.string(5))
        }
    }
}
