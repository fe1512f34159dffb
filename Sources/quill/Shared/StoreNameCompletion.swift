import ArgumentParser
import Foundation
import Quill

/// Shell completion of stored names: `--model` completes the store's model names, `--vocabulary` its vocabularies.
///
/// The shell runs `quill` with the words typed so far; the store is the one the command would open (`--store` among
/// those words, else `$QUILL_STORE`, else `quill.sqlite` here), opened read-only. Any failure (no store yet, a
/// foreign file) completes nothing rather than printing an error into the shell.
enum StoreNameCompletion {
    static let models = CompletionKind.custom { words, _, prefix in
        names(words: words, prefix: prefix) { try $0.models().map(\.name) }
    }

    static let vocabularies = CompletionKind.custom { words, _, prefix in
        names(words: words, prefix: prefix) { try $0.vocabularies().map(\.name) }
    }

    private static func names(words: [String], prefix: String, of list: (Store) throws -> [String]) -> [String] {
        var path = ProcessInfo.processInfo.environment["QUILL_STORE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? StoreOptions.defaultFileName
        for (i, word) in words.enumerated() {
            if word == "--store", i + 1 < words.count { path = words[i + 1] }
            if word.hasPrefix("--store=") { path = String(word.dropFirst("--store=".count)) }
        }
        guard FileManager.default.fileExists(atPath: path),
              let store = try? Store(path: path, mode: .readOnly),
              let names = try? list(store) else { return [] }
        return names.filter { $0.hasPrefix(prefix) }.sorted()
    }
}
