import ArgumentParser
import Foundation
import Quill

/// `quill vocab list`: the vocabularies in the store.
struct VocabListCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the vocabularies in the store: name, level, size, fingerprint, creation time.",
        discussion: """
            --format text prints a table; --format jsonl one JSON object per vocabulary, with the full \
            fingerprint and tokenizer settings.

            Examples:
              quill vocab list
              quill vocab list --format jsonl --store runs/quill.sqlite
            """)

    @Option(help: "text: a table; jsonl: one JSON object per vocabulary.")
    var format: ReportFormat = .text

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let records = try store.vocabularies()
        switch format {
        case .text:
            if records.isEmpty { note("no vocabularies in \(self.store.resolvedPath)"); return }
            let rows = [["NAME", "LEVEL", "SIZE", "FINGERPRINT", "CREATED"]] + records.map {
                [shown($0.name), $0.settings.level.rawValue, String($0.size), String($0.fingerprint.prefix(12)),
                 displayTime($0.createdAt)]
            }
            print(table(rows, rightAligned: [2]))
        case .jsonl:
            for record in records { print(try jsonLine(jsonObject(record))) }
        }
    }
}

/// A stored ISO-8601 UTC time (`2025-06-01T12:03:27.123Z`) for reading: `2025-06-01 12:03:27 UTC`.
func displayTime(_ iso: String) -> String {
    guard iso.count >= 19, iso.dropFirst(10).first == "T" else { return iso }
    return iso.prefix(10) + " " + iso.dropFirst(11).prefix(8) + " UTC"
}
