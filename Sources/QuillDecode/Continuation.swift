import Foundation
import QuillTensor

/// A continuation of a text: the tokens and their total log-probability.
public struct Continuation: Equatable, Sendable {
    public var tokens: [Int32]
    public var logProbability: Double

    public init(tokens: [Int32], logProbability: Double) {
        self.tokens = tokens
        self.logProbability = logProbability
    }

    /// GNMT's length normalisation (Wu et al. 2016): `log p / ((5 + length) / 6)^α`; α = 0 compares raw
    /// log-probabilities (favouring short continuations), α = 1 divides by about the length.
    public func score(lengthPenalty alpha: Double) -> Double {
        logProbability / pow((5 + Double(tokens.count)) / 6, alpha)
    }
}

/// Where a continuation ends: a token that ends it and is kept (a full stop), or one that ends it and is dropped (a
/// line break, `<eos>`), besides tokens never to produce at all.
public struct StopRule: Sendable {
    /// Tokens never produced (the specials `<unk>`, `<bos>`, `<pad>`).
    public var excluded: Set<Int32>
    /// The continuation ends after such a token, which is part of it.
    public var isFinal: @Sendable (Int32) -> Bool
    /// The continuation ends before such a token, which is not part of it.
    public var isStop: @Sendable (Int32) -> Bool

    public init(excluded: Set<Int32>, isFinal: @escaping @Sendable (Int32) -> Bool = { _ in false },
                isStop: @escaping @Sendable (Int32) -> Bool = { _ in false }) {
        self.excluded = excluded
        self.isFinal = isFinal
        self.isStop = isStop
    }
}

/// Multi-token continuations from a stream's state: beam search and sampling.
public enum ContinuationSearch {
    /// Beam search: keeps the `width` most likely partial continuations, expanding each by its `width` most likely
    /// next tokens and stepping all of them in one batched step; a continuation is finished by the stop rule or at
    /// `maxTokens`. Returns the finished ones best first by ``Continuation/score(lengthPenalty:)``, at most `width`.
    /// - Parameters:
    ///   - state: the stream's state after the text so far; `logProbabilities` its next-token distribution.
    public static func beam(stepper: Stepper, state: Stepper.State, logProbabilities: [Float], width: Int,
                            maxTokens: Int, lengthPenalty: Double = 0.7, rule: StopRule) -> [Continuation] {
        precondition(width >= 1, "beam width must be at least 1")
        let V = stepper.vocabularySize
        var live: [(continuation: Continuation, state: Stepper.State)] = [(Continuation(tokens: [], logProbability: 0),
                                                                           state)]
        var distributions = logProbabilities
        var finished: [Continuation] = []
        var length = 0
        while !live.isEmpty && length < maxTokens {
            length += 1
            var expansions: [(parent: Int, token: Int32, logProbability: Double)] = []
            distributions.withUnsafeBufferPointer { all in
                for (i, hypothesis) in live.enumerated() {
                    let row = UnsafeBufferPointer(rebasing: all[(i * V)..<((i + 1) * V)])
                    for next in TokenSelection.topK(row, k: width, excluding: rule.excluded) {
                        expansions.append((i, next.id, hypothesis.continuation.logProbability
                                            + Double(next.logProbability)))
                    }
                }
            }
            expansions.sort { $0.logProbability > $1.logProbability }
            var next: [(continuation: Continuation, state: Stepper.State)] = []
            var tokens: [Int32] = []
            for expansion in expansions {
                if next.count >= width { break }
                let parent = live[expansion.parent]
                if rule.isStop(expansion.token) {
                    if !parent.continuation.tokens.isEmpty { finished.append(parent.continuation) }
                    continue
                }
                let continuation = Continuation(tokens: parent.continuation.tokens + [expansion.token],
                                                logProbability: expansion.logProbability)
                if rule.isFinal(expansion.token) {
                    finished.append(continuation)
                } else {
                    next.append((continuation, parent.state))
                    tokens.append(expansion.token)
                }
            }
            guard !next.isEmpty, length < maxTokens else {
                finished += next.map(\.continuation)
                break
            }
            var states = next.map(\.state)
            stepper.step(tokens: tokens, states: &states, logProbabilities: &distributions)
            live = zip(next, states).map { ($0.continuation, $1) }
        }
        var seen = Set<[Int32]>()
        return finished.filter { seen.insert($0.tokens).inserted }
            .sorted { $0.score(lengthPenalty: lengthPenalty) > $1.score(lengthPenalty: lengthPenalty) }
            .prefix(width).map { $0 }
    }

    /// Draws a continuation token by token with `options`, until the stop rule ends it or `maxTokens`.
    public static func sample(stepper: Stepper, state: Stepper.State, logProbabilities: [Float],
                              options: SamplingOptions, maxTokens: Int, rule: StopRule, rng: inout RNG)
        -> Continuation {
        var state = state
        var distribution = logProbabilities
        var draw = ContinuationDraw(sampling: options, maxTokens: maxTokens, rule: rule, rng: rng)
        while let token = distribution.withUnsafeBufferPointer({ draw.next(from: $0) }), !draw.isFinished {
            distribution = stepper.step(token: token, state: &state)
        }
        rng = draw.rng
        return draw.continuation
    }
}

/// A continuation chosen one token at a time by a caller that steps the model itself (a server stepping many
/// clients' streams in one batched step): greedy, or sampled as ``ContinuationSearch/sample(stepper:state:logProbabilities:options:maxTokens:rule:rng:)``
/// samples, which is this draw with its own stepping.
public struct ContinuationDraw: Sendable {
    /// The tokens drawn so far and their log-probability.
    public private(set) var continuation = Continuation(tokens: [], logProbability: 0)
    /// Whether the continuation has ended: no token is to be stepped or drawn any more.
    public private(set) var isFinished: Bool
    /// The generator, advanced by every draw.
    public private(set) var rng: RNG
    /// nil: the most likely token (greedy).
    private let sampling: SamplingOptions?
    private let maxTokens: Int
    private let rule: StopRule

    /// - Parameter sampling: nil takes the most likely token each time.
    public init(sampling: SamplingOptions?, maxTokens: Int, rule: StopRule, rng: RNG) {
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.rule = rule
        self.rng = rng
        isFinished = maxTokens <= 0
    }

    /// The greedy draw (temperature 0, beam width 1) or the sampled one that `options` ask for, seeded from it.
    /// - Precondition: `options.beamWidth == 1` or `options.samples` (a beam search is not drawn token by token).
    public init(_ options: DecodingOptions, rule: StopRule) {
        precondition(options.samples || options.beamWidth == 1, "a beam search is not drawn token by token")
        self.init(sampling: options.samples ? options.sampling : nil, maxTokens: options.maxTokens, rule: rule,
                  rng: RNG(seed: options.seed))
    }

    /// Takes the next token from `distribution` (the stream's next-token log-probabilities) and returns it, or nil
    /// when the continuation ends before it (the stop rule, or nothing left to draw). After a token that ends the
    /// continuation (``isFinished``), the token is returned but is not to be stepped.
    public mutating func next(from distribution: UnsafeBufferPointer<Float>) -> Int32? {
        guard !isFinished else { return nil }
        let token = sampling.map { $0.sample(distribution, excluding: rule.excluded, rng: &rng) }
            ?? TokenSelection.topK(distribution, k: 1, excluding: rule.excluded)[0].id
        if rule.isStop(token) {
            isFinished = true
            return nil
        }
        continuation.tokens.append(token)
        continuation.logProbability += Double(distribution[Int(token)])
        isFinished = rule.isFinal(token) || continuation.tokens.count >= maxTokens
        return token
    }
}
