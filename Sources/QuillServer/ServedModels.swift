import Foundation
import Quill

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
/// The model work of all requests runs on one serial queue, off Swift's cooperative threads (a model step is
/// milliseconds of CPU that would otherwise hold one of them); the threads of a step come from Quill's thread pool.
public final class ServedModels: @unchecked Sendable {
    /// Bounds on what clients can make the server hold.
    public struct Limits: Sendable {
        /// Typing sessions kept; the least recently used is dropped for a new one.
        public var sessions = 256
        /// A session unused this long is dropped.
        public var sessionIdleSeconds: Double = 600
        /// The longest text of one request, in UTF-8 bytes (the model reads at most its last ``ContextCap`` tokens).
        public var textBytes = 64 * 1024
        public init() {}
    }

    /// How the models step.
    public struct Options: Sendable {
        /// The language models' weights: float32 (exact) or int8 (a quarter of the memory traffic per step).
        public var precision = Stepper.Precision.float32
        public var limits = Limits()
        public init() {}
    }

    /// What `GET /v1/models` lists, in the order given.
    public let list: [ServedModel]
    public let limits: Limits
    public let precision: Stepper.Precision


    private struct Session {
        var model: String
        var completer: Autocompleter
        var lastUsed: Date
    }

    private let queue = DispatchQueue(label: "quill.serve.models")
    // Touched on `queue` only.
    /// Per language model, the completer of requests without a session: suggestions depend on the text only, so one
    /// completer (which keeps the states of the last text it read) serves them all. Sessions share its weights.
    private var languageModels: [String: Autocompleter] = [:]
    private var translators: [String: TranslationSystem] = [:]
    private var sessions: [String: Session] = [:] {
        didSet { counts.withLock { $0 = sessions.count } }
    }
    /// The number of sessions, readable without waiting for the queue (health checks must not wait behind models).
    private let counts = LockedCount()

    /// Loads `names` from `store`.
    /// - Throws: `StoreError` for a model the store does not have; ``NotServable`` for an n-gram model (not
    ///   servable alone); `StoredModelError` for one that cannot be rebuilt.
    public init(store: Store, models names: [String], options: Options = Options()) throws {
        limits = options.limits
        precision = options.precision
        var list: [ServedModel] = []
        for name in names where !list.contains(where: { $0.name == name }) {
            let record = try store.model(named: name)
            switch ModelFamily(kind: record.kind) {
            case .translation:
                let system = try TranslationSystem(store: store, model: name)
                translators[name] = system
                list.append(ServedModel(name: name, kind: .translation, storedKind: record.kind,
                                        vocabulary: record.vocabularyName, vocabularySize: system.stored.source.count,
                                        targetVocabulary: record.targetVocabularyName,
                                        targetVocabularySize: system.stored.target.count))
            case .recurrentLanguageModel, .convolutionalLanguageModel:
                let (model, vocabulary) = try store.loadStreamLanguageModel(named: name)
                let weights = try InferenceWeights(model: model, precision: precision)
                languageModels[name] = try Autocompleter(weights: weights, vocabulary: vocabulary)
                list.append(ServedModel(name: name, kind: .languageModel, storedKind: record.kind,
                                        vocabulary: record.vocabularyName, vocabularySize: vocabulary.count))
            case .ngram, nil:
                throw NotServable(model: name, kind: record.kind)
            }
        }
        self.list = list
    }

    /// Sessions held now; answered at once, even while the models are busy.
    public var sessionCount: Int { counts.withLock { $0 } }

    /// Suggestions for a text being typed.
    public func suggest(_ request: SuggestRequest) async throws -> Suggestions {
        let k = request.k ?? 5
        guard (1...50).contains(k) else { throw RequestProblem.invalid("k must be 1…50 (got \(k))") }
        try checkText(request.text)
        if let id = request.session {
            guard (1...64).contains(id.utf8.count),
                  id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
            else { throw RequestProblem.invalid("session must be 1…64 ASCII letters, digits, '-' or '_'") }
        }
        let name = try modelName(request.model, kind: .languageModel)
        return try await onQueue { [self] in
            let completer = try completer(for: name, session: request.session)
            completer.k = k
            return try completer.suggestions(for: request.text, continuation: request.continuation ?? true)
        }
    }

    /// One sentence translated.
    public func translate(_ request: TranslateRequest) async throws -> TranslationSystem.Translation {
        let beam = request.beam ?? 5, nbest = request.nbest ?? 1
        guard (1...64).contains(beam) else { throw RequestProblem.invalid("beam must be 1…64 (got \(beam))") }
        guard (1...beam).contains(nbest) else {
            throw RequestProblem.invalid("nbest must be 1…beam (\(beam)) (got \(nbest))")
        }
        try checkText(request.text)
        guard !request.text.contains(where: \.isNewline) else {
            throw RequestProblem.invalid("text must be one sentence, without a line break")
        }
        let name = try modelName(request.model, kind: .translation)
        return try await onQueue { [self] in
            var options = Translator.Options(beam: beam, nbest: nbest)
            options.attention = request.attention ?? false
            return try translators[name]!.translate([request.text], options: options)[0]
        }
    }

    // MARK: - Helpers

    private func checkText(_ text: String) throws {
        guard text.utf8.count <= limits.textBytes else {
            throw RequestProblem.invalid("text is \(text.utf8.count) bytes; the limit is \(limits.textBytes)")
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

    /// The session's completer (made, or remade for another model), or the model's shared one. On `queue`.
    private func completer(for model: String, session id: String?) throws -> Autocompleter {
        let shared = languageModels[model]!
        guard let id else { return shared }
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
        let completer = try Autocompleter(weights: shared.stepper.weights, vocabulary: shared.vocabulary)
        sessions[id] = Session(model: model, completer: completer, lastUsed: now)
        return completer
    }

    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}

/// An integer behind a lock.
private final class LockedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func withLock<T>(_ body: (inout Int) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
