import Foundation

/// A prompt and its continuation (`quill generate --format jsonl`).
///
/// Encodes as `prompt`, `text` (the continuation only), `generated` (its tokens) and `logProbability`, the keys a
/// `generate` prediction of ``Predictor`` uses.
public struct Generation: Sendable, Equatable, Codable {
    public var prompt: String
    /// The generated text: the tokens concatenated, a final line break not included.
    public var text: String
    /// Tokens generated.
    public var generated: Int
    /// The model's log-probability of the generated tokens.
    public var logProbability: Double

    public init(prompt: String, text: String, generated: Int, logProbability: Double) {
        self.prompt = prompt
        self.text = text
        self.generated = generated
        self.logProbability = logProbability
    }
}

extension StreamLanguageModel {
    /// Continues `prompt` token by token until a line break, an end token or `options.maxTokens` tokens.
    ///
    /// The prompt is read as the start of a line (``TextEncoder``: after the corpus's line break, as every line of
    /// the training text starts) and run through the model one step at a time (`T = 1`, `B = 1`, the state
    /// carried); then the continuation is chosen as `options` say (``DecodingOptions``: temperature 0 is greedy, or a
    /// beam search when its width is above 1; above 0 samples). The specials `<unk>`, `<bos>` and `<pad>` are never
    /// produced.
    /// - Parameters:
    ///   - vocabulary: the model's vocabulary (check it with ``Store/loadLanguageModel(named:vocabulary:)``).
    /// - Returns: the prompt and the generated text (the tokens concatenated, a final line-break token not
    ///   included), with its token count and log-probability.
    /// - Throws: ``DecodingOptionsError`` for options out of range; ``TextError`` when the prompt cannot be tokenized;
    ///   ``LanguageModelError/vocabularySizeMismatch(model:modelSize:vocabularySize:)``.
    public func generate(_ prompt: String, vocabulary: Vocabulary, options: DecodingOptions) throws -> Generation {
        try options.validate()
        let V = vocabularySize
        guard vocabulary.count == V else {
            throw LanguageModelError.vocabularySizeMismatch(model: "(in memory)", modelSize: V,
                                                            vocabularySize: vocabulary.count)
        }
        let encoder = try TextEncoder(vocabulary)
        let ids = [encoder.lineStart] + (try encoder.ids(of: prompt))
        let continuation = ContinuationSearch.decode(options, stepper: try Stepper(model: self), after: ids,
                                                     rule: .lineEnd(in: vocabulary))
        return Generation(prompt: prompt, text: encoder.text(of: continuation.tokens),
                          generated: continuation.tokens.count, logProbability: continuation.logProbability)
    }

    /// The text of ``generate(_:vocabulary:options:)``.
    public func complete(_ prompt: String, vocabulary: Vocabulary, options: DecodingOptions) throws -> String {
        try generate(prompt, vocabulary: vocabulary, options: options).text
    }

    /// ``complete(_:vocabulary:options:)`` with a temperature (0: greedy), a token budget and a seed.
    public func complete(_ prompt: String, vocabulary: Vocabulary, maxTokens: Int = 20, temperature: Double = 0.8,
                         seed: UInt64 = 1) throws -> String {
        try complete(prompt, vocabulary: vocabulary,
                     options: DecodingOptions(temperature: temperature, seed: seed, maxTokens: maxTokens))
    }
}
