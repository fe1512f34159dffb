/// A row of `models`: a trained model's description; its weights are in ``Store/tensors(ofModel:)``.
public struct ModelRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// What to build from the hyperparameters, e.g. `lstm-lm` or `seq2seq`; the store does not interpret it (`Quill`'s
    /// `ModelFamily` does, in `Store.checkedModel(named:family:vocabulary:)`).
    public var kind: String
    public var hyperparametersJSON: String
    public var vocabularyID: Int64
    public var vocabularyName: String
    /// The output vocabulary of a translation model; `nil` for a language model.
    public var targetVocabularyID: Int64?
    public var targetVocabularyName: String?
    /// The source vocabulary's fingerprint when the model was saved: compare it with the vocabulary you load.
    public var vocabularyFingerprint: String
    /// The target vocabulary's fingerprint when a translation model was saved (`models.target_vocabulary_fingerprint`,
    /// schema version 3); `nil` for a language model and for every model saved before a writer records it.
    public var targetVocabularyFingerprint: String?
    /// ISO-8601 UTC.
    public var createdAt: String
}

extension Store {
    /// Saves a model, its vocabulary's fingerprint and all its tensors, in one transaction.
    ///
    /// - Parameters:
    ///   - name: A non-empty name, unique among models.
    ///   - kind: What the model is (`lstm-lm`, `seq2seq`, …); not interpreted by the store.
    ///   - hyperparametersJSON: Valid JSON (checked with SQLite's `json_valid`).
    ///   - vocabulary: The name of a stored vocabulary, which then cannot be deleted while the model exists.
    ///   - targetVocabulary: For a translation model, the name of its output vocabulary.
    ///   - tensors: The weights; names must be unique and values must match shapes.
    ///   - replace: Whether to overwrite a model of the same name (keeping its id, so runs stay linked).
    /// - Returns: The model's id.
    /// - Throws: ``StoreError/alreadyExists(kind:name:)``, ``StoreError/notFound(kind:name:closest:)`` for a vocabulary,
    ///   ``StoreError/invalidTensor(name:reason:)``, ``StoreError/invalidRecord(kind:name:reason:)``. On any error
    ///   nothing is written (a replaced model keeps its old tensors).
    @discardableResult
    public func saveModel(name: String, kind: String, hyperparametersJSON: String, vocabulary: String,
                          targetVocabulary: String? = nil, tensors: [StoredTensor],
                          replace: Bool = false) throws -> Int64 {
        try StoreName.validate(name, kind: "model")
        guard !kind.isEmpty else {
            throw StoreError.invalidRecord(kind: "model", name: name, reason: "the kind is empty")
        }
        try requireJSON(hyperparametersJSON, what: "hyperparametersJSON", kind: "model", name: name)
        return try database.transaction {
            guard let source = try vocabularyIDAndFingerprint(named: vocabulary) else {
                throw notFound("vocabulary", vocabulary)
            }
            var targetID: Int64?, targetFingerprint: String?
            if let targetVocabulary {
                guard let target = try vocabularyIDAndFingerprint(named: targetVocabulary) else {
                    throw notFound("vocabulary", targetVocabulary)
                }
                (targetID, targetFingerprint) = (target.id, target.fingerprint)
            }
            let id: Int64
            let existing = try database.queryFirst("SELECT id FROM models WHERE name = ?", name) { $0.int64(0) }
            if let existing {
                guard replace else { throw StoreError.alreadyExists(kind: "model", name: name) }
                try database.execute("DELETE FROM tensors WHERE model_id = ?", existing)
                try database.execute("""
                    UPDATE models SET kind = ?, hyperparameters_json = ?, vocabulary_id = ?, target_vocabulary_id = ?,
                        vocabulary_fingerprint = ?, target_vocabulary_fingerprint = ?, created_at = \(Schema.now)
                    WHERE id = ?
                    """, kind, hyperparametersJSON, source.id, targetID, source.fingerprint, targetFingerprint, existing)
                id = existing
            } else {
                try database.execute("""
                    INSERT INTO models(name, kind, hyperparameters_json, vocabulary_id, target_vocabulary_id,
                                       vocabulary_fingerprint, target_vocabulary_fingerprint)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, name, kind, hyperparametersJSON, source.id, targetID, source.fingerprint, targetFingerprint)
                id = database.lastInsertedRowID
            }
            try insertTensors(tensors, owner: .model(id))
            return id
        }
    }

    /// The model of this name.
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``.
    public func model(named name: String) throws -> ModelRecord {
        guard let record = try modelRecords(where: "m.name = ?", name).first else {
            throw notFound("model", name)
        }
        return record
    }

    /// The model of this id (e.g. a run's ``RunRecord/modelID``).
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` (named `#id`).
    public func model(id: Int64) throws -> ModelRecord {
        guard let record = try modelRecords(where: "m.id = ?", id).first else {
            throw StoreError.notFound(kind: "model", name: "#\(id)")
        }
        return record
    }

    /// Every model, by name.
    public func models() throws -> [ModelRecord] {
        try modelRecords(where: "1", orderBy: "m.name")
    }

    /// The tensors of a model, by name.
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` if there is no such model, ``StoreError/corrupt(path:reason:)``
    ///   if a tensor's data does not match its shape.
    public func tensors(ofModel id: Int64) throws -> [StoredTensor] {
        guard try database.scalarInt("SELECT count(*) FROM models WHERE id = ?", id) == 1 else {
            throw StoreError.notFound(kind: "model", name: "#\(id)")
        }
        return try loadTensors(.model(id))
    }

    /// How many parameters (tensor values) a model holds, counted from the stored shapes without reading the data.
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)`` if there is no such model.
    public func parameterCount(ofModel id: Int64) throws -> Int {
        guard try database.scalarInt("SELECT count(*) FROM models WHERE id = ?", id) == 1 else {
            throw StoreError.notFound(kind: "model", name: "#\(id)")
        }
        return Int(try database.scalarInt("SELECT ifnull(sum(element_count), 0) FROM tensors WHERE model_id = ?", id))
    }

    /// Deletes a model; its tensors go with it (`ON DELETE CASCADE`) and runs that produced it keep their history
    /// with no model (`ON DELETE SET NULL`).
    ///
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``.
    public func deleteModel(named name: String) throws {
        try database.transaction {
            try database.execute("DELETE FROM models WHERE name = ?", name)
            guard database.changes == 1 else { throw notFound("model", name) }
        }
    }

    // MARK: Helpers

    private func vocabularyIDAndFingerprint(named name: String) throws -> (id: Int64, fingerprint: String)? {
        try database.queryFirst("SELECT id, fingerprint FROM vocabularies WHERE name = ?", name) {
            ($0.int64(0), $0.string(1))
        }
    }

    private func modelRecords(where condition: String, _ arguments: any SQLConvertible...,
                              orderBy order: String = "m.id") throws -> [ModelRecord] {
        let statement = try database.prepare("""
            SELECT m.id, m.name, m.kind, m.hyperparameters_json, m.vocabulary_id, v.name,
                   m.target_vocabulary_id, t.name, m.vocabulary_fingerprint, m.created_at,
                   m.target_vocabulary_fingerprint
            FROM models m
            JOIN vocabularies v ON v.id = m.vocabulary_id
            LEFT JOIN vocabularies t ON t.id = m.target_vocabulary_id
            WHERE \(condition) ORDER BY \(order)
            """)
        try statement.bind(arguments)
        var records: [ModelRecord] = []
        while try statement.step() {
            records.append(ModelRecord(
                id: statement.int64(0), name: statement.string(1), kind: statement.string(2),
                hyperparametersJSON: statement.string(3), vocabularyID: statement.int64(4),
                vocabularyName: statement.string(5), targetVocabularyID: statement.optionalInt64(6),
                targetVocabularyName: statement.optionalString(7), vocabularyFingerprint: statement.string(8),
                targetVocabularyFingerprint: statement.optionalString(10), createdAt: statement.string(9)))
        }
        return records
    }

    /// Refuses text that SQLite's `json_valid` (the schema's CHECK) would refuse, with an error naming the record.
    func requireJSON(_ json: String, what: String, kind: String, name: String) throws {
        guard try database.scalarInt("SELECT json_valid(?)", json) == 1 else {
            let shown = json.count > 80 ? String(json.prefix(80)) + "…" : json
            throw StoreError.invalidRecord(kind: kind, name: name, reason: "\(what) is not valid JSON: \(shown)")
        }
    }
}
