import Foundation

extension LanguageModel {
    /// Continues `prompt` token by token until a line break, an end token or `maxTokens` tokens.
    ///
    /// The prompt is tokenized with the vocabulary's own settings and run through the model one step at a time
    /// (`T = 1`, `B = 1`, the state carried); then each next token is drawn from `softmax(logits / temperature)`, or
    /// is the most likely one when `temperature` is 0 (greedy). The specials `<unk>`, `<bos>` and `<pad>` are never
    /// drawn. An empty prompt starts from a line break (the start of a line), or `<eos>` when the vocabulary has none.
    /// - Parameters:
    ///   - vocabulary: the model's vocabulary (check it with ``Store/loadLanguageModel(named:vocabulary:)``).
    ///   - temperature: ≥ 0; 0 is greedy, 1 samples the model's distribution, below 1 sharpens it.
    ///   - seed: the sampling generator's seed: the same seed gives the same completion.
    /// - Returns: the generated text only (the prompt not repeated): the tokens concatenated, specials skipped; a
    ///   final line-break token is not included.
    /// - Throws: ``TextError`` when the prompt cannot be tokenized;
    ///   ``LanguageModelError/vocabularySizeMismatch(model:modelSize:vocabularySize:)``.
    public func complete(_ prompt: String, vocabulary: Vocabulary, maxTokens: Int = 20, temperature: Double = 0.8,
                         seed: UInt64 = 1) throws -> String {
        precondition(temperature >= 0 && temperature.isFinite, "temperature \(temperature) must be ≥ 0")
        let V = configuration.vocabulary
        guard vocabulary.count == V else {
            throw LanguageModelError.vocabularySizeMismatch(model: "(in memory)", modelSize: V,
                                                            vocabularySize: vocabulary.count)
        }
        var ids = try Tokenizer(vocabulary.settings).ids(of: prompt, in: vocabulary)
        if ids.isEmpty { ids = [vocabulary.lineStartID] }
        let stepper = try Stepper(model: self)
        var state = stepper.initialState()
        var logProbabilities: [Float] = []
        for id in ids { logProbabilities = stepper.step(token: id, state: &state) }
        // Only a line break or <eos> ends a completion (not a sentence's end).
        let sentence = StopRule.sentence(in: vocabulary)
        let rule = StopRule(excluded: sentence.excluded, isStop: sentence.isStop)
        let continuation: Continuation
        if temperature == 0 {
            continuation = ContinuationSearch.beam(stepper: stepper, state: state, logProbabilities: logProbabilities,
                                                   width: 1, maxTokens: maxTokens, rule: rule).first
                ?? Continuation(tokens: [], logProbability: 0)
        } else {
            var rng = RNG(seed: seed)
            continuation = ContinuationSearch.sample(stepper: stepper, state: state,
                                                     logProbabilities: logProbabilities,
                                                     options: SamplingOptions(temperature: temperature),
                                                     maxTokens: maxTokens, rule: rule, rng: &rng)
        }
        return continuation.tokens.map { vocabulary[$0] }.joined()
    }
}
