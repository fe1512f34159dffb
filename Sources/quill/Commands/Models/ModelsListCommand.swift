import ArgumentParser
import Foundation
import Quill

/// `quill models list`: the models in the store.
struct ModelsListCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the models in the store: name, kind, vocabulary, parameter count, creation time.",
        discussion: """
            Examples:
              quill models list
              quill models list --format jsonl
            """)

    @Option(help: "text: a table; jsonl: one JSON object per model.")
    var format: ReportFormat = .text

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let records = try store.models()
        let counts = try records.map { try store.tensors(ofModel: $0.id).reduce(0) { $0 + $1.values.count } }
        switch format {
        case .text:
            if records.isEmpty { note("no models in \(self.store.resolvedPath)"); return }
            let rows = [["NAME", "KIND", "VOCABULARY", "PARAMETERS", "CREATED"]] + zip(records, counts).map {
                [shown($0.name), shown($0.kind), shown($0.vocabularyName), String($1), displayTime($0.createdAt)]
            }
            print(table(rows, rightAligned: [3]))
        case .jsonl:
            for (record, count) in zip(records, counts) {
                var object = try jsonObject(record)
                object["parameters"] = count
                print(try jsonLine(object))
            }
        }
    }
}
