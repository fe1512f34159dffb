import ArgumentParser
import Foundation
import Quill



/// `quill eval-autocomplete`: keystroke savings of a model's word suggestions on a text.
struct EvalAutocompleteCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-autocomplete",
        abstract: "Measure the keystrokes a word-level model's suggestions save on a text (Presage's KSR).",
        discussion: """
            Simulates a user typing the text with --suggestions words offered before each keystroke, chosen as \
            quill complete chooses them: a word among them is taken with one key and the space after it comes free \
            (as Presage inserts it), otherwise the next character is typed. Reports KSR = (1 − (ki + ks) / kn) × 100 \
            with ki keys typed, ks keys to select and kn the keys without prediction (the words' characters and one \
            per run of whitespace after a word, as Presage counts), and the next-word accuracy (the word first, or \
            among the first 3, before any of it is typed).

            By default a word passed over is not offered again while the same word is typed, and the continuous \
            cache of the text typed so far is mixed into the model's distribution; --repeat-suggestions and \
            --no-document-cache measure without them. --mix NAME mixes a stored n-gram model into the model's \
            distribution, as quill complete --mix does.

            Examples:
              quill eval-autocomplete --model ptb --text ../shared/corpora/ptb/ptb.test.txt --suggestions 3
              head -c 3000 ptb.test.txt > ptb3k.txt; quill eval-autocomplete --model ptb --text ptb3k.txt \\
                --suggestions 3 --unknown-as unk      # as ../shared/bench/presage_ksr.sh spells <unk>
            """)

    @Option(help: "The stored word-level model.", completion: StoreNameCompletion.models)
    var model: String

    @Option(help: ArgumentHelp("The UTF-8 text to type.", valueName: "file"))
    var text: String

    @Option(parsing: .number, help: "Suggestions shown before each keystroke.")
    var suggestions = 3

    @Option(help: ArgumentHelp("Type the text's <unk> tokens as this word (Presage's peer script types unk).",
                               valueName: "word"))
    var unknownAs: String?

    @Option(help: "Weights used to step the model: float32 or int8.")
    var precision: SteppingPrecision = .float32

    @OptionGroup(title: "Suggestions")
    var choice: SuggestionOptions

    @Option(help: "text: aligned fields; json: one JSON object.")
    var format: EvalCommand.Format = .text

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if suggestions < 1 { throw ValidationError("--suggestions must be at least 1 (got \(suggestions))") }
        if let unknownAs, unknownAs.isEmpty || unknownAs.contains(where: \.isWhitespace) {
            throw ValidationError("--unknown-as must be one word")
        }
    }

    func run(store: Store) throws {
        let bar = ProgressBar(label: "typing")
        let start = Date()
        let s = try bar.showing { bar in
            try store.evaluateAutocomplete(model: model, text: text, suggestions: suggestions,
                                           unknownSpelling: unknownAs, precision: precision.precision,
                                           repeatsPassedOver: choice.repeatSuggestions,
                                           cache: choice.noDocumentCache ? nil : .default, ngram: choice.ngram.named,
                                           progress: { done, total in
                bar.redraw { elapsed in
                    let eta = done > 0 ? elapsed * Double(total - done) / Double(done) : nil
                    return "typing \(done)/\(total) tokens  ETA " + (eta.map(ProgressBar.formatDuration) ?? "--:--")
                }
            })
        }
        let seconds = Date().timeIntervalSince(start)
        switch format {
        case .text:
            print(table([
                ["model:", model],
                ["text:", "\(text): \(s.words) words, \(s.kn) keys without prediction"],
                ["suggestions:", String(s.suggestions) + (choice.repeatSuggestions ? ", passed-over words repeated" : "")
                    + (choice.noDocumentCache ? ", no document cache" : ", document cache")
                    + choice.ngram.summary],
                ["KSR:", String(format: "%.2f%%", s.rate) + " (ki \(s.ki), ks \(s.ks), kn \(s.kn))"],
                ["next word:", String(format: "top-1 %.2f%%, top-3 %.2f%%", s.top1Accuracy * 100,
                                      s.top3Accuracy * 100)],
                ["time:", String(format: "%.1f s", seconds)],
            ]))
        case .json:
            print(try jsonLine(AutocompleteEvaluation(
                model: model, file: text, precision: precision.precision, repeatSuggestions: choice.repeatSuggestions,
                documentCache: !choice.noDocumentCache, mix: choice.ngram.mix,
                mixWeight: choice.ngram.mix.map { _ in choice.ngram.exactWeight }, seconds: seconds, savings: s)))
        }
    }
}
