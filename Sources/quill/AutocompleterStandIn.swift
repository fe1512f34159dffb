// TEMPORARY: mirrors the Autocompleter API the lead is adding to Sources/Quill/Autocompleter.swift; deleted when
// main is merged. Suggests vocabulary entries that extend the partial word, most frequent first.
import Quill

struct Suggestion: Sendable, Equatable {
    var token: String
    var completion: String
    var probability: Double
}

struct Suggestions: Sendable {
    var text: String
    var prefix: String
    var items: [Suggestion]
    var continuation: String
    var note: String?
}

final class Autocompleter {
    let vocabulary: Vocabulary
    var k = 5
    var temperature = 0.0
    var beamWidth = 4
    var maxContinuationTokens = 8

    init(model: LanguageModel, vocabulary: Vocabulary, precision: Stepper.Precision = .float32) throws {
        self.vocabulary = vocabulary
    }

    func suggestions(for text: String) throws -> Suggestions {
        let prefix = text.last.map { $0.isWhitespace } ?? true ? "" : String(text.split(separator: " ").last ?? "")
        var items: [Suggestion] = []
        let typed = prefix.isEmpty ? "" : " " + prefix
        for token in vocabulary.tokens where token.hasPrefix(typed) && token.count > typed.count && token != "\n" {
            items.append(Suggestion(token: token, completion: String(token.dropFirst(typed.count)),
                                    probability: 0.1))
            if items.count == k { break }
        }
        return Suggestions(text: text, prefix: prefix, items: items, continuation: items.first?.completion ?? "",
                           note: nil)
    }
}
