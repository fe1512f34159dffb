import QuillTensor

/// How a continuation is chosen, the same for every front end (`generate`, `predict`, the autocompleter's ghost text).
///
/// One meaning of the temperature everywhere:
/// - `temperature == 0`: deterministic. With `beamWidth == 1` (the default) the most likely token is taken at each
///   step (greedy argmax); a beam search is asked for by `beamWidth > 1`.
/// - `temperature > 0`: each token is drawn from `softmax(log p / temperature)`, cut to the `topK` most likely tokens
///   and to the nucleus of probability `topP` (``SamplingOptions``), from a generator seeded by `seed`. Sampling does
///   not search: `beamWidth` is then unused.
/// (Before, `quill predict` took temperature 0 to mean a beam search of width 4 and `quill generate` greedy; a beam is
/// now asked for by its width only.)
public struct DecodingOptions: Sendable, Equatable, Codable {
    /// 0: deterministic (greedy, or a beam search when ``beamWidth`` > 1); above 0: sample at this temperature.
    public var temperature: Double
    /// Sampling keeps only this many most likely tokens (`nil`: all).
    public var topK: Int?
    /// Sampling keeps the most likely tokens until their probability reaches this, in (0, 1].
    public var topP: Double
    /// 1: greedy (at temperature 0); above 1: beam search of this width.
    public var beamWidth: Int
    /// Seed of sampling: the same seed gives the same continuation.
    public var seed: UInt64
    /// Tokens generated at most.
    public var maxTokens: Int

    public init(temperature: Double = 0, topK: Int? = nil, topP: Double = 1, beamWidth: Int = 1, seed: UInt64 = 1,
                maxTokens: Int = 20) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.beamWidth = beamWidth
        self.seed = seed
        self.maxTokens = maxTokens
    }

    /// Whether tokens are drawn at random (temperature above 0) rather than searched.
    public var samples: Bool { temperature > 0 }

    /// - Throws: ``DecodingOptionsError`` naming the first value out of range.
    public func validate() throws(DecodingOptionsError) {
        guard temperature >= 0, temperature.isFinite else {
            throw .invalid(option: .temperature, "must be 0 or a finite positive number")
        }
        if let topK, topK < 1 { throw .invalid(option: .topK, "must be at least 1") }
        guard topP > 0, topP <= 1 else { throw .invalid(option: .topP, "must be in (0, 1]") }
        guard beamWidth >= 1 else { throw .invalid(option: .beamWidth, "must be at least 1") }
        guard maxTokens >= 0 else { throw .invalid(option: .maxTokens, "must not be negative") }
    }

    /// The sampling cut, at a temperature above 0.
    public var sampling: SamplingOptions { SamplingOptions(temperature: temperature, topK: topK, topP: topP) }
}

/// A decoding option out of range.
public enum DecodingOptionsError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Option: String, Sendable { case temperature, topK, topP, beamWidth, maxTokens }
    case invalid(option: Option, String)

    public var description: String {
        switch self {
        case let .invalid(option, reason): return "decoding option \(option.rawValue) \(reason)"
        }
    }
}

extension ContinuationSearch {
    /// The continuation `options` choose after reading `ids` from the start state (all but the last without the
    /// decoder), with a generator seeded from ``DecodingOptions/seed``: what `quill generate` and the server's
    /// `/v1/generate` give for a prompt.
    /// - Precondition: `ids` is not empty (a prompt starts with the line start).
    public static func decode(_ options: DecodingOptions, stepper: Stepper, after ids: [Int32],
                              rule: StopRule) -> Continuation {
        precondition(!ids.isEmpty, "a prompt starts with the line start")
        var state = stepper.initialState()
        for id in ids { stepper.advance(token: id, state: &state) }
        var rng = RNG(seed: options.seed)
        return decode(options, stepper: stepper, state: state, logProbabilities: stepper.distribution(after: state),
                      rule: rule, rng: &rng)
    }

    /// The continuation `options` choose after `state`: the best of a beam search of width ``DecodingOptions/beamWidth``
    /// (width 1: greedy) at temperature 0, else a sample drawn with `rng` (seeded by the caller from
    /// ``DecodingOptions/seed``). Stops as `rule` says, or after ``DecodingOptions/maxTokens`` tokens.
    public static func decode(_ options: DecodingOptions, stepper: Stepper, state: Stepper.State,
                              logProbabilities: [Float], maxTokens: Int? = nil, rule: StopRule,
                              rng: inout RNG) -> Continuation {
        let maxTokens = maxTokens ?? options.maxTokens
        if options.samples {
            return sample(stepper: stepper, state: state, logProbabilities: logProbabilities,
                          options: options.sampling, maxTokens: maxTokens, rule: rule, rng: &rng)
        }
        return beam(stepper: stepper, state: state, logProbabilities: logProbabilities, width: options.beamWidth,
                    maxTokens: maxTokens, rule: rule).first ?? Continuation(tokens: [], logProbability: 0)
    }
}
