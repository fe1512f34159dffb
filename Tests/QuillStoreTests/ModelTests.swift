import Testing
@testable import QuillStore

@Suite("Models")
struct ModelTests {
    @Test("a model round-trips with its vocabulary's fingerprint and tensors", arguments: StoreLocation.allCases)
    func roundTrip(location: StoreLocation) throws {
        try withStore(location) { store throws in
            let vocabularyID = try store.saveVocabulary(makeVocabulary(), name: "v")
            let tensors = [makeTensor("rnn.0.weightIH", [16, 8]), makeTensor("decoder.bias", [8])]
            let id = try store.saveModel(name: "ptb", kind: "lstm-lm", hyperparametersJSON: #"{"hidden":4}"#,
                                         vocabulary: "v", tensors: tensors)
            let record = try store.model(named: "ptb")
            #expect(record.id == id)
            #expect(record.kind == "lstm-lm")
            #expect(record.hyperparametersJSON == #"{"hidden":4}"#)
            #expect(record.vocabularyID == vocabularyID)
            #expect(record.vocabularyName == "v")
            #expect(record.targetVocabularyID == nil && record.targetVocabularyName == nil)
            #expect(record.vocabularyFingerprint == makeVocabulary().fingerprint)
            #expect(try store.model(id: id) == record)
            #expect(try store.models() == [record])
            #expect(try store.tensors(ofModel: id) == tensors.sorted { $0.name < $1.name })
        }
    }

    @Test("a model's parameter count sums its tensors' shapes")
    func parameterCount() throws {
        let store = try Store(path: ":memory:")
        let id = try saveSampleModel(in: store)
        #expect(try store.parameterCount(ofModel: id) == 16 * 8 + 8)
        let empty = try store.saveModel(name: "empty", kind: "seq2seq", hyperparametersJSON: "{}", vocabulary: "v",
                                        tensors: [])
        #expect(try store.parameterCount(ofModel: empty) == 0)
        #expect(throws: StoreError.notFound(kind: "model", name: "#99")) { try store.parameterCount(ofModel: 99) }
    }

    @Test("a translation model records its target vocabulary")
    func translationModel() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(["the", "cat"]), name: "en")
        let frID = try store.saveVocabulary(makeVocabulary(["le", "chat"]), name: "fr")
        try store.saveModel(name: "en-fr", kind: "seq2seq", hyperparametersJSON: "{}", vocabulary: "en",
                            targetVocabulary: "fr", tensors: [])
        let record = try store.model(named: "en-fr")
        #expect(record.targetVocabularyID == frID && record.targetVocabularyName == "fr")
        #expect(throws: StoreError.inUse(kind: "vocabulary", name: "fr", users: ["model 'en-fr'"])) {
            try store.deleteVocabulary(named: "fr")
        }
    }

    @Test("the schema refuses deleting a vocabulary a model uses (ON DELETE RESTRICT)",
          arguments: StoreLocation.allCases)
    func foreignKeyRestrict(location: StoreLocation) throws {
        try withStore(location) { store throws in
            try saveSampleModel(in: store)
            #expect(throws: StoreError.self) { try store.deleteVocabulary(named: "v") }
            // Raw SQL, past the API's own check: the constraint itself holds.
            let error = #expect(throws: StoreError.self) {
                try store.database.execute("DELETE FROM vocabularies WHERE name = 'v'")
            }
            // SQLite reports a RESTRICT action as SQLITE_CONSTRAINT_TRIGGER (1811), "FOREIGN KEY constraint failed".
            #expect(sqliteCode(error) == 1811)
            #expect(error?.description.contains("FOREIGN KEY constraint failed") == true)
            #expect(try rowCount("vocabularies", in: store) == 1)
        }
    }

    @Test("deleting a model cascades to its tensors and detaches its runs", arguments: StoreLocation.allCases)
    func deleteCascades(location: StoreLocation) throws {
        try withStore(location) { store throws in
            let keep = try saveSampleModel(in: store, name: "keep")
            let id = try saveSampleModel(in: store, name: "drop")
            let run = try store.createRun(name: "r", modelID: id, configJSON: "{}")
            try store.deleteModel(named: "drop")
            #expect(try store.models().map(\.name) == ["keep"])
            #expect(try rowCount("tensors", in: store, where: "model_id = \(id)") == 0)
            #expect(try rowCount("tensors", in: store, where: "model_id = \(keep)") == 2)
            #expect(try store.run(id: run).modelID == nil)
            #expect(throws: StoreError.notFound(kind: "model", name: "drop", closest: ["keep"])) {
                try store.deleteModel(named: "drop")
            }
            #expect(throws: StoreError.notFound(kind: "model", name: "#\(id)")) { try store.tensors(ofModel: id) }
            #expect(throws: StoreError.self) { try store.deleteVocabulary(named: "v") }  // still used by "keep"
        }
    }

    @Test("a save that fails halfway leaves nothing behind; a failed replace keeps the old model")
    func atomicity() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        let bad = StoredTensor(name: "bad", shape: [2, 2], values: [1, 2, 3])
        #expect(throws: StoreError.self) {
            try store.saveModel(name: "m", kind: "lstm-lm", hyperparametersJSON: "{}", vocabulary: "v",
                                tensors: [makeTensor("a", [4]), bad])
        }
        #expect(try rowCount("models", in: store) == 0)
        #expect(try rowCount("tensors", in: store) == 0)

        let id = try saveSampleModel(in: store)
        let before = try store.tensors(ofModel: id)
        #expect(throws: StoreError.self) {
            try store.saveModel(name: "m", kind: "gru-lm", hyperparametersJSON: "{}", vocabulary: "v",
                                tensors: [makeTensor("a", [4]), bad], replace: true)
        }
        #expect(try store.model(named: "m").kind == "lstm-lm")
        #expect(try store.tensors(ofModel: id) == before)
    }

    @Test("a second save under a name is refused unless replacing, which keeps the id")
    func saveTwice() throws {
        let store = try Store(path: ":memory:")
        let id = try saveSampleModel(in: store)
        let error = #expect(throws: StoreError.self) { try saveSampleModel(in: store) }
        #expect(error == .alreadyExists(kind: "model", name: "m"))
        let replaced = try store.saveModel(name: "m", kind: "gru-lm", hyperparametersJSON: "{}", vocabulary: "v",
                                           tensors: [makeTensor("only", [1])], replace: true)
        #expect(replaced == id)
        #expect(try store.model(named: "m").kind == "gru-lm")
        #expect(try store.tensors(ofModel: id).map(\.name) == ["only"])
    }

    @Test("unknown vocabularies, bad JSON and empty names are refused clearly")
    func invalidInput() throws {
        let store = try Store(path: ":memory:")
        try store.saveVocabulary(makeVocabulary(), name: "v")
        #expect(throws: StoreError.notFound(kind: "vocabulary", name: "w", closest: ["v"])) {
            try store.saveModel(name: "m", kind: "k", hyperparametersJSON: "{}", vocabulary: "w", tensors: [])
        }
        #expect(throws: StoreError.notFound(kind: "vocabulary", name: "t", closest: ["v"])) {
            try store.saveModel(name: "m", kind: "k", hyperparametersJSON: "{}", vocabulary: "v",
                                targetVocabulary: "t", tensors: [])
        }
        #expect(throws: StoreError.invalidRecord(kind: "model", name: "m",
                                                 reason: "hyperparametersJSON is not valid JSON: {hidden: 4}")) {
            try store.saveModel(name: "m", kind: "k", hyperparametersJSON: "{hidden: 4}", vocabulary: "v",
                                tensors: [])
        }
        #expect(throws: StoreError.self) {
            try store.saveModel(name: "", kind: "k", hyperparametersJSON: "{}", vocabulary: "v", tensors: [])
        }
        #expect(throws: StoreError.notFound(kind: "model", name: "m", closest: [])) { try store.model(named: "m") }
        #expect(try store.models().isEmpty)
    }
}
