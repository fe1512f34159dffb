import ArgumentParser
import Foundation
import Quill

/// `quill vocab show`: one vocabulary's settings and most frequent tokens.
struct VocabShowCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a vocabulary: tokenizer settings, size, fingerprint and its most frequent tokens.",
        discussion: """
            Tokens are shown escaped as in vocabulary files (\\s space, \\n line feed, \\t tab, \\\\ backslash, \
            \\u{XXXX} other whitespace and controls); --format jsonl gives them as plain JSON strings.

            Examples:
              quill vocab show ptb-word
              quill vocab show chars --limit 100 --format jsonl
            """)

    @Argument(help: "The vocabulary's name.")
    var name: String

    @Option(parsing: .number, help: "How many of the most frequent tokens to show.")
    var limit = 20

    @Option(help: "text: aligned fields and a table; jsonl: one JSON object.")
    var format: ReportFormat = .text

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if limit < 0 { throw ValidationError("--limit must not be negative (got \(limit))") }
    }

    func run(store: Store) throws {
        let vocabulary = try store.vocabulary(named: name)
        let record = try store.vocabularies().first { $0.name == name }
        let specials = Vocabulary.specialTokens.count
        // Ids follow counts except in a BPE vocabulary (bytes first, then characters, then subwords by merge rank).
        let ranked = vocabulary.settings.level == .bpe
            ? vocabulary.tokens.indices.dropFirst(specials).sorted { vocabulary.counts[$0] > vocabulary.counts[$1] }
            : Array(vocabulary.tokens.indices.dropFirst(specials))
        let top = Array(ranked.prefix(limit))
        switch format {
        case .text:
            var fields = [
                ["name:", shown(name)],
                ["settings:", vocabulary.settings.summary],
                ["size:", "\(vocabulary.count) entries (\(specials) specials)"],
                ["fingerprint:", vocabulary.fingerprint],
                ["covers:", "\(vocabulary.counts.reduce(0, +)) corpus tokens"],
            ]
            if let record { fields.append(["created:", displayTime(record.createdAt)]) }
            print(table(fields))
            guard !top.isEmpty else { return }
            print("\ntop \(top.count) tokens:")
            let rows = [["ID", "COUNT", "TOKEN"]]
                + top.map { [String($0), String(vocabulary.counts[$0]), VocabularyFile.escape(vocabulary.tokens[$0])] }
            print(table(rows, rightAligned: [0, 1]))
        case .jsonl:
            var object = try record.map(jsonObject) ?? [:]
            object["name"] = name
            object["settings"] = try jsonObject(vocabulary.settings)
            object["size"] = vocabulary.count
            object["fingerprint"] = vocabulary.fingerprint
            object["top"] = top.map { ["id": $0, "count": vocabulary.counts[$0], "token": vocabulary.tokens[$0]] }
            print(try jsonLine(object))
        }
    }
}
