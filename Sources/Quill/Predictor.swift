import Foundation

/// Predictions for many texts at once (`quill predict`): next tokens, completions of a partial last word,
/// continuations, or scores.
///
/// A batch of lines is stepped together: at each position one batched step advances every line that still has a
/// token, so the model's weights are read once per position for the whole batch rather than once per line.
public final class Predictor {
    public enum Task: String, CaseIterable, Sendable {
        /// The most likely next tokens after the line.
        case next
        /// Completions of the line's partial last word (the next words after a space or punctuation).
        case complete
        /// A continuation of the line: beam search, or sampling when the temperature is above 0.
        case generate
        /// The log-probability of the line's tokens and of its end.
        case score
    }

    public struct Options: Sendable {
        public var task: Task
        /// Suggestions per line (`next`, `complete`) and the sampling cut (`generate` with a temperature).
        public var topK = 5
        /// Tokens generated at most.
        public var maxTokens = 20
        /// 0: `generate` takes the beam search's best; above 0 it samples.
        public var temperature = 0.0
        public var topP = 1.0
        /// Beam width of `generate` at temperature 0 (1: greedy).
        public var beam = 4
        public var seed: UInt64 = 1
        /// Lines longer than this many tokens are cut: to their last tokens for `next`, `complete` and `generate`,
        /// to their first for `score`.
        public var maxContext = 512

        public init(task: Task) { self.task = task }
    }

    /// What one line gave.
    public enum Outcome: Sendable, Equatable {
        case suggestions(prefix: String, items: [Suggestion])
        case generated(text: String, tokens: Int, logProbability: Double)
        case score(logProbability: Double, tokens: Int)
    }

    /// One line's prediction.
    public struct Prediction: Sendable, Equatable {
        /// Tokens of the line used (after the cut).
        public var tokens: Int
        /// Tokens outside the vocabulary.
        public var unknown: Int
        /// Whether the line was cut to ``Options/maxContext``.
        public var truncated: Bool
        public var outcome: Outcome
    }

    public let vocabulary: Vocabulary
    public let stepper: Stepper
    public let options: Options
    /// An n-gram model mixed into the distributions the `next` and `complete` suggestions come from.
    public let ngram: NGramMixture?
    private let tokenizer: Tokenizer
    private let index: TokenPrefixIndex
    private let rule: StopRule

    public init(model: LanguageModel, vocabulary: Vocabulary, options: Options,
                precision: Stepper.Precision = .float32, ngram: NGramMixture? = nil) throws {
        guard model.configuration.vocabulary == vocabulary.count else {
            throw LanguageModelError.vocabularySizeMismatch(model: "(predictor)",
                                                            modelSize: model.configuration.vocabulary,
                                                            vocabularySize: vocabulary.count)
        }
        precondition(ngram.map { $0.model.vocabularySize == vocabulary.count } ?? true,
                     "the n-gram model's vocabulary is not the model's")
        self.vocabulary = vocabulary
        self.options = options
        self.ngram = ngram
        stepper = try Stepper(model: model, precision: precision)
        tokenizer = try Tokenizer(vocabulary.settings)
        index = TokenPrefixIndex(vocabulary)
        rule = StopRule.sentence(in: vocabulary)
    }

    /// Predictions for `lines` (without their line breaks), in order. A line's number seeds its sampling, so the
    /// result of a line does not depend on the lines batched with it.
    /// - Throws: `TextError` when a line cannot be tokenized.
    public func predict(_ lines: [(number: Int, text: String)]) throws -> [Prediction] {
        // Each line: the context tokens to step, and for `complete` the partial word.
        var contexts: [[Int32]] = []
        var prefixes: [String] = []
        var truncated: [Bool] = []
        for (_, line) in lines {
            var tokens = try tokenizer.tokenize(line)
            var prefix = ""
            if options.task == .complete { (tokens, prefix) = Autocompleter.splitPartialWord(tokens, of: line) }
            var ids = tokens.map { vocabulary.id($0) }
            let cut = ids.count > options.maxContext
            if cut {
                ids = options.task == .score ? Array(ids.prefix(options.maxContext))
                    : Array(ids.suffix(options.maxContext))
            }
            contexts.append(ids)
            prefixes.append(prefix)
            truncated.append(cut)
        }
        // Step all lines together, position by position; keep each line's final state and distribution.
        let n = lines.count, V = stepper.vocabularySize
        var states = [Stepper.State](repeating: stepper.initialState(), count: n)
        var last = [[Float]](repeating: [], count: n)
        var logProbability = [Double](repeating: 0, count: n)
        var active = Array(0..<n)
        var distributions: [Float] = []
        var batchStates = states
        stepper.step(tokens: [Int32](repeating: vocabulary.lineStartID, count: n), states: &batchStates,
                     logProbabilities: &distributions)
        states = batchStates
        for i in 0..<n { last[i] = Array(distributions[(i * V)..<((i + 1) * V)]) }
        var position = 0
        while true {
            active = active.filter { position < contexts[$0].count }
            guard !active.isEmpty else { break }
            if options.task == .score {
                for i in active { logProbability[i] += Double(last[i][Int(contexts[i][position])]) }
            }
            var batch = active.map { states[$0] }
            stepper.step(tokens: active.map { contexts[$0][position] }, states: &batch,
                         logProbabilities: &distributions)
            for (j, i) in active.enumerated() {
                states[i] = batch[j]
                last[i] = Array(distributions[(j * V)..<((j + 1) * V)])
            }
            position += 1
        }
        var mixture = ngram
        return (0..<n).map { i in
            let ids = contexts[i]
            let unknown = ids.filter { $0 == Vocabulary.unknownID }.count
            let outcome: Outcome
            switch options.task {
            case .score:
                // The line's end is predicted too, as a perplexity over a corpus of lines counts it.
                outcome = .score(logProbability: logProbability[i] + Double(last[i][Int(vocabulary.lineStartID)]),
                                 tokens: ids.count + 1)
            case .next, .complete:
                if mixture != nil {
                    let history = ([vocabulary.lineStartID] + ids.suffix(KneserNeyModel.maximumOrder))[...]
                    last[i].withUnsafeMutableBufferPointer { mixture!.mix(into: $0, after: history) }
                }
                outcome = .suggestions(prefix: prefixes[i], items: Suggestion.best(
                    options.topK, extending: prefixes[i], in: last[i], vocabulary: vocabulary, index: index))
            case .generate:
                let continuation: Continuation
                if options.temperature > 0 {
                    var rng = RNG(seed: options.seed &+ UInt64(truncatingIfNeeded: lines[i].number))
                    continuation = ContinuationSearch.sample(
                        stepper: stepper, state: states[i], logProbabilities: last[i],
                        options: SamplingOptions(temperature: options.temperature, topK: options.topK,
                                                 topP: options.topP),
                        maxTokens: options.maxTokens, rule: rule, rng: &rng)
                } else {
                    continuation = ContinuationSearch.beam(stepper: stepper, state: states[i],
                                                           logProbabilities: last[i], width: options.beam,
                                                           maxTokens: options.maxTokens, rule: rule).first
                        ?? Continuation(tokens: [], logProbability: 0)
                }
                outcome = .generated(text: continuation.tokens.map { vocabulary[$0] }.joined(),
                                     tokens: continuation.tokens.count, logProbability: continuation.logProbability)
            }
            return Prediction(tokens: ids.count, unknown: unknown, truncated: truncated[i], outcome: outcome)
        }
    }
}
