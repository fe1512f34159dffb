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
        let wasTraining = isTraining
        isTraining = false
        defer { isTraining = wasTraining }

        var ids = try Tokenizer(vocabulary.settings).ids(of: prompt, in: vocabulary)
        if ids.isEmpty { ids = [vocabulary.contains("\n") ? vocabulary.id("\n") : Vocabulary.endID] }
        var hidden: [Float]?
        var cell: [Float]?
        func step(_ id: Int32) {
            _ = forward(inputs: [id], targets: [0], steps: 1, batch: 1, h0: hidden, c0: cell)
            hidden = finalHidden
            cell = configuration.kind == .lstm ? finalCell : nil
        }
        for id in ids { step(id) }

        var rng = RNG(seed: seed)
        var output = ""
        var scores = [Double](repeating: 0, count: V)
        for _ in 0..<maxTokens {
            let logits = self.logits
            for v in 0..<V { scores[v] = Double(logits[v]) }
            for banned in [Vocabulary.unknownID, Vocabulary.beginID, Vocabulary.padID] where Int(banned) < V {
                scores[Int(banned)] = -.infinity
            }
            let next = temperature == 0 ? LanguageModel.argmax(scores) : LanguageModel.sample(scores, temperature,
                                                                                                &rng)
            if next == Vocabulary.endID { break }
            let token = vocabulary[next]
            if token.contains(where: \.isNewline) { break }
            output += token
            step(next)
        }
        return output
    }

    private static func argmax(_ scores: [Double]) -> Int32 {
        var best = 0
        for v in scores.indices where scores[v] > scores[best] { best = v }
        return Int32(best)
    }

    /// Draws from `softmax(scores / temperature)` (stable: the maximum is subtracted first).
    private static func sample(_ scores: [Double], _ temperature: Double, _ rng: inout RNG) -> Int32 {
        let top = scores.max() ?? 0
        let weights = scores.map { exp(($0 - top) / temperature) }
        let total = weights.reduce(0, +)
        // 53 random bits: a uniform Double in [0, 1).
        var u = Double(rng.next() >> 11) * 0x1p-53 * total
        for v in weights.indices {
            u -= weights[v]
            if u < 0 { return Int32(v) }
        }
        return argmax(scores)
    }
}
