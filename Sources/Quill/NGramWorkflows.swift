import Foundation

/// Why an n-gram model cannot be trained as asked.
public enum NGramTrainingError: Error, Equatable, CustomStringConvertible {
    /// The order is outside `1…maximum`.
    case orderOutOfRange(order: Int, maximum: Int)
    /// The vocabulary has more entries than the model's ids can hold.
    case vocabularyTooLarge(vocabulary: String, size: Int, maximum: Int)

    public var description: String {
        switch self {
        case let .orderOutOfRange(order, maximum):
            return "an n-gram model's order must be 1…\(maximum) (got \(order))"
        case let .vocabularyTooLarge(vocabulary, size, maximum):
            return "n-gram models take vocabularies of at most \(maximum) entries; '\(vocabulary)' has \(size)"
        }
    }
}

/// Stored n-gram models: kind `kn-ngram`, hyperparameters `{"order": N, "discounts": [...], "tokens": T,
/// "smoothing": "modified"|"plain", "sentences": true}` and, per order `n`, the tensors `order<n>.ids` (`[E, n]`, the
/// token ids of each n-gram, sorted) and `order<n>.counts` (`[E]`, its count, or continuation count below the highest
/// order), as float32: exact for ids and counts below 2²⁴. A record without `smoothing` and `sentences` is a plain
/// Kneser-Ney model counted over one stream, as stored before sentences; it loads and scores as it did.
extension Store {
    /// The kind of stored n-gram models.
    public static let ngramKind = "kn-ngram"

    struct NGramHyperparameters: Codable {
        var order: Int
        /// `D` of each order (for a modified model, `D₁`; all three in `discountSets`).
        var discounts: [Float]
        var tokens: Int
        var smoothing: KneserNeyModel.Smoothing?
        var sentences: Bool?
        var discountSets: [[Float]]?
    }

    /// Counts the n-grams of a corpus encoded with a stored vocabulary, and stores the model. Each line with a word
    /// is a sentence `<s> … </s>` (``NGramSentences``).
    /// - Returns: the model and the number of tokens counted (words and `</s>`).
    /// - Throws: ``NGramTrainingError`` for an order outside 1…``KneserNeyModel/maximumOrder``; what reading the
    ///   corpus or storing throws.
    @discardableResult
    public func trainNGramModel(corpus path: String, vocabulary name: String, order: Int, model: String,
                                smoothing: KneserNeyModel.Smoothing = .modified,
                                replace: Bool = false, lossy: Bool = false) throws -> (KneserNeyModel, Int) {
        guard (1...KneserNeyModel.maximumOrder).contains(order) else {
            throw NGramTrainingError.orderOutOfRange(order: order, maximum: KneserNeyModel.maximumOrder)
        }
        try StoreName.validate(model, kind: "model")  // before the corpus is counted
        let vocabulary = try self.vocabulary(named: name)
        guard vocabulary.count <= KneserNeyModel.maximumVocabularySize else {
            throw NGramTrainingError.vocabularyTooLarge(vocabulary: name, size: vocabulary.count,
                                                        maximum: KneserNeyModel.maximumVocabularySize)
        }
        let ids = try TokenIDs.encode(file: path, vocabulary: vocabulary, lossy: lossy).ids
        let sentences = NGramSentences(vocabulary: vocabulary).sentences(ids)
        let ngram = KneserNeyModel(sentences: sentences, boundary: vocabulary.lineBreakID,
                                   vocabularySize: vocabulary.count, order: order, smoothing: smoothing)
        try saveNGramModel(ngram, name: model, vocabulary: name, tokens: sentences.count, replace: replace)
        return (ngram, sentences.count)
    }

    /// Stores an n-gram model.
    public func saveNGramModel(_ ngram: KneserNeyModel, name: String, vocabulary: String, tokens: Int,
                               replace: Bool = false) throws {
        var tensors: [StoredTensor] = []
        ngram.forEachOrder(through: ngram.order) { n, ids, counts in
            tensors.append(StoredTensor(name: "order\(n).ids", shape: [counts.count, n], values: ids.map(Float.init)))
            tensors.append(StoredTensor(name: "order\(n).counts", shape: [counts.count], values: counts))
        }
        let sentences = ngram.boundary != nil
        let hyperparameters = NGramHyperparameters(
            order: ngram.order, discounts: (1...ngram.order).map(ngram.discount(order:)), tokens: tokens,
            smoothing: sentences ? ngram.smoothing : nil, sentences: sentences ? true : nil,
            discountSets: sentences ? (1...ngram.order).map(ngram.discounts(order:)) : nil)
        let json = String(decoding: try JSONEncoder().encode(hyperparameters), as: UTF8.self)
        try saveModel(name: name, kind: Self.ngramKind, hyperparametersJSON: json, vocabulary: vocabulary,
                      tensors: tensors, replace: replace)
    }

    /// A stored n-gram model and its vocabulary: the stored one it names, or `vocabulary` when given, which must be
    /// the one it was counted with (``checkedModel(named:family:vocabulary:)``).
    /// - Throws: ``StoreError/notFound(kind:name:closest:)``; ``StoredModelError`` when the model is not an n-gram model,
    ///   uses another vocabulary, or its hyperparameters or tensors do not fit it.
    public func loadNGramModel(named name: String, vocabulary: Vocabulary? = nil) throws
        -> (model: KneserNeyModel, vocabulary: Vocabulary) {
        let (record, vocabulary) = try checkedModel(named: name, family: .ngram, vocabulary: vocabulary)
        let hyperparameters: NGramHyperparameters = try record.decodeHyperparameters(family: .ngram)
        func invalid(_ reason: String) -> StoredModelError {
            .invalidRecord(model: name, family: .ngram, reason: reason)
        }
        let byName = Dictionary(try tensors(ofModel: record.id).map { ($0.name, $0) }) { a, _ in a }
        var ids: [[Int32]] = []
        var counts: [[Float]] = []
        for n in 1...max(1, min(hyperparameters.order, KneserNeyModel.maximumOrder)) {
            guard let idTensor = byName["order\(n).ids"], let countTensor = byName["order\(n).counts"],
                  idTensor.shape == [countTensor.values.count, n], countTensor.shape.count == 1 else {
                throw invalid("the tensors of order \(n) are missing or do not fit (order\(n).ids [E, \(n)], "
                    + "order\(n).counts [E])")
            }
            // Checked and converted in one pass: a token id is a whole number in 0..<V.
            let limit = Float(vocabulary.count)
            var valid = true
            let orderIDs = idTensor.values.map { value -> Int32 in
                guard value >= 0 && value < limit else { valid = false; return 0 }
                let id = Int32(value)
                if Float(id) != value { valid = false }
                return id
            }
            guard valid else {
                throw invalid("order\(n).ids holds a value that is not a token id of its vocabulary "
                    + "(\(vocabulary.count) entries)")
            }
            ids.append(orderIDs)
            counts.append(countTensor.values)
        }
        let sentences = hyperparameters.sentences ?? false
        do {
            let model = try KneserNeyModel(vocabularySize: vocabulary.count,
                                           smoothing: hyperparameters.smoothing ?? .plain,
                                           boundary: sentences ? vocabulary.lineBreakID : nil, ids: ids, counts: counts)
            return (model, vocabulary)
        } catch let error as KneserNeyModel.GramError {
            throw invalid(error.description)
        }
    }

    /// The stored n-gram model `name`, checked to use `vocabulary`, the vocabulary of the model `other` it is mixed
    /// into.
    /// - Throws: as ``loadNGramModel(named:vocabulary:)``.
    public func ngramModel(named name: String, for other: String, vocabulary: Vocabulary) throws -> KneserNeyModel {
        try loadNGramModel(named: name, vocabulary: vocabulary).model
    }

    /// The perplexity of a stored n-gram model on a text. A model counted over sentences scores each line with a
    /// word as a sentence: its words and `</s>`, the first from `<s>` (SRILM's and `lmplz`'s convention); one counted
    /// over one stream scores every token from the ones before it, the first from the start of a line.
    /// - Returns: the tokens scored and the mean negative log-probability (nats per token).
    public func evaluateNGramModel(named name: String, text path: String, lossy: Bool = false) throws
        -> (tokens: Int, loss: Double) {
        let (ngram, vocabulary) = try loadNGramModel(named: name)
        let encoded = try TokenIDs.encode(file: path, vocabulary: vocabulary, lossy: lossy).ids
        var total = 0.0
        if let boundary = ngram.boundary {
            let sentences = NGramSentences(vocabulary: vocabulary).sentences(encoded)
            var state = ngram.sentenceStart
            for id in sentences {
                total -= Double(log(ngram.score(id, state: &state)))
                if id == boundary { state = ngram.sentenceStart }
            }
            return (sentences.count, total / Double(max(1, sentences.count)))
        }
        let ids = [vocabulary.lineStartID] + encoded
        var state = ngram.start(after: vocabulary.lineStartID)
        for i in 1..<ids.count { total -= Double(log(ngram.score(ids[i], state: &state))) }
        return (ids.count - 1, total / Double(max(1, ids.count - 1)))
    }
}

/// A token stream cut into sentences for an n-gram model, as SRILM and `lmplz` read a text: each line with a word is
/// a sentence; tokens of horizontal whitespace only are not words (at the `whitespace` level a line's tokens are then
/// exactly its space-separated words), and every line break becomes the vocabulary's own (``Vocabulary/lineBreakID``),
/// the sentence's `</s>`.
public struct NGramSentences: Sendable {
    /// Per token id: 0 a word, 1 horizontal whitespace, 2 a line break.
    private let kinds: [UInt8]
    private let lineBreak: Int32

    public init(vocabulary: Vocabulary) {
        kinds = vocabulary.tokens.map { token in
            if let last = token.last, last.isNewline { return 2 }
            return !token.isEmpty && token.allSatisfy({ $0.isWhitespace }) ? 1 : 0
        }
        lineBreak = vocabulary.lineBreakID
    }

    /// Each sentence's words followed by the line break; lines without a word are left out, and a last line without
    /// a line break is ended with one.
    public func sentences(_ ids: [Int32]) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(ids.count)
        var words = 0
        for id in ids {
            switch kinds[Int(id)] {
            case 0: out.append(id); words += 1
            case 2: if words > 0 { out.append(lineBreak) }; words = 0
            default: break
            }
        }
        if words > 0 { out.append(lineBreak) }
        return out
    }
}
