import QuillText

/// A row of `vocabularies`: what a stored vocabulary is, without its tokens.
public struct VocabularyRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var settings: TokenizerSettings
    /// ``Vocabulary/fingerprint`` at the time it was saved.
    public var fingerprint: String
    /// The number of tokens, specials included.
    public var size: Int
    /// ISO-8601 UTC.
    public var createdAt: String
    /// The CRC32C of the vocabulary's rows (docs/store.md), verified on load; `nil` for a vocabulary saved before
    /// schema version 4, which is loaded unverified.
    public var checksum: UInt32?
}

extension Store {
    /// Saves a vocabulary, its tokens and its merges (BPE) under a name, in one transaction.
    ///
    /// Empty tokens are refused: no tokenizer level produces one, so an empty token means a malformed vocabulary.
    ///
    /// - Parameters:
    ///   - vocabulary: The vocabulary; its ``Vocabulary/fingerprint`` is stored with it.
    ///   - name: A non-empty name, unique among vocabularies.
    ///   - replace: Whether to overwrite a vocabulary of the same name (keeping its id). A vocabulary some model uses
    ///     is never replaced: the model's weights belong to the old token ids.
    /// - Returns: The vocabulary's id.
    /// - Throws: ``StoreError/alreadyExists(kind:name:)``, ``StoreError/inUse(kind:name:users:)``,
    ///   ``StoreError/invalidRecord(kind:name:reason:)``, or ``StoreError/sqlite(code:message:sql:path:)``.
    @discardableResult
    public func saveVocabulary(_ vocabulary: Vocabulary, name: String, replace: Bool = false) throws -> Int64 {
        try StoreName.validate(name, kind: "vocabulary")
        if let empty = vocabulary.tokens.firstIndex(where: \.isEmpty) {
            throw StoreError.invalidRecord(
                kind: "vocabulary", name: name,
                reason: "token id \(empty) is the empty string, which no tokenizer produces; rebuild the vocabulary")
        }
        let settingsJSON = vocabulary.settings.canonicalJSON
        let checksum = Int64(StoredChecksum.vocabulary(
            settingsJSON: settingsJSON, tokens: vocabulary.tokens, counts: vocabulary.counts,
            merges: vocabulary.merges.map { ($0.left, $0.right) }))
        return try database.transaction {
            try requireSound(tables: ["vocabularies", "vocabulary_tokens", "vocabulary_merges"])
            let id: Int64
            if let existing = try vocabularyID(named: name) {
                guard replace else { throw StoreError.alreadyExists(kind: "vocabulary", name: name) }
                let users = try modelNames(usingVocabulary: existing)
                guard users.isEmpty else {
                    throw StoreError.inUse(kind: "vocabulary", name: name, users: users.map { "model '\($0)'" })
                }
                try database.execute("DELETE FROM vocabulary_tokens WHERE vocabulary_id = ?", existing)
                try database.execute("DELETE FROM vocabulary_merges WHERE vocabulary_id = ?", existing)
                try database.execute("""
                    UPDATE vocabularies
                    SET level = ?, settings_json = ?, fingerprint = ?, size = ?, checksum = ?,
                        created_at = \(Schema.now)
                    WHERE id = ?
                    """, vocabulary.settings.level.rawValue, settingsJSON, vocabulary.fingerprint, vocabulary.count,
                    checksum, existing)
                id = existing
            } else {
                try database.execute("""
                    INSERT INTO vocabularies(name, level, settings_json, fingerprint, size, checksum)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """, name, vocabulary.settings.level.rawValue, settingsJSON, vocabulary.fingerprint,
                    vocabulary.count, checksum)
                id = database.lastInsertedRowID
            }
            // One statement, bound with typed calls (no per-row arrays): 30k tokens take milliseconds.
            let insert = try database.prepare(
                "INSERT INTO vocabulary_tokens(vocabulary_id, token_id, token, count) VALUES (?, ?, ?, ?)")
            try insert.bind(id, at: 1)
            for (tokenID, token) in vocabulary.tokens.enumerated() {
                try insert.bind(Int64(tokenID), at: 2)
                try insert.bind(token, at: 3)
                try insert.bind(Int64(vocabulary.counts[tokenID]), at: 4)
                defer { insert.reset() }
                while try insert.step() {}
            }
            CrashPoint.reach("vocabulary-tokens")
            if !vocabulary.merges.isEmpty {
                let merge = try database.prepare(
                    "INSERT INTO vocabulary_merges(vocabulary_id, rank, left_token, right_token) VALUES (?, ?, ?, ?)")
                try merge.bind(id, at: 1)
                for (rank, m) in vocabulary.merges.enumerated() {
                    try merge.bind(Int64(rank), at: 2)
                    try merge.bind(m.left, at: 3)
                    try merge.bind(m.right, at: 4)
                    defer { merge.reset() }
                    while try merge.step() {}
                }
            }
            return id
        }
    }

    /// Loads a vocabulary, checking its tokens and settings still give the stored fingerprint.
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``, or ``StoreError/corrupt(path:reason:)`` if the rows no
    ///   longer form the vocabulary that was saved.
    public func vocabulary(named name: String) throws -> Vocabulary {
        guard let id = try vocabularyID(named: name) else {
            throw notFound("vocabulary", name)
        }
        return try vocabulary(id: id)
    }

    /// Loads a vocabulary by id (e.g. a model's ``ModelRecord/vocabularyID``), checking its fingerprint.
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` (named `#id`), or ``StoreError/corrupt(path:reason:)``.
    public func vocabulary(id: Int64) throws -> Vocabulary {
        guard let record = try vocabularyRecords(where: "id = ?", id).first else {
            throw StoreError.notFound(kind: "vocabulary", name: "#\(id)")
        }
        var tokens: [String] = []
        var counts: [Int] = []
        // The size is checked against the rows below; a damaged one must not reserve memory first.
        let expected = min(max(0, record.size), 1 << 22)
        tokens.reserveCapacity(expected)
        counts.reserveCapacity(expected)
        let rows = try database.prepare(
            "SELECT token_id, token, count FROM vocabulary_tokens WHERE vocabulary_id = ? ORDER BY token_id")
        try rows.bind(id, at: 1)
        while try rows.step() {
            guard rows.int(0) == tokens.count else {
                throw corruptVocabulary(record.name, "token id \(tokens.count) is missing")
            }
            guard rows.int(2) >= 0 else {
                throw corruptVocabulary(record.name, "token id \(tokens.count) has a negative count")
            }
            tokens.append(rows.string(1))
            counts.append(rows.int(2))
        }
        guard tokens.count == record.size else {
            throw corruptVocabulary(record.name, "it has \(tokens.count) tokens, its size says \(record.size)")
        }
        guard Array(tokens.prefix(Vocabulary.specialTokens.count)) == Vocabulary.specialTokens else {
            throw corruptVocabulary(record.name, "it does not start with \(Vocabulary.specialTokens)")
        }
        var merges: [SubwordMerge] = []
        let mergeRows = try database.prepare(
            "SELECT rank, left_token, right_token FROM vocabulary_merges WHERE vocabulary_id = ? ORDER BY rank")
        try mergeRows.bind(id, at: 1)
        while try mergeRows.step() {
            guard mergeRows.int(0) == merges.count else {
                throw corruptVocabulary(record.name, "merge rank \(merges.count) is missing")
            }
            merges.append(SubwordMerge(mergeRows.string(1), mergeRows.string(2)))
        }
        if let stored = record.checksum {
            // The settings exactly as stored: the checksum covers the bytes, not their parsed meaning.
            let settingsJSON = try database.queryFirst(
                "SELECT settings_json FROM vocabularies WHERE id = ?", id) { $0.string(0) } ?? ""
            let computed = StoredChecksum.vocabulary(
                settingsJSON: settingsJSON, tokens: tokens, counts: counts,
                merges: merges.map { ($0.left, $0.right) })
            guard computed == stored else {
                throw StoreError.checksumMismatch(path: path, record: "vocabulary '\(record.name)'",
                                                  stored: stored, computed: computed)
            }
        }
        let vocabulary = Vocabulary(settings: record.settings, tokens: tokens, counts: counts, merges: merges)
        guard vocabulary.fingerprint == record.fingerprint else {
            throw corruptVocabulary(record.name, "its tokens and settings give fingerprint "
                + "\(vocabulary.fingerprint), but \(record.fingerprint) was stored")
        }
        return vocabulary
    }

    /// Every vocabulary, by name.
    public func vocabularies() throws -> [VocabularyRecord] {
        try vocabularyRecords(where: "1", orderBy: "name")
    }

    /// Deletes a vocabulary and its tokens.
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``, or ``StoreError/inUse(kind:name:users:)`` naming the models
    ///   that use it (the schema's `ON DELETE RESTRICT` would refuse too, less clearly).
    public func deleteVocabulary(named name: String) throws {
        try database.transaction {
            guard let id = try vocabularyID(named: name) else {
                throw notFound("vocabulary", name)
            }
            let users = try modelNames(usingVocabulary: id)
            guard users.isEmpty else {
                throw StoreError.inUse(kind: "vocabulary", name: name, users: users.map { "model '\($0)'" })
            }
            try database.execute("DELETE FROM vocabularies WHERE id = ?", id)
        }
    }

    // MARK: Helpers

    func vocabularyID(named name: String) throws -> Int64? {
        try database.queryFirst("SELECT id FROM vocabularies WHERE name = ?", name) { $0.int64(0) }
    }

    /// Models whose source or target vocabulary this is, by name.
    func modelNames(usingVocabulary id: Int64) throws -> [String] {
        try database.query(
            "SELECT name FROM models WHERE vocabulary_id = ?1 OR target_vocabulary_id = ?1 ORDER BY name", id
        ) { $0.string(0) }
    }

    private func vocabularyRecords(where condition: String, _ arguments: any SQLConvertible...,
                                   orderBy order: String = "id") throws -> [VocabularyRecord] {
        let statement = try database.prepare("""
            SELECT id, name, settings_json, fingerprint, size, created_at, checksum FROM vocabularies
            WHERE \(condition) ORDER BY \(order)
            """)
        try statement.bind(arguments)
        var records: [VocabularyRecord] = []
        while try statement.step() {
            let name = statement.string(1)
            let settings: TokenizerSettings
            do {
                settings = try TokenizerSettings(json: statement.string(2))
            } catch {
                throw corruptVocabulary(name, "its settings are unreadable: \(error)")
            }
            records.append(VocabularyRecord(
                id: statement.int64(0), name: name, settings: settings, fingerprint: statement.string(3),
                size: statement.int(4), createdAt: statement.string(5),
                checksum: statement.optionalInt64(6).map { UInt32(truncatingIfNeeded: $0) }))
        }
        return records
    }

    private func corruptVocabulary(_ name: String, _ reason: String) -> StoreError {
        .corrupt(path: path, reason: "vocabulary '\(name)': \(reason)")
    }
}
