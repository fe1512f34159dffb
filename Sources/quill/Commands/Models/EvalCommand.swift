import ArgumentParser
import Foundation
import Quill

/// `quill eval`: the perplexity of a stored language model on a text file.
struct EvalCommand: StoreBackedCommand, LossyReading {
    /// Output formats of `quill eval`: one report, so one JSON object.
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a stored language model on a text file: loss, perplexity, bits per token and character.",
        discussion: """
            Encodes the file with the model's own vocabulary and scores every token from the ones before it, the \
            recurrent state carried from window to window. With the default --batch 1 this is the exact \
            sequential perplexity of the text (--bptt only sets how many steps run at once); --batch B runs B \
            streams in parallel, faster but each stream starts from zero state.

            Reports the tokens and the share outside the vocabulary, the mean cross-entropy (nats per token), \
            perplexity, bits per token, and bits per character of the text (for a character model these are the \
            same), so models of different token levels on the same text compare.

            Examples:
              quill eval --model tiny --text corpora/default/valid.txt
              quill eval --model ptb-small --text ../shared/corpora/ptb/ptb.test.txt --batch 10 --format json
              quill eval --model ptb-small --text ../shared/corpora/ptb/ptb.valid.txt --precision bfloat16
              quill eval --model ptb-small --text ../shared/corpora/ptb/ptb.test.txt --mix kn5 \\
                --tune-on ../shared/corpora/ptb/ptb.valid.txt

            --mix NGRAM mixes a stored n-gram model of the same vocabulary into the model by linear interpolation, \
            p = (1 − α)·p_model + α·p_ngram, and reports both models alone and the mixture on the same tokens; α is \
            --mix-weight, or the weight that minimises the mixture's perplexity on --tune-on (validation data; \
            never the test text), else 0.35.
            """)

    @Option(help: "The stored model.", completion: StoreNameCompletion.models)
    var model: String

    @Option(help: ArgumentHelp("The UTF-8 text file to evaluate on.", valueName: "file"))
    var text: String

    @Option(parsing: .number, help: "Parallel streams (1 gives the exact sequential perplexity).")
    var batch = 1

    @Option(parsing: .number, help: "Steps per window.")
    var bptt = 35

    @Option(help: ArgumentHelp("float32 (the model itself), bfloat16 (the batch scorer with bfloat16 weights and "
        + "activations, float32 sums: faster on CPUs with AVX512_BF16) or int8 (weights and activations quantized, "
        + "integer sums: AVX512_VNNI); the reduced ones change the perplexity slightly (docs/decoding.md).",
        valueName: "precision"))
    var precision: ScoringPrecision = .float32

    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of failing.")
    var lossy = false

    @Option(help: ArgumentHelp("Mix this stored n-gram model into the model (linear interpolation).",
                               valueName: "ngram"))
    var mix: String?

    @Option(parsing: .number, help: ArgumentHelp("With --mix: the n-gram model's share α, in (0, 1).",
                                                 valueName: "α"))
    var mixWeight: Double?

    @Option(help: ArgumentHelp("With --mix: choose α on this validation file (the perplexity there is lowest).",
                               valueName: "file"))
    var tuneOn: String?

    @Flag(help: ArgumentHelp("Record the perplexity as the test perplexity of the run that trained the model "
        + "(`quill runs compare` shows it). Give it the test split only."))
    var recordTest = false

    @Option(help: "text: aligned fields; json: one JSON object.")
    var format: Format = .text

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1 (got \(batch))") }
        if bptt < 1 { throw ValidationError("--bptt must be at least 1 (got \(bptt))") }
        if mix == nil, mixWeight != nil || tuneOn != nil {
            throw ValidationError("--mix-weight and --tune-on go with --mix NGRAM")
        }
        if mixWeight != nil, tuneOn != nil { throw ValidationError("give --mix-weight or --tune-on, not both") }
        try NumberRange.within(mixWeight, "--mix-weight", "(0, 1)") { $0 > 0 && $0 < 1 }
        if mix != nil, precision != .float32 { throw ValidationError("--mix evaluates in float32 (no --precision)") }
        if recordTest, mix != nil || precision != .float32 {
            throw ValidationError("--record-test records the model's own float32 perplexity (no --mix, no --precision)")
        }
    }

    /// Reads only, unless --record-test writes the test metric.
    func run() throws { try run(store: try store.open(recordTest ? .readWrite : .readOnly)) }

    func run(store: Store) throws {
        if let mix { return try runMixture(store: store, ngram: mix) }
        let bar = ProgressBar(label: "evaluating")
        let result = try bar.showing { bar in
            try store.evaluateLanguageModel(named: model, text: text, batch: batch, steps: bptt, lossy: lossy,
                                            precision: precision.precision, progress: { done, windows in
                bar.redraw { elapsed in EvalCommand.render(done: done, of: windows, elapsed: elapsed) }
            })
        }
        let e = result.evaluation
        let recordedIn = recordTest ? try store.recordTestMetric(model: model, loss: e.meanLoss) : nil
        switch format {
        case .text:
            var rows = [
                ["model:", "\(model) (\(result.level.rawValue) level)"],
                ["text:", "\(text): \(result.tokens) tokens (" + String(format: "%.2f%%", result.unknownRate * 100)
                    + " unknown), \(result.characters) characters"],
                ["scored:", "\(e.targets) tokens, batch \(batch), bptt \(bptt)"
                    + (precision == .float32 ? "" : ", \(precision.rawValue)")],
                ["loss:", String(format: "%.4f nats/token", e.meanLoss)],
                ["perplexity:", String(format: "%.2f", e.perplexity)],
            ]
            if result.level == .character {
                rows.append(["bits per character:", String(format: "%.4f", e.bitsPerToken)])
            } else {
                rows.append(["bits per token:", String(format: "%.4f", e.bitsPerToken)])
                rows.append(["bits per character:", String(format: "%.4f", result.bitsPerCharacter)])
            }
            if result.replacements > 0 {
                rows.append(["replaced:", "\(result.replacements) invalid UTF-8 sequences (--lossy)"])
            }
            if let recordedIn { rows.append(["recorded:", "as the test perplexity of run #\(recordedIn)"]) }
            print(table(rows))
        case .json:
            print(try jsonLine(result))
        }
    }

    /// `--mix`: both models alone and the mixture.
    func runMixture(store: Store, ngram: String) throws {
        let bar = ProgressBar(label: "evaluating")
        let result = try bar.showing { bar in
            try store.evaluateMixture(model: model, ngram: ngram, text: text, weight: mixWeight, tuneOn: tuneOn,
                                      batch: batch, steps: bptt, lossy: lossy, progress: { done, windows in
                bar.redraw { elapsed in EvalCommand.render(done: done, of: windows, elapsed: elapsed) }
            })
        }
        switch format {
        case .text:
            let rows = [
                ["text:", "\(text): \(result.tokens) tokens scored, batch \(batch), bptt \(bptt)"],
                ["model:", "\(model): perplexity " + String(format: "%.2f", result.modelPerplexity)],
                ["n-gram:", "\(ngram): perplexity " + String(format: "%.2f", result.ngramPerplexity)],
                ["weight:", String(format: "α = %.3f", result.weight)
                    + (result.tunedOn.map { " (tuned on \($0): perplexity "
                        + String(format: "%.2f", result.tunedPerplexity ?? .nan) + ")" }
                       ?? (mixWeight == nil ? " (the default)" : " (given)"))],
                ["mixture:", "perplexity " + String(format: "%.2f", result.perplexity)],
            ]
            print(table(rows))
        case .json:
            print(try jsonLine(result))
        }
    }

    /// `evaluating [########············] 120/300 windows  ETA 0:12`.
    static func render(done: Int, of windows: Int, elapsed: TimeInterval) -> String {
        let fraction = windows > 0 ? min(1, Double(done) / Double(windows)) : 0
        let cells = 20
        let full = Int(fraction * Double(cells))
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : nil
        return "evaluating [" + String(repeating: "#", count: full) + String(repeating: "·", count: cells - full)
            + "] \(done)/\(windows) windows  ETA " + (eta.map(ProgressBar.formatDuration) ?? "--:--")
    }
}
