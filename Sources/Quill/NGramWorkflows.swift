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

/// Stored n-gram models: kind `kn-ngram`, hyperparameters `{"order": N, "discounts": [...], "tokens": T}` and, per
/// order `n`, the tensors `order<n>.ids` (`[E, n]`, the token ids of each n-gram) and `order<n>.counts` (`[E]`, its
/// count, or continuation count below the highest order), as float32: exact for ids and counts below 2²⁴.
extension Store {
    /// The kind of stored n-gram models.
    public static let ngramKind = "kn-ngram"

    struct NGramHyperparameters: Codable {
        var order: Int
        var discounts: [Float]
        var tokens: Int
    }

    /// Counts the n-grams of a corpus encoded with a stored vocabulary, and stores the model.
    /// - Returns: the model and the number of tokens counted.
    /// - Throws: ``NGramTrainingError`` for an order outside 1…4 or a vocabulary of more than 65,536 entries; what
    ///   reading the corpus or storing throws.
    @discardableResult
    public func trainNGramModel(corpus path: String, vocabulary name: String, order: Int, model: String,
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
        let ngram = KneserNeyModel(ids: ids, vocabularySize: vocabulary.count, order: order)
        try saveNGramModel(ngram, name: model, vocabulary: name, tokens: ids.count, replace: replace)
        return (ngram, ids.count)
    }

    /// Stores an n-gram model.
    public func saveNGramModel(_ ngram: KneserNeyModel, name: String, vocabulary: String, tokens: Int,
                               replace: Bool = false) throws {
        var tensors: [StoredTensor] = []
        for n in 1...ngram.order {
            let grams = ngram.grams(order: n)
            tensors.append(StoredTensor(name: "order\(n).ids", shape: [grams.count, n],
                                            values: grams.flatMap { $0.ids.map(Float.init) }))
            tensors.append(StoredTensor(name: "order\(n).counts", shape: [grams.count], values: grams.map(\.count)))
        }
        let hyperparameters = NGramHyperparameters(order: ngram.order,
                                                   discounts: (1...ngram.order).map(ngram.discount(order:)),
                                                   tokens: tokens)
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
        var grams: [[(ids: [Int32], count: Float)]] = []
        for n in 1...max(1, min(hyperparameters.order, KneserNeyModel.maximumOrder)) {
            guard let ids = byName["order\(n).ids"], let counts = byName["order\(n).counts"],
                  ids.shape == [counts.values.count, n], counts.shape.count == 1 else {
                throw invalid("the tensors of order \(n) are missing or do not fit (order\(n).ids [E, \(n)], "
                    + "order\(n).counts [E])")
            }
            guard ids.values.allSatisfy({ $0 >= 0 && Int($0) < vocabulary.count && $0 == $0.rounded() }) else {
                throw invalid("order\(n).ids holds a value that is not a token id of its vocabulary "
                    + "(\(vocabulary.count) entries)")
            }
            grams.append(counts.values.indices.map { e in
                (ids.values[(e * n)..<((e + 1) * n)].map { Int32($0) }, counts.values[e])
            })
        }
        return (KneserNeyModel(vocabularySize: vocabulary.count, grams: grams), vocabulary)
    }

    /// The stored n-gram model `name`, checked to use `vocabulary`, the vocabulary of the model `other` it is mixed
    /// into.
    /// - Throws: as ``loadNGramModel(named:vocabulary:)``.
    public func ngramModel(named name: String, for other: String, vocabulary: Vocabulary) throws -> KneserNeyModel {
        try loadNGramModel(named: name, vocabulary: vocabulary).model
    }

    /// The perplexity of a stored n-gram model on a text: every token scored from the ones before it, the first from
    /// the start of a line.
    /// - Returns: the tokens scored and the mean negative log-probability (nats per token).
    public func evaluateNGramModel(named name: String, text path: String, lossy: Bool = false) throws
        -> (tokens: Int, loss: Double) {
        let (ngram, vocabulary) = try loadNGramModel(named: name)
        let ids = [vocabulary.lineStartID] + (try TokenIDs.encode(file: path, vocabulary: vocabulary, lossy: lossy).ids)
        var total = 0.0
        for i in 1..<ids.count { total -= Double(log(ngram.probability(of: ids[i], after: ids[..<i]))) }
        return (ids.count - 1, total / Double(max(1, ids.count - 1)))
    }
}
