import Foundation

/// One suggestion: a vocabulary entry and what to append to the typed text to take it.
///
/// Encodes as `{"token", "completion", "probability"}`, the same in every result that holds suggestions.
public struct Suggestion: Sendable, Equatable, Codable {
    /// The vocabulary entry (for a character model: the word completed), e.g. `" harbour"`.
    public var token: String
    /// What to append to the typed text, e.g. `"bour"` after `"The har"`.
    public var completion: String
    /// The model's probability of the entry (for a character model: of the completion's characters).
    public var probability: Double
}

extension Suggestion {
    /// The `k` most likely entries of `index` extending `prefix` under `logProbabilities`, best first, each with what
    /// to append to the typed prefix to take it. Unless `repeatsPassedOver`, entries that were shown for a shorter
    /// prefix of the word are left out (see ``WordSuggestions``).
    static func best(_ k: Int, extending prefix: String, in logProbabilities: [Float], vocabulary: Vocabulary,
                     index: TokenPrefixIndex, repeatsPassedOver: Bool = true) -> [Suggestion] {
        logProbabilities.withUnsafeBufferPointer { distribution in
            WordSuggestions.shown(k: k, repeatsPassedOver: repeatsPassedOver, for: prefix,
                                  from: String(prefix.prefix { $0.isWhitespace }), in: distribution, index: index)
        }.map { scored in
            let token = vocabulary[scored.id]
            return Suggestion(token: token,
                              completion: String(decoding: token.utf8.dropFirst(prefix.utf8.count), as: UTF8.self),
                              probability: exp(Double(scored.logProbability)))
        }
    }
}

/// What the autocompleter offers for a text.
///
/// Encodes as `{"text", "prefix", "suggestions": [Suggestion], "continuation", "note"}` (`note` left out when nil).
public struct Suggestions: Sendable, Equatable, Codable {
    /// The text they are for.
    public var text: String
    /// The partial word being completed (`""` at a word boundary; a typed space for the next word).
    public var prefix: String
    /// Best first, at most ``Autocompleter/k``.
    public var items: [Suggestion]
    /// Ghost text: the best continuation to append after the typed text (may be empty).
    public var continuation: String
    /// A remark for the user, e.g. when most of the text is unknown to the model.
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case text, prefix, items = "suggestions", continuation, note
    }
}

/// Suggestions while typing, from a language model: the next words (or the completions of the word being typed) and
/// a multi-word continuation.
///
/// Incremental: the recurrent state after each token of the text is cached, with the next-token distribution after
/// the last, so a new keystroke steps only the tokens that changed, and a keystroke inside a word steps nothing: the
/// cached distribution is filtered by the typed prefix (``TokenPrefixIndex``). Continuations are cached per context
/// and first word. Word-level models complete from their vocabulary; character-level models by stepping characters.
///
/// Memory stays bounded whatever is typed or piped in: a text is read to its last ``maxContext`` tokens
/// (``ContextCap``), so at most that many states are cached, and one distribution (not one per token).
public final class Autocompleter {
    public let vocabulary: Vocabulary
    public let stepper: Stepper
    /// Suggestions offered.
    public var k = 5 { didSet { precondition(k >= 1) } }
    /// How the continuation (the ghost text) is chosen: by default the best of a beam search of width 4, at most 8
    /// tokens (for a character model, 6 characters per token). See ``DecodingOptions`` for the temperature.
    public var decoding = DecodingOptions(beamWidth: 4, maxTokens: 8) { didSet { resetContinuations() } }
    /// Whether a word shown while typing a word, and passed over, is shown again for a longer prefix of it (see
    /// ``WordSuggestions``). The ghost continuation always starts with the most likely completion.
    public var repeatsPassedOver = false
    /// Texts longer than this many tokens are read to their last tokens (``ContextCap``); the suggestions then carry
    /// a note. It bounds the states cached (``cachedSteps``).
    public var maxContext = ContextCap.defaultTokens {
        didSet {
            precondition(maxContext >= 1)
            restart()
        }
    }
    /// The continuous cache mixed into a word model's distributions: words of the text typed so far come back
    /// sooner (``ContinuousCache``). `nil` turns it off. Character models do not use it.
    /// Changing it forgets the context (``appendContext(_:)``).
    public var documentCache: ContinuousCache.Settings? = .default { didSet { clearContext() } }
    /// An n-gram model of the same vocabulary mixed into the model's distribution, before the cache (see
    /// ``NGramMixture``). Changing it forgets the context.
    public var ngram: NGramMixture? {
        get { mixture }
        set {
            precondition(newValue.map { $0.model.vocabularySize == vocabulary.count } ?? true,
                         "the n-gram model's vocabulary is not the model's")
            mixture = newValue
            clearContext()
        }
    }
    /// ``ngram`` (mixing uses its scratch space: a mutation that must not restart the cache).
    private var mixture: NGramMixture?
    /// Tokens of typed text stepped through the model so far (continuation searches not counted).
    public private(set) var textSteps = 0
    /// Continuation searches run so far (each steps the model several times).
    public private(set) var continuationSearches = 0

    private let encoder: TextEncoder
    private let index: TokenPrefixIndex
    private let rule: StopRule
    private let isCharacterModel: Bool
    /// The state and (unmixed) next-token distribution after the line start and the context.
    private var start: (state: Stepper.State, logProbabilities: [Float])
    /// The continuous cache of the context.
    private var contextCache: ContinuousCache?
    /// The last tokens of the line start and the context: the n-gram model's history before the text.
    private var contextTail: [Int32] = []
    /// `cache[i]`: the state after `start` and `cachedIDs[..<i]` (at most ``maxContext`` ids).
    private var cachedIDs: [Int32] = []
    private var cache: [Stepper.State] = []
    /// The (mixed) next-token distribution after the last cached state: one, not one per token (a vocabulary-sized
    /// distribution per token grew by kilobytes per byte of a piped line).
    private var lastLogProbabilities: [Float] = []
    /// The continuation after each first word (for a character model, under the key `""`: the whole of it).
    private var continuations: [String: String] = [:]
    /// The continuous cache of `cachedIDs[..<cachedPositions]` (their states' hidden states and the tokens after).
    private var positionCache: ContinuousCache?
    private var cachedPositions = 0

    /// - Throws: ``LanguageModelError/vocabularySizeMismatch(model:modelSize:vocabularySize:)``; `TextError` when the
    ///   vocabulary's tokenizer settings cannot be loaded.
    public convenience init(model: any StreamLanguageModel, vocabulary: Vocabulary,
                            precision: Stepper.Precision = .float32) throws {
        try self.init(weights: InferenceWeights(model: model, precision: precision), vocabulary: vocabulary)
    }

    /// An autocompleter (one typing session) over shared read-only `weights`: its own state, caches and scratch.
    public init(weights: InferenceWeights, vocabulary: Vocabulary) throws {
        guard weights.vocabularySize == vocabulary.count else {
            throw LanguageModelError.vocabularySizeMismatch(model: "(autocompleter)",
                                                            modelSize: weights.vocabularySize,
                                                            vocabularySize: vocabulary.count)
        }
        self.vocabulary = vocabulary
        stepper = Stepper(weights: weights)
        encoder = try TextEncoder(vocabulary)
        index = TokenPrefixIndex(vocabulary)
        rule = StopRule.sentence(in: vocabulary)
        isCharacterModel = vocabulary.settings.level == .character
        start = Self.lineStart(stepper, encoder)
        contextTail = [encoder.lineStart]
        restart()
    }

    /// A new session like `other`: the same read-only weights, vocabulary and settings (suggestions, decoding, cache,
    /// n-gram mixture), sharing its tokenizer and prefix index, which are built once per vocabulary (for a 10k-word
    /// vocabulary they cost far more than the one step a session starts with). Its context is empty.
    public init(sessionLike other: Autocompleter) {
        vocabulary = other.vocabulary
        stepper = Stepper(weights: other.stepper.weights)
        encoder = other.encoder
        index = other.index
        rule = other.rule
        isCharacterModel = other.isCharacterModel
        k = other.k
        decoding = other.decoding
        repeatsPassedOver = other.repeatsPassedOver
        maxContext = other.maxContext
        documentCache = other.documentCache
        mixture = other.mixture
        start = Self.lineStart(stepper, encoder)
        contextTail = [encoder.lineStart]
        restart()
    }

    /// Reads `line` (and the corpus's line break after it, see ``TextEncoder/lineIDs(of:)``) as text typed before the text of ``suggestions(for:continuation:)``:
    /// the model's state starts after it, and the continuous cache remembers it. `quill complete` appends each line
    /// committed, so suggestions follow the whole session, as the keystroke savings are measured on running text.
    /// - Throws: `TextError` when the line cannot be tokenized.
    public func appendContext(_ line: String) throws {
        var (state, logProbabilities) = start
        let width = stepper.outputWidth
        for id in try encoder.lineIDs(of: line) {
            contextTail = Array((contextTail + [id]).suffix(KneserNeyModel.maximumOrder))
            if let settings = documentCache, !isCharacterModel {
                if contextCache == nil { contextCache = ContinuousCache(settings: settings, width: width) }
                contextCache!.append(hidden: state.hidden.suffix(width), next: id)
            }
            logProbabilities = stepper.step(token: id, state: &state)
        }
        start = (state, logProbabilities)
        restart()
    }

    /// The state and distribution after the line start alone: where every text starts without a context.
    private static func lineStart(_ stepper: Stepper, _ encoder: TextEncoder) -> (Stepper.State, [Float]) {
        var state = stepper.initialState()
        let logProbabilities = stepper.step(token: encoder.lineStart, state: &state)
        return (state, logProbabilities)
    }

    /// Forgets the context: suggestions start from the beginning of a line again.
    public func clearContext() {
        start = Self.lineStart(stepper, encoder)
        contextCache = nil
        contextTail = [encoder.lineStart]
        restart()
    }

    /// The suggestions for `text` (the whole text typed so far).
    /// - Parameter continuation: search the continuation (the ghost text) if it is not cached. Without, the
    ///   suggestions of a word model need at most the steps of new words of the text (none inside a word), and
    ///   ``Suggestions/continuation`` is empty unless cached: an interactive caller asks again with it once typing
    ///   pauses.
    /// - Throws: `TextError` when the text cannot be tokenized.
    public func suggestions(for text: String, continuation: Bool = true) throws -> Suggestions {
        isCharacterModel ? try characterSuggestions(for: text)
            : try wordSuggestions(for: text, searchingContinuation: continuation)
    }

    /// States cached for the text (one more than its tokens read): at most ``maxContext`` + 1.
    public var cachedSteps: Int { cache.count }

    private func wordSuggestions(for text: String, searchingContinuation: Bool) throws -> Suggestions {
        let (tokens, prefix) = Self.splitPartialWord(try encoder.tokens(of: text), of: text)
        let (ids, truncated) = ContextCap.cut(encoder.ids(of: tokens), to: maxContext, keeping: .end)
        let (state, logProbabilities) = advance(to: ids)
        let items = Suggestion.best(k, extending: prefix, in: logProbabilities, vocabulary: vocabulary, index: index,
                                    repeatsPassedOver: repeatsPassedOver)
        // The ghost text starts with the most likely completion, passed over or not.
        let ghostStart = repeatsPassedOver ? items.first
            : Suggestion.best(1, extending: prefix, in: logProbabilities, vocabulary: vocabulary, index: index).first
        var continuation = ""
        if let best = ghostStart {
            let key = best.token
            // What follows the first word depends on the word, not on how much of it is typed.
            if let rest = continuations[key] {
                continuation = best.completion + rest
            } else if searchingContinuation {
                var next = state
                let id = encoder.id(of: best.token)
                let after = rule.isFinal(id) ? [] : stepper.step(token: id, state: &next)
                let rest = rule.isFinal(id) ? "" : string(of: bestContinuation(from: next, logProbabilities: after,
                                                                      maxTokens: decoding.maxTokens))
                continuation = best.completion + rest
                continuations[key] = rest
            }
        }
        return Suggestions(text: text, prefix: prefix, items: items, continuation: continuation,
                           note: note(unknown: ids.filter { $0 == Vocabulary.unknownID }.count, of: ids.count,
                                      truncated: truncated))
    }

    private func characterSuggestions(for text: String) throws -> Suggestions {
        let (ids, truncated) = ContextCap.cut(try encoder.ids(of: text), to: maxContext, keeping: .end)
        let prefix = String(text.reversed().prefix(while: Self.isWordCharacter).reversed())
        let (state, logProbabilities) = advance(to: ids)
        let note = note(unknown: ids.filter { $0 == Vocabulary.unknownID }.count, of: ids.count, truncated: truncated)
        if let cached = continuations[""], let items = cachedCharacterItems {
            return Suggestions(text: text, prefix: prefix, items: items, continuation: cached, note: note)
        }
        // The word being typed (or the next one), completed character by character.
        let wordEnd = StopRule(excluded: rule.excluded, isFinal: { _ in false }, isStop: { [vocabulary] id in
            !(vocabulary[id].last.map(Autocompleter.isWordCharacter) ?? false)
        })
        let items = ContinuationSearch.beam(stepper: stepper, state: state, logProbabilities: logProbabilities,
                                            width: k, maxTokens: 24, lengthPenalty: 0, rule: wordEnd).map {
            let completion = self.string(of: $0)
            return Suggestion(token: prefix + completion, completion: completion, probability: exp($0.logProbability))
        }
        let continuation = string(of: bestContinuation(from: state, logProbabilities: logProbabilities,
                                             maxTokens: decoding.maxTokens * 6))
        cachedCharacterItems = items
        continuations[""] = continuation
        return Suggestions(text: text, prefix: prefix, items: items, continuation: continuation, note: note)
    }

    private var cachedCharacterItems: [Suggestion]?

    /// The continuation after a state, as ``decoding`` chooses it.
    private func bestContinuation(from state: Stepper.State, logProbabilities: [Float], maxTokens: Int) -> Continuation {
        guard maxTokens > 0, !logProbabilities.isEmpty else { return Continuation(tokens: [], logProbability: 0) }
        continuationSearches += 1
        var rng = RNG(seed: decoding.seed)
        return ContinuationSearch.decode(decoding, stepper: stepper, state: state, logProbabilities: logProbabilities,
                                         maxTokens: maxTokens, rule: rule, rng: &rng)
    }

    /// Steps the cached stream to `ids`: keeps the longest common prefix and steps only the rest. Going back (a
    /// deleted word) steps the last token kept once more, for its distribution.
    private func advance(to ids: [Int32]) -> (Stepper.State, [Float]) {
        var common = 0
        while common < ids.count, common < cachedIDs.count, ids[common] == cachedIDs[common] { common += 1 }
        guard common < cachedIDs.count || common < ids.count else {
            return (cache[cache.count - 1], lastLogProbabilities)
        }
        resetContinuations()
        if cachedPositions > common { positionCache = nil }  // it remembers tokens that are gone
        cachedIDs.removeLast(cachedIDs.count - common)
        cache.removeLast(cache.count - 1 - common)
        if common == ids.count {
            if common == 0 {
                lastLogProbabilities = start.logProbabilities
            } else {
                var state = cache[common - 1]
                lastLogProbabilities = stepper.step(token: cachedIDs[common - 1], state: &state)
                textSteps += 1
            }
        }
        // Only the last new token's distribution is read: the others step without the decoder.
        for id in ids[common...] {
            var state = cache[cache.count - 1]
            stepper.advance(token: id, state: &state)
            textSteps += 1
            cachedIDs.append(id)
            cache.append(state)
        }
        if common < ids.count { lastLogProbabilities = stepper.distribution(after: cache[cache.count - 1]) }
        // Only the last distribution is kept, so only it is mixed (the continuous cache takes in every state).
        adjust(&lastLogProbabilities, state: cache[cache.count - 1])
        return (cache[cache.count - 1], lastLogProbabilities)
    }

    /// Mixes the n-gram model, then the continuous cache of the context and of `cachedIDs`, into the model's
    /// distribution after them.
    private func adjust(_ logProbabilities: inout [Float], state: Stepper.State) {
        if mixture != nil {
            let history = (contextTail + cachedIDs.suffix(KneserNeyModel.maximumOrder)).suffix(KneserNeyModel.maximumOrder)
            logProbabilities.withUnsafeMutableBufferPointer { mixture!.mix(into: $0, after: history) }
        }
        guard let settings = documentCache, !isCharacterModel else { return }
        let width = stepper.outputWidth
        let positions = cachedIDs.count  // entry i: the state cache[i] and the token that followed it, cachedIDs[i]
        if positionCache == nil || cachedPositions > positions {
            positionCache = contextCache ?? ContinuousCache(settings: settings, width: width)
            cachedPositions = max(0, positions - settings.capacity)
        }
        while cachedPositions < positions {
            positionCache!.append(hidden: cache[cachedPositions].hidden.suffix(width),
                                  next: cachedIDs[cachedPositions])
            cachedPositions += 1
        }
        logProbabilities.withUnsafeMutableBufferPointer { distribution in
            Array(state.hidden.suffix(width)).withUnsafeBufferPointer { positionCache!.mix(into: distribution, hidden: $0) }
        }
    }

    /// Drops every cached step of the text: the cache starts again after ``start``.
    private func restart() {
        cachedIDs = []
        positionCache = nil
        cachedPositions = 0
        cache = [start.state]
        lastLogProbabilities = start.logProbabilities
        adjust(&lastLogProbabilities, state: start.state)
        resetContinuations()
    }

    private func resetContinuations() {
        continuations = [:]
        cachedCharacterItems = nil
    }

    private func string(of continuation: Continuation) -> String { encoder.text(of: continuation.tokens) }

    private func note(unknown: Int, of count: Int, truncated: Bool) -> String? {
        let cut = truncated ? "the text is longer than \(maxContext) tokens; suggestions follow its last \(maxContext)"
            : nil
        guard count >= 2, unknown * 2 > count else { return cut }
        let unknownNote = "most of the text is unknown to the model's vocabulary (\(unknown) of \(count) tokens are "
            + "<unk>); suggestions follow little of it"
        return cut.map { $0 + "; " + unknownNote } ?? unknownNote
    }

    /// The tokens of `text` before the word being typed, and that partial word: the last token when the text ends
    /// inside a word, or typed spaces (then the next word completes them); `""` after punctuation or a line break.
    static func splitPartialWord(_ tokens: [String], of text: String) -> (context: [String], prefix: String) {
        guard let last = tokens.last, let lastCharacter = text.last,
              last.allSatisfy({ $0 == " " }) || isWordCharacter(lastCharacter) else { return (tokens, "") }
        return (Array(tokens.dropLast()), last)
    }

    /// Letters, digits and the apostrophe and hyphen inside words.
    static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "'" || c == "-" }
}

extension StopRule {
    /// Continuations end after a sentence's final punctuation and before a line break or `<eos>`; the specials
    /// `<unk>`, `<bos>` and `<pad>` are never produced.
    public static func sentence(in vocabulary: Vocabulary) -> StopRule {
        let final = Set((0..<Int32(vocabulary.count)).filter {
            let token = vocabulary[$0].trimmingCharacters(in: .whitespaces)
            return [".", "!", "?", "…"].contains(token)
        })
        let stop = Set((0..<Int32(vocabulary.count)).filter {
            $0 == Vocabulary.endID || vocabulary[$0].contains(where: \.isNewline)
        })
        return StopRule(excluded: [Vocabulary.unknownID, Vocabulary.beginID, Vocabulary.padID],
                        isFinal: { final.contains($0) }, isStop: { stop.contains($0) })
    }

    /// Where a generation ends (`quill generate`, `/v1/generate`): before a line break or `<eos>` only, a sentence's
    /// end not ending it; the specials are never produced, as in ``sentence(in:)``.
    public static func lineEnd(in vocabulary: Vocabulary) -> StopRule {
        let sentence = StopRule.sentence(in: vocabulary)
        return StopRule(excluded: sentence.excluded, isStop: sentence.isStop)
    }
}
