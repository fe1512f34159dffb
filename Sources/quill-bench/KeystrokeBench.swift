import ArgumentParser
import Foundation
import Quill

/// Per-keystroke latency of the autocompleter, as `quill complete` asks it: a text typed character by character, line
/// by line; each keystroke asks for the suggestions without the ghost continuation, and each pause (here: every
/// word boundary) for the continuation too.
struct KeystrokeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keystroke",
        abstract: "Per-keystroke latency of Autocompleter on a PTB-shaped model (10k vocabulary), p50/p99/max in ms.")

    @Option(help: "ptb-small (2×200) or ptb-medium (2×650).")
    var config: DecodeConfig = .ptbMedium
    @Option(help: "Threads.")
    var threads = 2
    @Option(help: "float32 or int8.")
    var precision: Stepper.Precision = .int8
    @Option(help: "PTB folder: the vocabulary comes from ptb.train.txt, the typed text from ptb.valid.txt.")
    var corpora = "../shared/corpora/ptb"
    @Option(help: "Characters typed.")
    var characters = 3000

    @Flag(help: "Show a word passed over again (as quill complete --repeat-suggestions).")
    var repeatSuggestions = false

    @Flag(help: "No continuous cache (as quill complete --no-document-cache).")
    var noDocumentCache = false

    @Flag(help: "Mix in a Kneser-Ney 4-gram of ptb.train.txt (as quill complete --mix).")
    var mix = false

    func run() throws {
        setenv("QUILL_THREADS", String(threads), 1)  // before the shared pool starts
        var builder = VocabularyBuilder(settings: TokenizerSettings(level: .whitespace))
        try builder.addTokens(of: TextReader(path: "\(corpora)/ptb.train.txt"))
        let vocabulary = builder.build()
        let model = try config.model(vocabulary: vocabulary.count)
        let completer = try Autocompleter(model: model, vocabulary: vocabulary, precision: precision)
        completer.repeatsPassedOver = repeatSuggestions
        if noDocumentCache { completer.documentCache = nil }
        if mix {
            let ids = try TokenIDs.encode(file: "\(corpora)/ptb.train.txt", vocabulary: vocabulary).ids
            completer.ngram = NGramMixture(model: KneserNeyModel(ids: ids, vocabularySize: vocabulary.count, order: 4))
        }
        let text = String(try TextReader(path: "\(corpora)/ptb.valid.txt").readAll().prefix(characters))
        var keystrokes: [Double] = []
        var pauses: [Double] = []
        for line in text.split(separator: "\n") {
            var typed = ""
            for character in line {
                typed.append(character)
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try completer.suggestions(for: typed, continuation: false)
                keystrokes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                if character == " " {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try completer.suggestions(for: typed, continuation: true)
                    pauses.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                }
            }
        }
        func percentiles(_ values: [Double]) -> [String: Double] {
            let sorted = values.sorted()
            func at(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))] }
            return ["p50": at(0.5), "p99": at(0.99), "max": sorted.last ?? 0]
        }
        printJSON([
            "bench": "keystroke", "config": config.rawValue, "threads": threads, "precision": precision.rawValue,
            "keystrokes": keystrokes.count, "keystroke_ms": percentiles(keystrokes), "pauses": pauses.count,
            "continuation_ms": percentiles(pauses), "text_steps": completer.textSteps,
            "repeat_suggestions": repeatSuggestions, "document_cache": !noDocumentCache, "mix": mix,
        ])
    }
}
