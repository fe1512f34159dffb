import CSQLite

/// What ``Store/check()`` found: SQLite's own verdict on the file and every record whose checksum fails.
public struct StoreCheckReport: Codable, Sendable, Equatable {
    /// A record that failed its check.
    public struct Damage: Codable, Sendable, Equatable {
        /// `vocabulary`, `model` (a model's tensor), `checkpoint` (a checkpoint's tensor) or `file` (SQLite's check).
        public var kind: String
        /// The vocabulary's or model's name, or `run #3 step 1000`; empty for `file`.
        public var owner: String
        /// The tensor's name, for tensors.
        public var tensor: String?
        /// What is wrong, in words.
        public var problem: String
    }

    /// `PRAGMA integrity_check`'s rows: `["ok"]` for a sound file.
    public var integrity: [String]
    /// Tensors and vocabularies whose checksum was verified (and matched or not).
    public var verified: Int
    /// Tensors and vocabularies written before schema version 4, with no checksum to verify.
    public var unverified: Int
    /// Every damaged record, vocabularies first, then models' and checkpoints' tensors by owner and name.
    public var damage: [Damage]

    /// Whether nothing is damaged.
    public var isSound: Bool { integrity == ["ok"] && damage.isEmpty }
}

extension Store {
    /// Checks the whole store: SQLite's `PRAGMA integrity_check` (the file's pages and indexes), then every tensor's
    /// and every vocabulary's checksum (and each vocabulary's fingerprint), all in one snapshot. Reads only.
    ///
    /// - Returns: What is damaged; a damaged record is reported, not thrown.
    /// - Throws: ``StoreError/sqlite(code:message:sql:path:)`` only when the file cannot be read at all.
    public func check() throws -> StoreCheckReport {
        try database.snapshot {
            var report = StoreCheckReport(integrity: [], verified: 0, unverified: 0, damage: [])
            do {
                report.integrity = try database.query("PRAGMA integrity_check") { $0.string(0) }
            } catch let StoreError.sqlite(code, message, _, _) where Store.isDamage(code) {
                // Damage so bad that the check itself cannot walk the file.
                report.integrity = [message]
            }
            if report.integrity != ["ok"] {
                report.damage += report.integrity.map {
                    .init(kind: "file", owner: "", tensor: nil, problem: "integrity_check: \($0)")
                }
            }
            do {
                try checkRecords(into: &report)
            } catch let StoreError.sqlite(code, message, _, _) where Store.isDamage(code) {
                // Pages too damaged to read: the integrity check above says where; the records after are unchecked.
                report.damage.append(.init(kind: "file", owner: "", tensor: nil,
                                           problem: "reading the records stopped: \(message)"))
            }
            return report
        }
    }

    /// Verifies every vocabulary and tensor, appending what fails to the report.
    private func checkRecords(into report: inout StoreCheckReport) throws {
        for record in try vocabularies() {
            if record.checksum == nil { report.unverified += 1 } else { report.verified += 1 }
            do {
                _ = try vocabulary(id: record.id)
            } catch let error as StoreError {
                report.damage.append(.init(kind: "vocabulary", owner: record.name, tensor: nil,
                                           problem: Store.problem(error)))
            }
        }
        let tensors = try database.prepare("""
            SELECT t.name, t.checksum, t.data, m.name, c.run_id, c.step
            FROM tensors t
            LEFT JOIN models m ON m.id = t.model_id
            LEFT JOIN checkpoints c ON c.id = t.checkpoint_id
            ORDER BY m.name IS NULL, m.name, c.run_id, c.step, t.name
            """)
        while try tensors.step() {
            guard let stored = tensors.optionalInt64(1).map({ UInt32(truncatingIfNeeded: $0) }) else {
                report.unverified += 1
                continue
            }
            report.verified += 1
            let computed = tensors.withBlob(2) { StoredChecksum.tensor($0) }
            guard computed != stored else { continue }
            let isModel = !tensors.isNull(3)
            report.damage.append(.init(
                kind: isModel ? "model" : "checkpoint",
                owner: isModel ? tensors.string(3) : "run #\(tensors.int64(4)) step \(tensors.int(5))",
                tensor: tensors.string(0),
                problem: "checksum \(hex32(stored)) stored, its bytes give \(hex32(computed))"))
        }
    }

    /// Whether a SQLite result code says the file is damaged.
    static func isDamage(_ code: Int32) -> Bool {
        code & 0xFF == SQLITE_CORRUPT || code & 0xFF == SQLITE_NOTADB
    }

    /// Refuses to write into damaged tables: SQLite notices a damaged page only when it walks it, and a write that
    /// appends walks little, so it would add to a damaged file and succeed. `PRAGMA quick_check(table)` walks the
    /// table and its indexes (cost: the table's size, small for vocabularies).
    ///
    /// - Throws: ``StoreError/corrupt(path:reason:)`` naming the table and SQLite's finding.
    func requireSound(tables: [String]) throws {
        for table in tables {
            let rows: [String]
            do {
                rows = try database.query("PRAGMA quick_check(\(table))") { $0.string(0) }  // a name in the code
            } catch let StoreError.sqlite(code, message, _, _) where Store.isDamage(code) {
                rows = [message]
            }
            guard rows == ["ok"] else {
                throw StoreError.corrupt(path: path, reason: "table \(table) is damaged (PRAGMA quick_check: "
                    + "\(rows.prefix(3).joined(separator: "; "))), so nothing was written to it")
            }
        }
    }

    /// An error as the problem of a record already named by the report.
    private static func problem(_ error: StoreError) -> String {
        switch error {
        case let .checksumMismatch(_, _, stored, computed):
            "checksum \(hex32(stored)) stored, its rows give \(hex32(computed))"
        case let .corrupt(_, reason):
            reason
        default:
            error.description
        }
    }
}
