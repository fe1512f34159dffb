import Foundation
import Quill
import Synchronization

/// The one thread that runs the models, and where requests from different clients are stepped together.
///
/// Work arrives in three forms, and each turn of the thread takes all that is waiting:
/// - **tasks**, run one after another (a typing session's suggestions, a translation, embeddings);
/// - **lines** to predict (`/v1/next`, `/v1/score`): those of one model and question are given to one
///   ``Predictor`` call, which steps them all together position by position;
/// - **streams** (`/v1/generate`): every live stream of a model advances by one token in one batched step per turn,
///   a new stream joining at the next turn (continuous batching), a cancelled one leaving before it.
///
/// A batched step reads each weight once for all its streams, so throughput grows with the number of clients instead
/// of queueing. ``maxBatch`` caps the streams or lines of one step; 1 turns batching off (each is stepped alone, the
/// baseline the load script compares with). The thread never waits on a client: events go into unbounded-but-capped
/// buffers (a stream's tokens are at most its `maxTokens`), so a slow reader holds no model time.
final class ModelWorker: @unchecked Sendable {
    /// A question asked of many lines with one ``Predictor``: a model, a task and a suggestion count.
    struct Question: Hashable {
        var model: String
        var task: Predictor.Task
        var k: Int
    }

    /// A line waiting for its prediction.
    struct PendingLine {
        var question: Question
        var text: String
        var reply: @Sendable (Result<Predictor.Prediction, any Error>) -> Void
    }

    let maxBatch: Int
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var tasks: [() -> Void] = []
    private var lines: [PendingLine] = []
    private var arrivals: [GenerationStream] = []
    // On the worker thread only.
    private var streams: [GenerationStream] = []
    private var predictors: [Question: Predictor] = [:]
    private var distributions: [Float] = []
    private let makePredictor: (Question) throws -> Predictor
    private let steppers: [String: Stepper]

    /// The largest number of lines or streams stepped together so far (tests read it).
    let largestBatch = Atomic<Int>(0)

    /// - Parameters:
    ///   - steppers: per language model, the stepper the streams of that model share (its scratch is the batch's).
    ///   - predictor: makes the predictor of a question (kept for the next lines asking it).
    init(maxBatch: Int, steppers: [String: Stepper], predictor: @escaping (Question) throws -> Predictor) {
        precondition(maxBatch >= 1)
        self.maxBatch = maxBatch
        self.steppers = steppers
        makePredictor = predictor
        let thread = Thread { [self] in run() }
        thread.name = "quill.serve.models"
        thread.start()
    }

    /// Runs `work` on the worker thread, after the work already waiting.
    func run<T: Sendable>(_ work: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            enqueue { continuation.resume(with: Result { try work() }) }
        }
    }

    /// The prediction for one line, computed together with the other lines waiting for the same question.
    func predict(_ text: String, question: Question) async throws -> Predictor.Prediction {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            lines.append(PendingLine(question: question, text: text) { continuation.resume(with: $0) })
            condition.signal()
            condition.unlock()
        }
    }

    /// Starts stepping `stream` with the others of its model.
    func start(_ stream: GenerationStream) {
        condition.lock()
        arrivals.append(stream)
        condition.signal()
        condition.unlock()
    }

    private func enqueue(_ task: @escaping () -> Void) {
        condition.lock()
        tasks.append(task)
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while tasks.isEmpty && lines.isEmpty && arrivals.isEmpty && streams.isEmpty { condition.wait() }
            let tasks = self.tasks, lines = self.lines
            streams += arrivals
            self.tasks = []
            self.lines = []
            arrivals = []
            condition.unlock()
            for task in tasks { task() }
            predict(lines)
            stepStreams()
        }
    }

    /// The waiting lines, question by question in order of arrival, `maxBatch` at a time per predictor call.
    private func predict(_ pending: [PendingLine]) {
        for (question, batch) in batches(of: pending, by: \.question) {
            let predictor: Predictor
            do {
                predictor = try predictors[question] ?? makePredictor(question)
                predictors[question] = predictor
            } catch {
                for line in batch { line.reply(.failure(error)) }
                continue
            }
            do {
                let predictions = try predictor.predict(batch.map { (number: 1, text: $0.text) })
                for (line, prediction) in zip(batch, predictions) { line.reply(.success(prediction)) }
            } catch {
                // One line's failure (it cannot be tokenized) is its own: the others are predicted alone.
                for line in batch { line.reply(Result { try predictor.predict([(number: 1, text: line.text)])[0] }) }
            }
        }
    }

    /// One token more for every live stream, `maxBatch` streams of a model per step: those still reading their
    /// prompt step without the decoder (nobody reads their distribution), the others with it.
    private func stepStreams() {
        streams.removeAll { stream in
            guard stream.isCancelled else { return false }
            stream.stop()
            return true
        }
        for (model, batch) in batches(of: streams, by: \.model) {
            let stepper = steppers[model]!, V = stepper.vocabularySize
            let reading = batch.filter { !$0.needsDistribution }, drawing = batch.filter(\.needsDistribution)
            if !reading.isEmpty {
                var states = reading.map(\.state)
                stepper.advance(tokens: reading.map(\.input), states: &states)
                for (stream, state) in zip(reading, states) { stream.readPrompt(after: state) }
            }
            if !drawing.isEmpty {
                var states = drawing.map(\.state)
                stepper.step(tokens: drawing.map(\.input), states: &states, logProbabilities: &distributions)
                distributions.withUnsafeBufferPointer { rows in
                    for (j, stream) in drawing.enumerated() {
                        stream.drawToken(after: states[j], from: UnsafeBufferPointer(rebasing: rows[(j * V)..<((j + 1) * V)]))
                    }
                }
            }
        }
        streams.removeAll(where: \.isFinished)
    }

    /// `items` grouped by `key` (the groups in the order their first item came), each group cut into runs of at most
    /// ``maxBatch``: the batches of one step or predictor call.
    private func batches<Item, Key: Hashable>(of items: [Item], by key: (Item) -> Key) -> [(Key, [Item])] {
        var order: [Key] = []
        var groups: [Key: [Item]] = [:]
        for item in items {
            let k = key(item)
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(item)
        }
        let batches = order.flatMap { k in
            let group = groups[k]!
            return stride(from: 0, to: group.count, by: maxBatch).map {
                (k, Array(group[$0..<min(group.count, $0 + maxBatch)]))
            }
        }
        for (_, batch) in batches { note(batch: batch.count) }
        return batches
    }

    private func note(batch: Int) {
        if batch > largestBatch.load(ordering: .relaxed) { largestBatch.store(batch, ordering: .relaxed) }
    }
}

/// One generation stepped by the ``ModelWorker``: the prompt's tokens one per turn, then a token drawn per turn
/// (``ContinuationDraw``) and sent as an event, until the draw ends or the client goes.
final class GenerationStream: @unchecked Sendable {
    let model: String
    /// The token the next step reads.
    private(set) var input: Int32
    /// The state after the tokens stepped so far.
    private(set) var state: Stepper.State
    private(set) var isFinished = false
    private var prompt: [Int32]
    private var position = 1
    private var draw: ContinuationDraw
    private let promptText: String
    private let encoder: TextEncoder
    private let send: @Sendable (GenerationEvent) -> Void
    private let finish: @Sendable () -> Void
    private let cancelled = Atomic<Bool>(false)
    /// Called with the number of tokens generated when the stream ends, by its end or by its client going away.
    private let ended: @Sendable (_ tokens: Int, _ cancelled: Bool) -> Void

    /// - Parameters:
    ///   - prompt: the prompt's ids, the line start first (at least one id).
    init(model: String, prompt: [Int32], promptText: String, initialState: Stepper.State, draw: ContinuationDraw,
         encoder: TextEncoder, send: @escaping @Sendable (GenerationEvent) -> Void, finish: @escaping @Sendable () -> Void,
         ended: @escaping @Sendable (Int, Bool) -> Void) {
        precondition(!prompt.isEmpty)
        self.model = model
        self.prompt = prompt
        self.promptText = promptText
        input = prompt[0]
        state = initialState
        self.draw = draw
        self.encoder = encoder
        self.send = send
        self.finish = finish
        self.ended = ended
    }

    /// Asks the worker to stop stepping this stream (its client went away); it does before the next step.
    func cancel() { cancelled.store(true, ordering: .relaxed) }
    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// Whether the step that reads ``input`` must give its distribution: the prompt's last token and every drawn one.
    var needsDistribution: Bool { position >= prompt.count }

    /// After a step without the decoder that read a prompt token (not the last): the next prompt token.
    func readPrompt(after state: Stepper.State) {
        precondition(!needsDistribution)
        self.state = state
        input = prompt[position]
        position += 1
    }

    /// After a step that read ``input`` and gave `distribution`: a token drawn from it and sent, or the end.
    func drawToken(after state: Stepper.State, from distribution: UnsafeBufferPointer<Float>) {
        self.state = state
        if let token = draw.next(from: distribution) {
            send(.token(GeneratedToken(index: draw.continuation.tokens.count - 1, text: encoder.text(of: [token]),
                                       logProbability: Double(distribution[Int(token)]))))
            input = token
        }
        if draw.isFinished {
            let continuation = draw.continuation
            let text = encoder.text(of: continuation.tokens)
            end(cancelled: false, last: .done(Generation(prompt: promptText, text: text,
                                                         generated: continuation.tokens.count,
                                                         logProbability: continuation.logProbability)))
        }
    }

    /// Ends a cancelled stream.
    func stop() { end(cancelled: true) }

    /// Counts the stream's tokens, then sends `last` and finishes: counted before the client can see the end, so a
    /// metric read after a reply includes that reply.
    private func end(cancelled: Bool, last: GenerationEvent? = nil) {
        isFinished = true
        ended(draw.continuation.tokens.count, cancelled)
        if let last { send(last) }
        finish()
    }
}
