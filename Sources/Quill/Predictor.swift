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
        /// A continuation of the line, as ``Options/decoding`` chooses it.
        case generate
        /// The log-probability of the line's tokens and of its end (the corpus's line break).
        case score
    }

    public struct Options: Sendable {
        public var task: Task
        /// Suggestions per line (`next`, `complete`).
        public var suggestions = 5
        /// How `generate` continues a line (greedy by default); its seed plus a line's number seeds that line.
        public var decoding = DecodingOptions()
        /// Lines longer than this many tokens are cut (``ContextCap``): to their last tokens for `next`, `complete`
        /// and `generate`, to their first for `score` (whose line break then is not scored).
        public var maxContext = ContextCap.defaultTokens

        /// Which end of a long line the task reads: `score` its start, the others its end.
        public var keeps: ContextCap.End { task == .score ? .start : .end }

        public init(task: Task, suggestions: Int = 5, decoding: DecodingOptions = DecodingOptions(),
                    maxContext: Int = ContextCap.defaultTokens) {
            self.task = task
            self.suggestions = suggestions
            self.decoding = decoding
            self.maxContext = maxContext
        }
    }

    /// What one line gave.
    public enum Outcome: Sendable, Equatable {
        case suggestions(prefix: String, items: [Suggestion])
        case generated(text: String, tokens: Int, logProbability: Double)
        case score(logProbability: Double, tokens: Int)
    }

    /// One line's prediction.
    ///
    /// Encodes as one flat object: `tokens`, `unknown` (left out when 0), `truncated` (left out when false), and by
    /// outcome `prefix` and `suggestions` (``Suggestion``s), or `text`, `generated` (its token count) and
    /// `logProbability`, or `logProbability` and `perplexity` (of the line's tokens, its line break included).
    public struct Prediction: Sendable, Equatable, Codable {
        /// Tokens of the line used (after the cut).
        public var tokens: Int
        /// Tokens outside the vocabulary.
        public var unknown: Int
        /// Whether the line was cut to ``Options/maxContext``.
        public var truncated: Bool
        public var outcome: Outcome

        public init(tokens: Int, unknown: Int, truncated: Bool, outcome: Outcome) {
            self.tokens = tokens
            self.unknown = unknown
            self.truncated = truncated
            self.outcome = outcome
        }

        enum CodingKeys: String, CodingKey {
            case tokens, unknown, truncated, prefix, suggestions, text, generated, logProbability, perplexity
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(tokens, forKey: .tokens)
            if unknown > 0 { try c.encode(unknown, forKey: .unknown) }
            if truncated { try c.encode(true, forKey: .truncated) }
            switch outcome {
            case let .suggestions(prefix, items):
                try c.encode(prefix, forKey: .prefix)
                try c.encode(items, forKey: .suggestions)
            case let .generated(text, generated, logProbability):
                try c.encode(text, forKey: .text)
                try c.encode(generated, forKey: .generated)
                try c.encode(logProbability, forKey: .logProbability)
            case let .score(logProbability, tokens):
                try c.encode(logProbability, forKey: .logProbability)
                try c.encode(exp(-logProbability / Double(tokens)), forKey: .perplexity)
            }
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            tokens = try c.decode(Int.self, forKey: .tokens)
            unknown = try c.decodeIfPresent(Int.self, forKey: .unknown) ?? 0
            truncated = try c.decodeIfPresent(Bool.self, forKey: .truncated) ?? false
            if let items = try c.decodeIfPresent([Suggestion].self, forKey: .suggestions) {
                outcome = .suggestions(prefix: try c.decode(String.self, forKey: .prefix), items: items)
            } else if let text = try c.decodeIfPresent(String.self, forKey: .text) {
                outcome = .generated(text: text, tokens: try c.decode(Int.self, forKey: .generated),
                                     logProbability: try c.decode(Double.self, forKey: .logProbability))
            } else {
                outcome = .score(logProbability: try c.decode(Double.self, forKey: .logProbability), tokens: tokens)
            }
        }
    }

    public let vocabulary: Vocabulary
    public let stepper: Stepper
    public let options: Options
    /// An n-gram model mixed into the distributions the `next` and `complete` suggestions come from.
    public let ngram: NGramMixture?
    private let encoder: TextEncoder
    private let index: TokenPrefixIndex
    private let rule: StopRule

    /// A predictor with weights of its own, copied from `model`.
    public convenience init(model: any StreamLanguageModel, vocabulary: Vocabulary, options: Options,
                            precision: Stepper.Precision = .float32, ngram: NGramMixture? = nil) throws {
        try self.init(weights: InferenceWeights(model: model, precision: precision), vocabulary: vocabulary,
                      options: options, ngram: ngram)
    }

    /// A predictor over shared read-only `weights` (any number of predictors and autocompleters can share them).
    public init(weights: InferenceWeights, vocabulary: Vocabulary, options: Options,
                ngram: NGramMixture? = nil) throws {
        guard weights.vocabularySize == vocabulary.count else {
            throw LanguageModelError.vocabularySizeMismatch(model: "(predictor)",
                                                            modelSize: weights.vocabularySize,
                                                            vocabularySize: vocabulary.count)
        }
        precondition(ngram.map { $0.model.vocabularySize == vocabulary.count } ?? true,
                     "the n-gram model's vocabulary is not the model's")
        self.vocabulary = vocabulary
        self.options = options
        self.ngram = ngram
        stepper = Stepper(weights: weights)
        encoder = try TextEncoder(vocabulary)
        index = TokenPrefixIndex(vocabulary)
        rule = StopRule.sentence(in: vocabulary)
    }

    /// Predictions for `lines` (without their line breaks), in order. A line's number seeds its sampling, so the
    /// result of a line does not depend on the lines batched with it.
    ///
    /// Every line starts after the corpus's line break, and a scored line ends on it (``TextEncoder/lineIDs(of:)``):
    /// the line is read as it reads in the training text.
    /// - Throws: `TextError` when a line cannot be tokenized.
    public func predict(_ lines: [(number: Int, text: String)]) throws -> [Prediction] {
        try predict(lines.map { ($0.number, $0.text, false) })
    }

    /// Predictions for `lines`, some of which may be only part of their line: `isPart` says a reader held only the
    /// line's start (for `score`, ``Options/keeps``) or its end (the other tasks), cut where tokenization breaks
    /// (``ContextCap/bytes(forTokens:)``). Such a line is marked truncated, and a scored part does not end on the
    /// line break, so a line of any length is predicted in bounded memory.
    /// - Throws: `TextError` when a line cannot be tokenized.
    public func predict(_ lines: [(number: Int, text: String, isPart: Bool)]) throws -> [Prediction] {
        // Each line: its tokens (for `score` ending on the line break), and for `complete` the partial word.
        var contexts: [[Int32]] = []
        var prefixes: [String] = []
        var truncated: [Bool] = []
        for (_, line, isPart) in lines {
            var ids: [Int32]
            var prefix = ""
            switch options.task {
            case .score:
                ids = isPart ? try encoder.ids(of: line) : try encoder.lineIDs(of: line)
            case .complete:
                let tokens: [String]
                (tokens, prefix) = Autocompleter.splitPartialWord(try encoder.tokens(of: line), of: line)
                ids = encoder.ids(of: tokens)
            case .next, .generate:
                ids = try encoder.ids(of: line)
            }
            let cut: Bool
            (ids, cut) = ContextCap.cut(ids, to: options.maxContext, keeping: options.keeps)
            contexts.append(ids)
            prefixes.append(prefix)
            truncated.append(cut || isPart)
        }
        // Step all lines together, position by position; keep each line's final state and distribution. Only
        // `score` reads a distribution at every position: the other tasks step without the decoder and decode each
        // line's final state once, at the end.
        let n = lines.count, V = stepper.vocabularySize, scores = options.task == .score
        var states = [Stepper.State](repeating: stepper.initialState(), count: n)
        var last = [[Float]](repeating: [], count: n)
        var logProbability = [Double](repeating: 0, count: n)
        var active = Array(0..<n)
        var distributions: [Float] = []
        func step(_ tokens: [Int32], _ batch: inout [Stepper.State]) {
            if scores {
                stepper.step(tokens: tokens, states: &batch, logProbabilities: &distributions)
            } else {
                stepper.advance(tokens: tokens, states: &batch)
            }
        }
        step([Int32](repeating: encoder.lineStart, count: n), &states)
        if scores { for i in 0..<n { last[i] = Array(distributions[(i * V)..<((i + 1) * V)]) } }
        // A scored line's last token (its line break) is predicted, never stepped.
        let stepped = contexts.map { scores ? $0.count - 1 : $0.count }
        var position = 0
        while true {
            if scores {
                for i in active where position < contexts[i].count {
                    logProbability[i] += Double(last[i][Int(contexts[i][position])])
                }
            }
            active = active.filter { position < stepped[$0] }
            guard !active.isEmpty else { break }
            var batch = active.map { states[$0] }
            step(active.map { contexts[$0][position] }, &batch)
            for (j, i) in active.enumerated() {
                states[i] = batch[j]
                if scores { last[i] = Array(distributions[(j * V)..<((j + 1) * V)]) }
            }
            position += 1
        }
        if !scores {
            stepper.distributions(after: states, logProbabilities: &distributions)
            for i in 0..<n { last[i] = Array(distributions[(i * V)..<((i + 1) * V)]) }
        }
        var mixture = ngram
        return (0..<n).map { i in
            let ids = contexts[i]
            let unknown = ids.filter { $0 == Vocabulary.unknownID }.count
            let outcome: Outcome
            switch options.task {
            case .score:
                // The line's end is one of its tokens, as a perplexity over a corpus of lines counts it.
                outcome = .score(logProbability: logProbability[i], tokens: ids.count)
            case .next, .complete:
                if mixture != nil {
                    let history = ([encoder.lineStart] + ids.suffix(KneserNeyModel.maximumOrder))[...]
                    last[i].withUnsafeMutableBufferPointer { mixture!.mix(into: $0, after: history) }
                }
                outcome = .suggestions(prefix: prefixes[i], items: Suggestion.best(
                    options.suggestions, extending: prefixes[i], in: last[i], vocabulary: vocabulary, index: index))
            case .generate:
                var rng = RNG(seed: options.decoding.seed &+ UInt64(truncatingIfNeeded: lines[i].number))
                let continuation = ContinuationSearch.decode(options.decoding, stepper: stepper, state: states[i],
                                                             logProbabilities: last[i], rule: rule, rng: &rng)
                outcome = .generated(text: encoder.text(of: continuation.tokens),
                                     tokens: continuation.tokens.count, logProbability: continuation.logProbability)
            }
            return Prediction(tokens: ids.count, unknown: unknown, truncated: truncated[i], outcome: outcome)
        }
    }
}

/// A result with the number of the input line it is for: encodes as the result's own object with a `line` key
/// added (`{"line": 3, "tokens": …}`), as `quill predict` and `quill complete` print them.
public struct Numbered<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var line: Int
    public var value: Value

    public init(line: Int, value: Value) {
        self.line = line
        self.value = value
    }

    enum CodingKeys: String, CodingKey { case line }

    public func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(line, forKey: .line)
    }

    public init(from decoder: any Decoder) throws {
        line = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .line)
        value = try Value(from: decoder)
    }
}
