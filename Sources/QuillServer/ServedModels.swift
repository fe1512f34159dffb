import Foundation
import Quill
import Synchronization

/// Why a request cannot be served: each becomes a 4xx response with a JSON body naming the problem.
public struct RequestProblem: Error, Equatable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable { case invalid, notFound }
    public var kind: Kind
    public var message: String
    public var description: String { message }

    static func invalid(_ message: String) -> RequestProblem { RequestProblem(kind: .invalid, message: message) }
    static func notFound(_ message: String) -> RequestProblem { RequestProblem(kind: .notFound, message: message) }
}

/// A stored model of a kind the server does not serve (an n-gram model alone, or a kind this build does not know).
public struct NotServable: Error, Equatable, CustomStringConvertible {
    public var model: String
    public var kind: String
    public init(model: String, kind: String) {
        self.model = model
        self.kind = kind
    }
    public var description: String {
        "model '\(model)' is \(kind): quill serve serves language models and translation models"
    }
}

/// The models one server serves, loaded once at start-up: read-only weights shared by every request, and the typing
/// sessions that reuse their state.
///
/// All model work runs on one ``ModelWorker`` thread, off Swift's cooperative threads (a model step is milliseconds of
/// CPU that would otherwise hold one of them); the threads of a step come from Quill's thread pool. Requests of
/// different clients that step a language model (`next`, `score`, `generate`) are stepped together there.
public final class ServedModels: @unchecked Sendable {
    /// Bounds on what clients can make the server hold.
    public struct Limits: Sendable {
        /// Typing sessions kept; the least recently used is dropped for a new one.
        public var sessions = 256
        /// A session unused this long is dropped.
        public var sessionIdleSeconds: Double = 600
        /// The longest text of one request, in UTF-8 bytes (the model reads at most its last ``ContextCap`` tokens).
        public var textBytes = 64 * 1024
        /// Lines of one `/v1/score`, `/v1/embed` or `/v1/anomaly` request.
        public var lines = 256
        /// Tokens one generation may ask for.
        public var generatedTokens = 1024
        public init() {}
    }

    /// How the models step and what the suggestions mix in.
    public struct Options: Sendable {
        /// The language models' weights: float32 (exact) or int8 (a quarter of the memory traffic per step).
        public var precision = Stepper.Precision.float32
        public var limits = Limits()
        /// Lines or streams stepped together at most; 1: no batching across clients.
        public var maxBatch = 64
        /// A stored n-gram model mixed into the suggestions and next-token distributions of every served language
        /// model of its vocabulary, with its share (`--mix`, `--mix-weight`).
        public var mix: (name: String, weight: Float)?
        /// The continuous cache of each session's text (``Autocompleter/documentCache``); nil turns it off.
        public var documentCache: ContinuousCache.Settings? = .default
        /// Show again a word passed over (``Autocompleter/repeatsPassedOver``).
        public var repeatsPassedOver = false
        public init() {}
    }

    /// What `GET /v1/models` lists, in the order given.
    public let list: [ServedModel]
    public let limits: Limits
    /// Tokens generated so far, and generations stopped because their client went away.
    public var generatedTokens: Int { generated.load(ordering: .relaxed) }
    public var abandonedGenerations: Int { abandoned.load(ordering: .relaxed) }
    /// Generations being stepped now.
    public var liveGenerations: Int { live.load(ordering: .relaxed) }
    /// The most lines or streams stepped together so far.
    public var largestBatch: Int { worker.largestBatch.load(ordering: .relaxed) }

    private struct Session {
        var model: String
        var completer: Autocompleter
        var lastUsed: Date
    }

    /// A served language model: the completer of requests without a session (suggestions depend on the text only,
    /// so one completer, which keeps the states of the last text it read, serves them all; sessions share its
    /// weights), its mixture and its encoder.
    private struct LanguageModelEntry: @unchecked Sendable {  // its completer is used on the worker only
        var completer: Autocompleter
        var mixture: NGramMixture?
        var encoder: TextEncoder
    }

    private var worker: ModelWorker!
    // Touched on the worker only.
    private var languageModels: [String: LanguageModelEntry] = [:]
    private var translators: [String: TranslationSystem] = [:]
    private var autoencoders: [String: SequenceAutoencoder] = [:]
    private var sessions: [String: Session] = [:] {
        didSet { counts.store(sessions.count, ordering: .relaxed) }
    }
    /// The number of sessions, readable without waiting for the worker (health checks must not wait behind models).
    private let counts = Atomic<Int>(0)
    private let generated = Atomic<Int>(0), abandoned = Atomic<Int>(0), live = Atomic<Int>(0)

    /// Loads `names` from `store`.
    /// - Throws: `StoreError` for a model the store does not have; ``NotServable`` for an n-gram model (not
    ///   servable alone); `StoredModelError` for one that cannot be rebuilt; the store's error when `options.mix`
    ///   names an n-gram model of no served language model's vocabulary.
    public init(store: Store, models names: [String], options: Options = Options()) throws {
        limits = options.limits
        var list: [ServedModel] = []
        var mixFailure: (any Error)?
        for name in names where !list.contains(where: { $0.name == name }) {
            let record = try store.model(named: name)
            switch ModelFamily(kind: record.kind) {
            case .translation:
                let system = try TranslationSystem(store: store, model: name)
                translators[name] = system
                let reconstructs = system.stored.source.fingerprint == system.stored.target.fingerprint
                autoencoders[name] = try SequenceAutoencoder(system.stored, requireReconstruction: false)
                list.append(ServedModel(name: name, kind: .translation, storedKind: record.kind,
                                        vocabulary: record.vocabularyName, vocabularySize: system.stored.source.count,
                                        targetVocabulary: record.targetVocabularyName,
                                        targetVocabularySize: system.stored.target.count, reconstructs: reconstructs))
            case .recurrentLanguageModel, .convolutionalLanguageModel:
                let (model, vocabulary) = try store.loadStreamLanguageModel(named: name)
                let weights = try InferenceWeights(model: model, precision: options.precision)
                let completer = try Autocompleter(weights: weights, vocabulary: vocabulary)
                var mixture: NGramMixture?
                if let mix = options.mix {
                    do {
                        mixture = NGramMixture(model: try store.ngramModel(named: mix.name, for: name,
                                                                           vocabulary: vocabulary),
                                               weight: mix.weight)
                    } catch { mixFailure = mixFailure ?? error }
                }
                completer.documentCache = options.documentCache
                completer.repeatsPassedOver = options.repeatsPassedOver
                completer.ngram = mixture
                languageModels[name] = LanguageModelEntry(completer: completer, mixture: mixture,
                                                          encoder: try TextEncoder(vocabulary))
                list.append(ServedModel(name: name, kind: .languageModel, storedKind: record.kind,
                                        vocabulary: record.vocabularyName, vocabularySize: vocabulary.count,
                                        mixedWith: mixture == nil ? nil : options.mix?.name))
            case .ngram, nil:
                throw NotServable(model: name, kind: record.kind)
            }
        }
        if let mixFailure, !languageModels.values.contains(where: { $0.mixture != nil }) { throw mixFailure }
        self.list = list
        let entries = languageModels
        worker = ModelWorker(maxBatch: options.maxBatch,
                             steppers: entries.mapValues { Stepper(weights: $0.completer.stepper.weights) }) { q in
            let entry = entries[q.model]!
            return try Predictor(weights: entry.completer.stepper.weights, vocabulary: entry.completer.vocabulary,
                                 options: Predictor.Options(task: q.task, suggestions: q.k), ngram: entry.mixture)
        }
    }

    /// Sessions held now; answered at once, even while the models are busy.
    public var sessionCount: Int { counts.load(ordering: .relaxed) }

    /// Suggestions for a text being typed.
    public func suggest(_ request: SuggestRequest) async throws -> Suggestions {
        let k = request.k ?? 5
        try check(k, in: 1...50, "k")
        try checkText(request.text)
        if let id = request.session {
            guard (1...64).contains(id.utf8.count),
                  id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
            else { throw RequestProblem.invalid("session must be 1…64 ASCII letters, digits, '-' or '_'") }
        }
        let name = try modelName(request.model, kind: .languageModel)
        return try await worker.run { [self] in
            let completer = try completer(for: name, session: request.session)
            completer.k = k
            return try completer.suggestions(for: request.text, continuation: request.continuation ?? true)
        }
    }

    /// The most likely next tokens after a text (`quill predict --task next`), stepped with the other clients'.
    public func next(_ request: NextRequest) async throws -> Predictor.Prediction {
        let k = request.k ?? 10
        try check(k, in: 1...50, "k")
        try checkLine(request.text, "text")
        let name = try modelName(request.model, kind: .languageModel)
        return try await worker.predict(request.text, question: .init(model: name, task: .next, k: k))
    }

    /// Each line's log-probability (`quill predict --task score`), stepped with the other clients' lines.
    public func score(_ request: ScoreRequest) async throws -> Scores {
        try checkLines(request.lines)
        let name = try modelName(request.model, kind: .languageModel)
        let question = ModelWorker.Question(model: name, task: .score, k: 1)
        return try await Scores(scores: withThrowingTaskGroup(of: (Int, Predictor.Prediction).self) { group in
            for (i, line) in request.lines.enumerated() {
                group.addTask { [worker] in (i, try await worker!.predict(line, question: question)) }
            }
            var scores = [Predictor.Prediction?](repeating: nil, count: request.lines.count)
            for try await (i, score) in group { scores[i] = score }
            return scores.map { $0! }
        })
    }

    /// A continuation of a prompt, as `quill generate` makes it: its events (`token`s, then `done`), produced as the
    /// worker steps it with the other live generations. Ending the iteration (the client went away) stops the
    /// generation before its next step.
    public func generate(_ request: GenerateRequest) async throws -> AsyncStream<GenerationEvent> {
        let options = request.decoding
        do { try options.validate() } catch { throw RequestProblem.invalid("\(error)") }
        try check(options.maxTokens, in: 1...limits.generatedTokens, "maxTokens")
        try check(options.beamWidth, in: 1...16, "beam")
        if let topK = options.topK { try check(topK, in: 1...1_000_000, "topK") }
        try checkLine(request.prompt, "prompt")
        let name = try modelName(request.model, kind: .languageModel)
        let entry = try await worker.run { [self] in languageModels[name]! }
        let rule = StopRule.lineEnd(in: entry.completer.vocabulary)
        let ids = try await worker.run {
            [entry.encoder.lineStart] + ContextCap.cut(try entry.encoder.ids(of: request.prompt),
                                                         to: ContextCap.defaultTokens, keeping: .end).ids
        }
        let (events, sink) = AsyncStream.makeStream(of: GenerationEvent.self)
        let stepper = entry.completer.stepper
        if !options.samples && options.beamWidth > 1 {
            // A beam's best continuation is known only at its end: one task, its tokens sent together.
            Task { [self] in
                let continuation = (try? await worker.run {
                    ContinuationSearch.decode(options, stepper: stepper, after: ids, rule: rule)
                }) ?? Continuation(tokens: [], logProbability: 0)
                generated.add(continuation.tokens.count, ordering: .relaxed)
                for (i, token) in continuation.tokens.enumerated() {
                    sink.yield(.token(GeneratedToken(index: i, text: entry.encoder.text(of: [token]),
                                                     logProbability: nil)))
                }
                sink.yield(.done(Generation(prompt: request.prompt, text: entry.encoder.text(of: continuation.tokens),
                                            generated: continuation.tokens.count,
                                            logProbability: continuation.logProbability)))
                sink.finish()
            }
            return events
        }
        live.add(1, ordering: .relaxed)
        let stream = GenerationStream(
            model: name, prompt: ids, promptText: request.prompt, initialState: stepper.initialState(),
            draw: ContinuationDraw(options, rule: rule), encoder: entry.encoder,
            send: { sink.yield($0) }, finish: { sink.finish() },
            ended: { [self] tokens, cancelled in
                generated.add(tokens, ordering: .relaxed)
                if cancelled { abandoned.add(1, ordering: .relaxed) }
                live.subtract(1, ordering: .relaxed)
            })
        sink.onTermination = { termination in
            if case .cancelled = termination { stream.cancel() }
        }
        worker.start(stream)
        return events
    }

    /// One sentence translated.
    public func translate(_ request: TranslateRequest) async throws -> TranslationSystem.Translation {
        let beam = request.beam ?? 5, nbest = request.nbest ?? 1
        try check(beam, in: 1...64, "beam")
        try check(nbest, in: 1...beam, "nbest")
        try checkLine(request.text, "text")
        let name = try modelName(request.model, kind: .translation)
        return try await worker.run { [self] in
            var options = Translator.Options(beam: beam, nbest: nbest)
            options.attention = request.attention ?? false
            return try translators[name]!.translate([request.text], options: options)[0]
        }
    }

    /// Each line's vector from an encoder-decoder's encoder (`quill embed`).
    public func embed(_ request: LinesRequest) async throws -> Embeddings {
        try checkLines(request.lines)
        let name = try modelName(request.model, kind: .translation)
        return try await worker.run { [self] in Embeddings(embeddings: try autoencoders[name]!.embed(request.lines)) }
    }

    /// Each line's reconstruction loss under a sequence autoencoder (`quill anomaly`); without a model named, the
    /// first served one whose vocabularies are one.
    public func anomalies(_ request: LinesRequest) async throws -> Anomalies {
        try checkLines(request.lines)
        let name: String
        if let named = request.model {
            name = try modelName(named, kind: .translation)
            guard list.first(where: { $0.name == name })?.reconstructs == true else {
                throw RequestProblem.invalid("model '\(name)' translates between two vocabularies, so it cannot "
                    + "score how well it reproduces a line: /v1/anomaly needs a sequence autoencoder (quill "
                    + "autoencoder train)")
            }
        } else {
            guard let first = list.first(where: { $0.reconstructs == true }) else {
                throw RequestProblem.notFound("no sequence autoencoder is served (a translation model whose two "
                    + "vocabularies are one; quill autoencoder train makes one)")
            }
            name = first.name
        }
        return try await worker.run { [self] in
            Anomalies(anomalies: try autoencoders[name]!.anomalies(request.lines))
        }
    }

    // MARK: - Helpers

    private func check(_ value: Int, in range: ClosedRange<Int>, _ name: String) throws {
        guard range.contains(value) else {
            throw RequestProblem.invalid("\(name) must be \(range.lowerBound)…\(range.upperBound) (got \(value))")
        }
    }

    private func checkText(_ text: String) throws {
        guard text.utf8.count <= limits.textBytes else {
            throw RequestProblem.invalid("text is \(text.utf8.count) bytes; the limit is \(limits.textBytes)")
        }
    }

    /// A text that must be one line.
    private func checkLine(_ text: String, _ name: String) throws {
        try checkText(text)
        guard !text.contains(where: \.isNewline) else {
            throw RequestProblem.invalid("\(name) must be one line, without a line break")
        }
    }

    private func checkLines(_ lines: [String]) throws {
        try check(lines.count, in: 1...limits.lines, "the number of lines")
        for (i, line) in lines.enumerated() {
            do { try checkLine(line, "each line") } catch let problem as RequestProblem {
                throw RequestProblem.invalid("line \(i + 1): \(problem.message)")
            }
        }
    }

    /// The model a request names, or the first served of `kind`.
    private func modelName(_ name: String?, kind: ServedModel.Kind) throws -> String {
        if let name {
            guard let served = list.first(where: { $0.name == name }) else {
                throw RequestProblem.notFound("no model '\(name)' is served (GET /v1/models lists them)")
            }
            guard served.kind == kind else {
                throw RequestProblem.invalid("model '\(name)' is a \(served.kind.rawValue) model, not a "
                    + "\(kind.rawValue) model")
            }
            return name
        }
        guard let first = list.first(where: { $0.kind == kind }) else {
            throw RequestProblem.notFound("no \(kind.rawValue) model is served")
        }
        return first.name
    }

    /// The session's completer (made, or remade for another model), or the model's shared one. On the worker.
    private func completer(for model: String, session id: String?) throws -> Autocompleter {
        let entry = languageModels[model]!
        guard let id else { return entry.completer }
        let now = Date()
        sessions = sessions.filter { now.timeIntervalSince($0.value.lastUsed) < limits.sessionIdleSeconds }
        if var session = sessions[id], session.model == model {
            session.lastUsed = now
            sessions[id] = session
            return session.completer
        }
        if sessions[id] == nil, sessions.count >= limits.sessions,
           let oldest = sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            sessions[oldest.key] = nil
        }
        let completer = Autocompleter(sessionLike: entry.completer)
        sessions[id] = Session(model: model, completer: completer, lastUsed: now)
        return completer
    }
}
