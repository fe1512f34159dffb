import Foundation

/// A stored translation model ready to translate text: its two vocabularies' encoders (the one text → ids path) and
/// a ``QuillDecode/Translator``.
///
///     let system = try TranslationSystem(store: store, model: "de-en")
///     let result = try system.translate(["Ein Hund rennt."], options: .init(beam: 5))[0]
///     print(result.translations[0].text)
///
/// A system keeps scratch buffers: use one per thread.
public final class TranslationSystem {
    public let stored: TranslationModel
    public let sourceEncoder: TextEncoder
    public let targetEncoder: TextEncoder
    public let translator: Translator

    /// - Parameter precision: the decoder's GEMMs in float32 (exact) or bfloat16 (faster; ``Translator``).
    public init(_ stored: TranslationModel, precision: Stepper.Precision = .float32, pool: ThreadPool = .shared) throws {
        self.stored = stored
        sourceEncoder = try TextEncoder(stored.source)
        targetEncoder = try TextEncoder(stored.target)
        let lineBreak = stored.target.lineBreakID
        translator = try Translator(model: stored.model, startID: lineBreak, endID: lineBreak, precision: precision,
                                    pool: pool)
    }

    /// Loads model `name` from `store`.
    public convenience init(store: Store, model name: String, precision: Stepper.Precision = .float32,
                            pool: ThreadPool = .shared) throws {
        try self.init(try store.loadTranslationModel(named: name), precision: precision, pool: pool)
    }

    /// One translation of a line.
    public struct Candidate: Codable, Sendable, Equatable {
        /// The translation (the target tokens concatenated: Quill's tokens carry their spaces).
        public var text: String
        /// The target tokens.
        public var tokens: [String]
        /// The summed log-probability, and the score the search ranked by (after the length penalty).
        public var logProbability: Double
        public var score: Double
        /// False when the length cap ended the translation instead of the model.
        public var ended: Bool
        /// `[target token][source token]` attention weights (the end of sentence last in both), when asked for.
        public var attention: [[Float]]?
    }

    /// The translations of one input line, best first.
    public struct Translation: Codable, Sendable, Equatable {
        /// 1-based line number of the input.
        public var line: Int
        public var source: String
        /// The source tokens (the line break last).
        public var sourceTokens: [String]
        public var translations: [Candidate]
    }

    /// Translates `lines` (each one sentence, without its line break).
    /// - Parameter firstLine: the number of the first line, for ``Translation/line``.
    /// - Throws: ``QuillText/TextError`` for a line the source tokenizer refuses.
    public func translate(_ lines: [String], options: Translator.Options, firstLine: Int = 1) throws
        -> [Translation] {
        let sources = try lines.map { try sourceEncoder.lineIDs(of: $0) }
        let results = translator.translate(sources, options: options)
        return zip(lines.indices, zip(sources, results)).map { i, pair in
            let (ids, hypotheses) = pair
            return Translation(
                line: firstLine + i, source: lines[i], sourceTokens: ids.map { stored.source.tokens[Int($0)] },
                translations: hypotheses.map { h in
                    let tokens = h.ids.map { stored.target.tokens[Int($0)] }
                    return Candidate(text: targetEncoder.text(of: h.ids), tokens: tokens,
                                     logProbability: h.logProbability, score: h.score, ended: h.ended,
                                     attention: h.attention)
                })
        }
    }

    /// What ``evaluate(sourceFile:referenceFile:options:scoring:)`` measured.
    public struct Evaluation: Codable, Sendable {
        public var model: String
        public var beam: Int
        public var lengthPenalty: Double
        public var sentences: Int
        public var seconds: Double
        public var sentencesPerSecond: Double
        public var scores: TranslationScores
    }

    /// Translates every line of `sourceFile` and scores the best translations against `referenceFile` as sacreBLEU
    /// does (BLEU, chrF, chrF++ with their signatures).
    /// - Throws: ``QuillText/TextError`` for unreadable or invalid files; ``QuillMetrics/MetricsError`` when the
    ///   files differ in length or a reference is empty.
    public func evaluate(sourceFile: String, referenceFile: String, options: Translator.Options,
                         scoring: TranslationScoring = TranslationScoring(),
                         hypothesesOut: ((String) -> Void)? = nil) throws -> Evaluation {
        let sourceReader = try TextReader(path: sourceFile)
        let sources = TranslationScoring.lines(of: try sourceReader.readAll(), universalNewlines: false)
        let referenceReader = try TextReader(path: referenceFile)
        let references = TranslationScoring.lines(of: try referenceReader.readAll(), universalNewlines: false)
        let start = Date()
        let translations = try translate(sources, options: options)
        let seconds = Date().timeIntervalSince(start)
        // sacreBLEU strips each line's trailing whitespace; a translation is one line of text.
        let hypotheses = translations.map { ($0.translations.first?.text ?? "").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "\r", with: " ") }
        hypotheses.forEach { hypothesesOut?($0) }
        // Read back as sacreBLEU reads a file of them (trailing whitespace removed, Python's way).
        let lines = TranslationScoring.lines(of: hypotheses.map { $0 + "\n" }.joined(), universalNewlines: false)
        let scores = try scoring.score(hypothesisLines: lines,
                                       hypothesisFile: "the translations of \(sourceReader.name)",
                                       referenceLines: references, referenceFile: referenceReader.name)
        return Evaluation(model: stored.name, beam: options.beam, lengthPenalty: options.lengthPenalty,
                          sentences: sources.count, seconds: seconds,
                          sentencesPerSecond: seconds > 0 ? Double(sources.count) / seconds : 0, scores: scores)
    }
}
