import Foundation

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
    /// - Throws: ``LanguageModelError/invalidOption(_:)`` for an order outside 1…4 or a vocabulary of more than 65,536
    ///   entries; what reading the corpus or storing throws.
    @discardableResult
    public func trainNGramModel(corpus path: String, vocabulary name: String, order: Int, model: String,
                                replace: Bool = false, lossy: Bool = false) throws -> (KneserNeyModel, Int) {
        guard (1...KneserNeyModel.maximumOrder).contains(order) else {
            throw LanguageModelError.invalidOption("--order must be 1…\(KneserNeyModel.maximumOrder) (got \(order))")
        }
        let vocabulary = try self.vocabulary(named: name)
        guard vocabulary.count <= KneserNeyModel.maximumVocabularySize else {
            throw LanguageModelError.invalidOption("n-gram models take vocabularies of at most "
                + "\(KneserNeyModel.maximumVocabularySize) entries; '\(name)' has \(vocabulary.count)")
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

    /// A stored n-gram model and its vocabulary.
    /// - Throws: ``StoreError/notFound(kind:name:)``; ``LanguageModelError/invalidHyperparameters(model:reason:)``
    ///   when the model is not an n-gram model or its tensors do not fit it.
    public func loadNGramModel(named name: String) throws -> (model: KneserNeyModel, vocabulary: Vocabulary) {
        let record = try model(named: name)
        guard record.kind == Self.ngramKind else {
            throw LanguageModelError.invalidHyperparameters(model: name, reason: "it is a '\(record.kind)' model, "
                + "not an n-gram model (train one with `quill ngram train`)")
        }
        let hyperparameters: NGramHyperparameters
        do {
            hyperparameters = try JSONDecoder().decode(NGramHyperparameters.self,
                                                       from: Data(record.hyperparametersJSON.utf8))
        } catch {
            throw LanguageModelError.invalidHyperparameters(model: name, reason: "\(error)")
        }
        let vocabulary = try self.vocabulary(id: record.vocabularyID)
        let byName = Dictionary(try tensors(ofModel: record.id).map { ($0.name, $0) }) { a, _ in a }
        var grams: [[(ids: [Int32], count: Float)]] = []
        for n in 1...max(1, min(hyperparameters.order, KneserNeyModel.maximumOrder)) {
            guard let ids = byName["order\(n).ids"], let counts = byName["order\(n).counts"],
                  ids.shape == [counts.values.count, n], counts.shape.count == 1 else {
                throw LanguageModelError.invalidHyperparameters(model: name, reason: "the tensors of order \(n) are "
                    + "missing or do not fit (order\(n).ids [E, \(n)], order\(n).counts [E])")
            }
            guard ids.values.allSatisfy({ $0 >= 0 && Int($0) < vocabulary.count && $0 == $0.rounded() }) else {
                throw LanguageModelError.invalidHyperparameters(model: name, reason: "order\(n).ids holds a value "
                    + "that is not a token id of its vocabulary (\(vocabulary.count) entries)")
            }
            grams.append(counts.values.indices.map { e in
                (ids.values[(e * n)..<((e + 1) * n)].map { Int32($0) }, counts.values[e])
            })
        }
        return (KneserNeyModel(vocabularySize: vocabulary.count, grams: grams), vocabulary)
    }

    /// The stored n-gram model `name` checked to share `vocabulary` with the model `other`.
    public func ngramModel(named name: String, for other: String, vocabulary: Vocabulary) throws -> KneserNeyModel {
        let (ngram, own) = try loadNGramModel(named: name)
        guard own.fingerprint == vocabulary.fingerprint else {
            let names = Dictionary(try vocabularies().map { ($0.id, $0.name) }) { a, _ in a }
            let theirs = names[try model(named: name).vocabularyID] ?? "?"
            let ours = names[try model(named: other).vocabularyID] ?? "?"
            throw LanguageModelError.invalidOption("n-gram model '\(name)' uses vocabulary '\(theirs)', model "
                + "'\(other)' uses '\(ours)': train the n-gram model with --vocabulary \(ours)")
        }
        return ngram
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
