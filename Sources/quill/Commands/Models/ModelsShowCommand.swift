import ArgumentParser
import Foundation
import Quill

/// `quill models show`: one model's shape, vocabulary, tensors and training notes.
struct ModelsShowCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a model: kind, cell, sizes, vocabulary, parameter count, tensors and how it was trained.",
        discussion: """
            Examples:
              quill models show tiny
              quill models show tiny --format jsonl
            """)

    @Argument(help: "The model's name.")
    var name: String

    @Option(help: "text: fields and tables; jsonl: one JSON object.")
    var format: ReportFormat = .text

    @OptionGroup
    var store: StoreOptions

    /// Hyperparameter keys shown in their own fields (the others are listed as they are).
    private static let shownKeys: Set = ["format", "cell", "vocabulary", "embedding", "hidden", "layers",
                                         "tiedEmbeddings", "training"]

    func run(store: Store) throws {
        let record = try store.modelForCLI(named: name, storePath: self.store.resolvedPath)
        let tensors = try store.tensors(ofModel: record.id)
        let vocabularies = try store.vocabularies()
        let vocabulary = vocabularies.first { $0.id == record.vocabularyID }
        let target = record.targetVocabularyID.flatMap { id in vocabularies.first { $0.id == id } }
        let runs = try store.runs().filter { $0.modelID == record.id }.map(\.id)
        let parameters = tensors.reduce(0) { $0 + $1.values.count }
        let hyperparameters = (try? JSONSerialization.jsonObject(with: Data(record.hyperparametersJSON.utf8)))
            as? [String: Any] ?? [:]
        let training = hyperparameters["training"] as? [String: Any] ?? [:]
        switch format {
        case .text:
            var fields = [["name:", shown(record.name)], ["kind:", shown(record.kind)]]
            func field(_ label: String, _ key: String) {
                if let value = hyperparameters[key] { fields.append([label, "\(value)"]) }
            }
            field("cell:", "cell")
            field("layers:", "layers")
            field("hidden:", "hidden")
            field("embedding:", "embedding")
            if let tied = hyperparameters["tiedEmbeddings"] as? Bool { fields.append(["tied:", tied ? "yes" : "no"]) }
            for key in hyperparameters.keys.sorted() where !Self.shownKeys.contains(key) {
                fields.append([key + ":", "\(hyperparameters[key]!)"])
            }
            fields.append(["vocabulary:", shown(record.vocabularyName)
                + (vocabulary.map { " (\($0.size) entries, \($0.settings.level.rawValue) level)" } ?? "")])
            fields.append(["fingerprint:", record.vocabularyFingerprint])
            if let target {
                fields.append(["target vocabulary:", shown(target.name) + " (\(target.size) entries, "
                    + "\(target.settings.level.rawValue) level)"])
                fields.append(["target fingerprint:", target.fingerprint])
            }
            fields.append(["parameters:", "\(parameters) (\(formatBytes(4 * parameters)))"])
            fields.append(["created:", displayTime(record.createdAt)])
            fields.append(["runs:", runs.isEmpty ? "none" : runs.map { "#\($0)" }.joined(separator: ", ")])
            print(table(fields))
            print("\ntensors:")
            print(table([["NAME", "SHAPE", "VALUES"]] + tensors.map {
                [shown($0.name), "[" + $0.shape.map(String.init).joined(separator: ", ") + "]", String($0.values.count)]
            }, rightAligned: [2]))
            if !training.isEmpty {
                print("\ntraining:")
                print(table(training.keys.sorted().map { ["  " + $0, "\(training[$0]!)"] }))
            }
        case .jsonl:
            var object = try jsonObject(record)
            object.removeValue(forKey: "hyperparametersJSON")
            object["hyperparameters"] = hyperparameters
            object["vocabularySize"] = vocabulary?.size ?? NSNull()
            object["parameters"] = parameters
            object["tensors"] = tensors.map { ["name": $0.name, "shape": $0.shape, "values": $0.values.count] }
            object["runs"] = runs
            print(try jsonLine(object))
        }
    }
}
