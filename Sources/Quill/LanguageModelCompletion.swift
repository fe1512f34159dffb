import Foundation

extension LanguageModel {
    /// Continues `prompt` token by token until a line break, an end token or `options.maxTokens` tokens.
    ///
    /// The prompt is read as the start of a line (``TextEncoder``: after the corpus's line break, as every line of
    /// the training text starts) and run through the model one step at a time (`T = 1`, `B = 1`, the state
    /// carried); then the continuation is chosen as `options` say (``DecodingOptions``: temperature 0 is greedy, or a
    /// beam search when its width is above 1; above 0 samples). The specials `<unk>`, `<bos>` and `<pad>` are never
    /// produced.
    /// - Parameters:
    ///   - vocabulary: the model's vocabulary (check it with ``Store/loadLanguageModel(named:vocabulary:)``).
    /// - Returns: the generated text only (the prompt not repeated): the tokens concatenated, specials skipped; a
    ///   final line-break token is not included.
    /// - Throws: ``DecodingError`` for options out of range; ``TextError`` when the prompt cannot be tokenized;
    ///   ``LanguageModelError/vocabularySizeMismatch(model:modelSize:vocabularySize:)``.
    public func complete(_ prompt: String, vocabulary: Vocabulary, options: DecodingOptions) throws -> String {
        try options.validate()
        let V = configuration.vocabulary
        guard vocabulary.count == V else {
            throw LanguageModelError.vocabularySizeMismatch(model: "(in memory)", modelSize: V,
                                                            vocabularySize: vocabulary.count)
        }
        let encoder = try TextEncoder(vocabulary)
        let ids = [encoder.lineStart] + (try encoder.ids(of: prompt))
        let stepper = try Stepper(model: self)
        var state = stepper.initialState()
        var logProbabilities: [Float] = []
        for id in ids { logProbabilities = stepper.step(token: id, state: &state) }
        // Only a line break or <eos> ends a completion (not a sentence's end).
        let sentence = StopRule.sentence(in: vocabulary)
        let rule = StopRule(excluded: sentence.excluded, isStop: sentence.isStop)
        var rng = RNG(seed: options.seed)
        let continuation = ContinuationSearch.decode(options, stepper: stepper, state: state,
                                                     logProbabilities: logProbabilities, rule: rule, rng: &rng)
        return encoder.text(of: continuation.tokens)
    }

    /// ``complete(_:vocabulary:options:)`` with a temperature (0: greedy), a token budget and a seed.
    public func complete(_ prompt: String, vocabulary: Vocabulary, maxTokens: Int = 20, temperature: Double = 0.8,
                         seed: UInt64 = 1) throws -> String {
        try complete(prompt, vocabulary: vocabulary,
                     options: DecodingOptions(temperature: temperature, seed: seed, maxTokens: maxTokens))
    }
}
