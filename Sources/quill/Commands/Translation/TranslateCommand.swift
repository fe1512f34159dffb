import ArgumentParser
import Foundation
import Quill

/// `--precision` of the commands that translate.
enum TranslationPrecision: String, ExpressibleByArgument, CaseIterable {
    case float32, bfloat16

    var precision: Stepper.Precision { self == .float32 ? .float32 : .bfloat16 }
}

/// The search options of the commands that translate.
struct SearchOptions: ParsableArguments {
    @Option(parsing: .number, help: "Beam width; 1 is greedy decoding. (default: 5)")
    var beam = 5

    @Option(parsing: .number,
            help: ArgumentHelp("GNMT length penalty α: scores are log P / ((5 + length) / 6)^α; 0 ranks by log P.",
                               valueName: "alpha"))
    var lengthPenalty = 0.0

    @Option(parsing: .number,
            help: ArgumentHelp("A translation has at most ratio × source tokens + 5 tokens.", valueName: "ratio"))
    var maxLengthRatio = 1.5

    @Option(parsing: .number, help: ArgumentHelp("Sentences translated together.", valueName: "n"))
    var sentences = 64

    @Option(help: "The decoder's products: float32 (exact) or bfloat16 (faster, may differ slightly).")
    var precision: TranslationPrecision = .float32

    func validate() throws {
        if !(1...100).contains(beam) { throw ValidationError("--beam must be 1…100 (got \(beam))") }
        try NumberRange.within(lengthPenalty, "--length-penalty", "[0, 5]") { $0 >= 0 && $0 <= 5 }
        try NumberRange.within(maxLengthRatio, "--max-length-ratio", "(0, 100]") { $0 > 0 && $0 <= 100 }
        if sentences < 1 { throw ValidationError("--sentences must be at least 1") }
    }

    func options(nbest: Int = 1, attention: Bool = false) -> Translator.Options {
        Translator.Options(beam: beam, nbest: nbest, lengthPenalty: lengthPenalty, maxLengthRatio: maxLengthRatio,
                           batch: sentences, attention: attention)
    }
}

/// `quill translate`: a translation REPL on a terminal; one translation per input line from pipes and files.
struct TranslateCommand: StoreBackedCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, jsonl }

    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate text with a stored translation model.",
        discussion: """
            On a terminal, translates each line you type. Otherwise reads FILE (or standard input) and writes one \
            translation per input line, in order: with --format text (the default) the best translation (with \
            --nbest K, K lines per input line, best first); with --format jsonl one JSON object per input line: \
            line, source, sourceTokens, translations [{text, tokens, logProbability, score, ended}] (and \
            attention with --attention: target × source weights).

            Examples:
              quill translate --model de-en
              quill translate --model de-en --beam 5 test.de > test.hyp.en
              echo "Ein Hund rennt." | quill translate --model de-en --nbest 3 --format jsonl
            """)

    @Option(help: "The stored translation model.", completion: StoreNameCompletion.models)
    var model: String

    @OptionGroup(title: "Search")
    var search: SearchOptions

    @Option(parsing: .number, help: "Translations per input line, best first (at most --beam).")
    var nbest = 1

    @Option(help: "Output format: text or jsonl.")
    var format: Format = .text

    @Flag(help: "jsonl: include each translation's attention weights.")
    var attention = false

    @Argument(help: ArgumentHelp("Sentences to translate, one per line; - or none for standard input.",
                                 valueName: "file"))
    var input = "-"

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if !(1...search.beam).contains(nbest) {
            throw ValidationError("--nbest must be 1…--beam (\(search.beam)) (got \(nbest))")
        }
        if attention && format != .jsonl { throw ValidationError("--attention needs --format jsonl") }
    }

    func run(store: Store) throws {
        let system = try TranslationSystem(store: store, model: model, precision: search.precision.precision)
        let options = search.options(nbest: nbest, attention: attention)
        if input == "-" && Terminal.isInteractive {
            note("model '\(model)' · beam \(search.beam) · one line at a time; Ctrl-D leaves")
            while true {
                FileHandle.standardOutput.write(Data("> ".utf8))
                guard let line = readLine(strippingNewline: true) else { break }
                for candidate in try system.translate([line], options: options)[0].translations {
                    print(candidate.text)
                }
            }
            return
        }
        // In an MPI job the lines are shared out a round of --sentences per rank at a time (Job.shareRound).
        let translate = { (lines: [NumberedLine]) in
            try system.translate(lines.map(\.text), options: options, firstLine: lines.first?.number ?? 1)
        }
        if Job.isFollower {
            while try Job.shareRound(nil, translate) != nil {}
            return
        }
        let output = OutputBuffer()
        defer { _ = try? Job.shareRound(nil, translate) }
        try readLines(try LineReader(path: input), batch: search.sentences * (Job.group?.size ?? 1)) { lines, first in
            let numbered = lines.enumerated().map { NumberedLine(number: first + $0.offset, text: $0.element) }
            for translation in try Job.shareRound(numbered, translate)! {
                switch format {
                case .text:
                    for candidate in translation.translations {
                        try output.write(candidate.text.replacingOccurrences(of: "\n", with: " ") + "\n")
                    }
                case .jsonl:
                    try output.write(try jsonLine(translation) + "\n")
                }
            }
            try output.flush()
        }
    }
}

/// `quill translation eval`: BLEU, chrF and chrF++ of a model's translations of a test set.
struct TranslationEvalCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Translate a test set and score it against its references (BLEU, chrF, chrF++ as sacreBLEU).",
        discussion: """
            Prints one JSON object: model, beam, lengthPenalty, sentences, seconds, sentencesPerSecond, and the \
            scores as `quill translation score` prints them (bleu, precisions, bp, sys_len, ref_len, chrf, chrfpp, \
            signature, …). --hypotheses FILE also writes the translations.

            Example:
              quill translation eval --model de-en --source test2016.de --reference test2016.en --beam 5
            """)

    @Option(help: "The stored translation model.", completion: StoreNameCompletion.models)
    var model: String

    @Option(help: ArgumentHelp("The sentences to translate, one per line.", valueName: "file"))
    var source: String

    @Option(help: ArgumentHelp("Their reference translations.", valueName: "file"))
    var reference: String

    @OptionGroup(title: "Search")
    var search: SearchOptions

    @Option(help: ArgumentHelp("Also write the translations to this file.", valueName: "file"))
    var hypotheses: String?

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let system = try TranslationSystem(store: store, model: model, precision: search.precision.precision)
        var lines: [String] = []
        let evaluation = try system.evaluate(sourceFile: source, referenceFile: reference, options: search.options(),
                                             hypothesesOut: { lines.append($0) })
        if let hypotheses {
            do {
                try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: hypotheses))
            } catch {
                throw CLIError("\(hypotheses): cannot write the translations (\(error.localizedDescription))")
            }
        }
        var object = try jsonObject(evaluation.scores)
        for (key, value) in try jsonObject(evaluation) where key != "scores" { object[key] = value }
        print(try jsonLine(object))
    }
}

/// `quill translation attention`: the attention of one translation as an SVG heat map.
struct TranslationAttentionCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Translate a sentence and draw what the model attended to, as an SVG heat map.",
        discussion: """
            Rows are the target tokens (the end of sentence last), columns the source tokens; a darker cell is a \
            larger weight, and hovering a cell shows the pair and its weight. Open the file in a browser.

            Example:
              quill translation attention --model de-en "Ein Hund rennt über die Wiese." --output attention.svg
            """)

    @Option(help: "The stored translation model.", completion: StoreNameCompletion.models)
    var model: String

    @Argument(help: "The sentence to translate.")
    var text: String

    @OptionGroup(title: "Search")
    var search: SearchOptions

    @Option(help: ArgumentHelp("Write the SVG here instead of standard output.", valueName: "file"))
    var output: String?

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let system = try TranslationSystem(store: store, model: model, precision: search.precision.precision)
        let translation = try system.translate([text], options: search.options(attention: true))[0]
        guard let best = translation.translations.first, let weights = best.attention else {
            throw CLIError("the model gave no translation of that sentence")
        }
        let targets = best.tokens + (best.ended ? ["\n"] : [])
        let map = try AttentionHeatMap(source: translation.sourceTokens, target: targets, weights: weights,
                                       title: "\(model): \(text) → \(best.text)")
        let svg = map.svg()
        if let output {
            do { try Data(svg.utf8).write(to: URL(fileURLWithPath: output)) } catch {
                throw CLIError("\(output): cannot write the picture (\(error.localizedDescription))")
            }
            note("wrote \(output): \(targets.count) target × \(translation.sourceTokens.count) source tokens")
        } else {
            print(svg)
        }
    }
}

/// A line of input and its number, as the ranks of an MPI job pass it around.
struct NumberedLine: Codable {
    var number: Int
    var text: String
}
