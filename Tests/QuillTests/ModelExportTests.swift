import Foundation
import Quill
import QuillTestSupport
import Testing

/// `Store.exportModel` and `Store.importLanguageModel`: safetensors files with PyTorch or Quill names.
@Suite struct ModelExportTests {
    /// A store with a vocabulary `v` of `size` entries (the specials and `size − 4` letters-words).
    static func store(in directory: URL, size: Int = 13, name: String = "v") throws -> Store {
        let store = try Store(path: directory.appendingPathComponent("store.sqlite").path)
        try addVocabulary(to: store, size: size, name: name)
        return store
    }

    static func addVocabulary(to store: Store, size: Int, name: String, salt: String = "") throws {
        let words = (0..<(size - 4)).map { " w\($0)\(salt)" }
        try store.saveVocabulary(Vocabulary(settings: TokenizerSettings(), tokens: Vocabulary.specialTokens + words,
                                            counts: [0, 0, 0, 0] + words.map { _ in 1 }), name: name)
    }

    static func model(_ kind: CellKind, vocabulary: Int = 13, tied: Bool = false, layers: Int = 2) throws
        -> LanguageModel {
        let model = try LanguageModel(.init(kind: kind, vocabulary: vocabulary, embedding: tied ? 5 : 3, hidden: 5,
                                            layers: layers, tiedEmbeddings: tied))
        var rng = RNG(seed: 11)
        model.parameters.initialize(.uniform(scale: 1), rng: &rng)
        // Values whose bits a careless conversion would change.
        let first = model.parameters.value("decoder.bias")!.buffer
        first[0] = -0.0
        first[1] = Float.leastNonzeroMagnitude
        first[2] = .infinity
        first[3] = Float(bitPattern: 0x0001_16C2)  // subnormal
        return model
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let kind: CellKind
        let tied: Bool
        let naming: TensorNaming
        var testDescription: String { "\(kind) tied \(tied) \(naming) names" }
    }

    @Test(arguments: [Case(kind: .lstm, tied: false, naming: .pytorch), Case(kind: .gru, tied: true, naming: .pytorch),
                      Case(kind: .rnnTanh, tied: false, naming: .quill), Case(kind: .lstm, tied: true, naming: .quill)])
    func exportThenImportIsBitIdentical(_ c: Case) throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(in: directory)
            let model = try Self.model(c.kind, tied: c.tied)
            try store.saveLanguageModel(model, name: "m", vocabulary: "v", training: ["seed": "11"])
            let url = directory.appendingPathComponent("m.safetensors")
            let export = try store.exportModel(named: "m", to: url, naming: c.naming)
            #expect(export.parameters == model.parameters.parameterCount)
            #expect(export.bytes == (try Data(contentsOf: url)).count)

            let file = try SafeTensors(contentsOf: url)
            let expectedNames = model.parameters.names.map {
                c.naming == .quill ? $0 : PyTorchModules().pytorchName($0)
            }.sorted()
            #expect(file.names == expectedNames && export.tensors == expectedNames)
            #expect(c.tied == !file.names.contains("decoder.weight"))
            #expect(file.metadata["format"] == "pt")
            #expect(file.metadata["vocabulary_fingerprint"] == (try store.vocabulary(named: "v")).fingerprint)
            #expect(file.metadata["vocabulary"] == "v" && file.metadata["vocabulary_size"] == "13")
            #expect(file.metadata["kind"] == "\(c.kind.rawValue)-lm")
            #expect(file.metadata["hyperparameters"] == (try store.model(named: "m")).hyperparametersJSON)

            let imported = try store.importLanguageModel(from: url, name: "copy", vocabulary: "v")
            #expect(imported.configuration == model.configuration && imported.naming == c.naming)
            let original = try store.tensors(ofModel: try store.model(named: "m").id)
            let copy = try store.tensors(ofModel: imported.id)
            #expect(copy == original)  // StoredTensor's == compares bits
            let notes = try JSONDecoder().decode(LanguageModelHyperparameters.self,
                                                 from: Data(try store.model(named: "copy").hyperparametersJSON.utf8))
            #expect(notes.training?["seed"] == "11" && notes.training?["importedFrom"] == url.path)
        }
    }

    /// The data of the file, read without the reader: header length, padding and data order.
    @Test func layoutIsThatOfTheFormat() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(in: directory)
            try store.saveLanguageModel(try Self.model(.lstm, layers: 1), name: "m", vocabulary: "v")
            let url = directory.appendingPathComponent("m.safetensors")
            try store.exportModel(named: "m", to: url, modules: PyTorchModules(embedding: "embed", rnn: "lstm",
                                                                               decoder: "out"))
            let bytes = [UInt8](try Data(contentsOf: url))
            let n = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
            #expect(n % 8 == 0)
            let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)]))
                as? [String: Any])
            let names = header.keys.filter { $0 != "__metadata__" }.sorted()
            #expect(names == ["embed.weight", "lstm.bias_hh_l0", "lstm.bias_ih_l0", "lstm.weight_hh_l0",
                              "lstm.weight_ih_l0", "out.bias", "out.weight"])
            var offset = 0
            for name in names {  // contiguous, in name order, covering the whole data section
                let entry = try #require(header[name] as? [String: Any])
                #expect(entry["dtype"] as? String == "F32")
                let range = try #require(entry["data_offsets"] as? [Int])
                #expect(range[0] == offset)
                offset = range[1]
            }
            #expect(8 + n + offset == bytes.count)
            let tensors = try store.tensors(ofModel: try store.model(named: "m").id)
            let weight = try #require(tensors.first { $0.name == "rnn.0.weightHH" })
            let entry = try #require(header["lstm.weight_hh_l0"] as? [String: Any])
            #expect(entry["shape"] as? [Int] == weight.shape)
            let start = 8 + n + (entry["data_offsets"] as! [Int])[0]
            let raw = (0..<weight.values.count).map { i in
                (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[start + 4 * i + $1]) << (8 * UInt32($1)) }
            }
            #expect(raw == weight.values.map(\.bitPattern))
            // The modules are recorded, so the file imports without naming them again.
            let imported = try store.importLanguageModel(from: url, name: "copy", vocabulary: "v")
            #expect(imported.naming == .pytorch && imported.configuration.layers == 1)
        }
    }

    @Test func importRefusesAnotherVocabulary() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(in: directory)
            try Self.addVocabulary(to: store, size: 13, name: "other", salt: "x")
            try store.saveLanguageModel(try Self.model(.gru), name: "m", vocabulary: "v")
            let url = directory.appendingPathComponent("m.safetensors")
            try store.exportModel(named: "m", to: url)
            do {
                try store.importLanguageModel(from: url, name: "copy", vocabulary: "other")
                Issue.record("a model must not be attached to another vocabulary")
            } catch let error as ModelTransferError {
                guard case let .vocabularyMismatch(file, vocabulary, _, _) = error else {
                    Issue.record("unexpected \(error)"); return
                }
                #expect(file == url.path && vocabulary == "other")
                #expect(error.description.contains("fingerprint") && error.description.contains("import the model's own vocabulary"))
                #expect(!error.description.contains("quill "), "the library names no command")
            }
            #expect(throws: StoreError.alreadyExists(kind: "model", name: "m")) {
                try store.importLanguageModel(from: url, name: "m", vocabulary: "v")
            }
            try store.importLanguageModel(from: url, name: "m", vocabulary: "v", replace: true)
        }
    }

    /// A file with no hyperparameters, as PyTorch writes one: the configuration comes from the shapes, and the
    /// tensors must be exactly the model's.
    @Test(arguments: [CellKind.lstm, .gru, .rnnTanh])
    func importInfersTheConfigurationOfAPyTorchFile(kind: CellKind) throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(in: directory)
            let model = try Self.model(kind)
            var writer = SafeTensorsWriter(metadata: ["format": "pt"])
            for tensor in model.parameters.storedTensors {
                try writer.add(PyTorchModules(embedding: "enc").pytorchName(tensor.name), shape: tensor.shape,
                               values: tensor.values)
            }
            let url = directory.appendingPathComponent("torch.safetensors")
            try writer.write(to: url)
            #expect(throws: ModelTransferError.self) {  // embedding is not under the default name
                try store.importLanguageModel(from: url, name: "m", vocabulary: "v")
            }
            let imported = try store.importLanguageModel(from: url, name: "m", vocabulary: "v",
                                                         modules: PyTorchModules(embedding: "enc"))
            #expect(imported.configuration == model.configuration)
            let expected = model.parameters.storedTensors.sorted { $0.name < $1.name }
            #expect(try store.tensors(ofModel: imported.id) == expected)

            try writer.add("extra", shape: [1], values: [0])
            try writer.write(to: url)
            #expect(throws: ParameterLoadError(source: url.path, unexpected: ["extra"])) {
                try store.importLanguageModel(from: url, name: "m2", vocabulary: "v",
                                              modules: PyTorchModules(embedding: "enc"))
            }
        }
    }

    @Test func importRefusesAVocabularyOfAnotherSize() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(in: directory)
            try Self.addVocabulary(to: store, size: 9, name: "small")
            var writer = SafeTensorsWriter()
            for tensor in try Self.model(.lstm).parameters.storedTensors {
                try writer.add(tensor.name, shape: tensor.shape, values: tensor.values)  // Quill names, no metadata
            }
            let url = directory.appendingPathComponent("q.safetensors")
            try writer.write(to: url)
            #expect(throws: LanguageModelError.vocabularySizeMismatch(model: "m", modelSize: 13, vocabularySize: 9)) {
                try store.importLanguageModel(from: url, name: "m", vocabulary: "small")
            }
            #expect(try store.importLanguageModel(from: url, name: "m", vocabulary: "v").naming == .quill)
        }
    }

    /// PyTorch's own weights (`Tests/Fixtures/pytorch-lstm-lm.safetensors`, modules `embed`, `rnn`, `out`),
    /// as a state_dict file: the imported model gives PyTorch's loss on the fixture's batch.
    @Test func importsPyTorchWeights() throws {
        let reference = try SafeTensors(contentsOf: try TestSupport.fixture("pytorch-lstm-lm.safetensors"))
        try withTemporaryDirectory { directory in
            let V = try reference.shape("out.bias")[0]
            let store = try Self.store(in: directory, size: V)
            var writer = SafeTensorsWriter()
            for name in reference.names where ["embed.", "rnn.", "out."].contains(where: { name.hasPrefix($0) }) {
                try writer.add(name, shape: try reference.shape(name), values: try reference.floats(name))
            }
            let url = directory.appendingPathComponent("state_dict.safetensors")
            try writer.write(to: url)
            let imported = try store.importLanguageModel(from: url, name: "torch", vocabulary: "v",
                                                         modules: PyTorchModules(embedding: "embed", decoder: "out"))
            #expect(imported.configuration.kind == .lstm && imported.configuration.layers == 2)
            let (model, _) = try store.loadLanguageModel(named: "torch")
            let (T, B) = (try reference.shape("input")[0], try reference.shape("input")[1])
            let loss = model.forward(inputs: try reference.int32s("input"), targets: try reference.int32s("target"),
                                     steps: T, batch: B, h0: try reference.floats("h0"), c0: try reference.floats("c0"))
            let expected = Double(try reference.floats("loss")[0])
            #expect(abs(loss - expected) <= 1e-5 * max(1, abs(expected)), "loss \(loss), PyTorch \(expected)")
        }
    }
}
