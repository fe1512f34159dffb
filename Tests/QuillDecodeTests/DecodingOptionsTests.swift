import QuillDecode
import QuillNN
import QuillTensor
import Testing

/// One meaning of the temperature: 0 is greedy (a beam only when its width is above 1), above 0 samples.
@Suite struct DecodingOptionsTests {
    static let rule = StopRule(excluded: [0], isStop: { $0 == 2 })

    static func start() throws -> (Stepper, Stepper.State, [Float]) {
        let stepper = try Stepper(model: try makeModel(.lstm, scale: 1.5))
        var state = stepper.initialState()
        let logProbabilities = stepper.step(token: 5, state: &state)
        return (stepper, state, logProbabilities)
    }

    @Test func temperatureZeroIsGreedyArgmax() throws {
        let (stepper, start, first) = try Self.start()
        var rng = RNG(seed: 1)
        let options = DecodingOptions(maxTokens: 6)
        let decoded = ContinuationSearch.decode(options, stepper: stepper, state: start, logProbabilities: first,
                                                rule: Self.rule, rng: &rng)
        // The oracle: the most likely allowed token at each step, stepped one by one.
        var state = start, distribution = first, expected: [Int32] = []
        while expected.count < 6 {
            let best = (1..<Int32(distribution.count)).max { distribution[Int($0)] < distribution[Int($1)] }!
            if Self.rule.isStop(best) { break }
            expected.append(best)
            distribution = stepper.step(token: best, state: &state)
        }
        #expect(decoded.tokens == expected && !expected.isEmpty)
    }

    @Test func aBeamIsAskedForByItsWidthAndSamplingByTheTemperature() throws {
        let (stepper, start, first) = try Self.start()
        var rng = RNG(seed: 1)
        let beam = ContinuationSearch.decode(DecodingOptions(beamWidth: 4, maxTokens: 6), stepper: stepper,
                                             state: start, logProbabilities: first, rule: Self.rule, rng: &rng)
        #expect(beam == ContinuationSearch.beam(stepper: stepper, state: start, logProbabilities: first, width: 4,
                                                maxTokens: 6, rule: Self.rule).first)
        let options = DecodingOptions(temperature: 0.9, topK: 5, beamWidth: 4, seed: 7, maxTokens: 6)
        var a = RNG(seed: 7), b = RNG(seed: 7)
        let sampled = ContinuationSearch.decode(options, stepper: stepper, state: start, logProbabilities: first,
                                                rule: Self.rule, rng: &a)
        #expect(sampled == ContinuationSearch.sample(stepper: stepper, state: start, logProbabilities: first,
                                                     options: SamplingOptions(temperature: 0.9, topK: 5),
                                                     maxTokens: 6, rule: Self.rule, rng: &b))
    }

    @Test(arguments: [
        (DecodingOptions(temperature: -1), DecodingOptionsError.Option.temperature),
        (DecodingOptions(temperature: .infinity), .temperature),
        (DecodingOptions(topK: 0), .topK),
        (DecodingOptions(topP: 0), .topP),
        (DecodingOptions(topP: 1.5), .topP),
        (DecodingOptions(beamWidth: 0), .beamWidth),
        (DecodingOptions(maxTokens: -1), .maxTokens),
    ])
    func optionsOutOfRangeAreNamed(options: DecodingOptions, option: DecodingOptionsError.Option) {
        #expect {
            try options.validate()
        } throws: { error in
            guard case .invalid(let named, _)? = error as? DecodingOptionsError else { return false }
            return named == option && !"\(error)".contains("--")
        }
    }

    @Test func theDefaultsAreValidAndGreedy() throws {
        try DecodingOptions().validate()
        #expect(DecodingOptions().beamWidth == 1 && DecodingOptions().temperature == 0 && !DecodingOptions().samples)
    }
}
