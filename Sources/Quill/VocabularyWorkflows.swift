import Foundation

/// What a vocabulary build counted and kept.
public struct VocabularyBuildStatistics: Sendable, Equatable {
    /// The row id of the saved vocabulary in the store.
    public var id: Int64
    /// Bytes of corpus read.
    public var bytesRead: Int
    /// Tokens in the corpus.
    public var totalTokens: Int
    /// Distinct tokens in the corpus, before `minCount` and `maxSize` cut the list.
    public var distinctTokens: Int
    /// Corpus tokens whose token was kept in the vocabulary (the rest become `<unk>`).
    public var coveredTokens: Int
    /// Invalid UTF-8 sequences replaced by U+FFFD (lossy reading only).
    public var replacements: Int
    /// Wall-clock time of counting, building and saving.
    public var seconds: Double

    /// The fraction of corpus tokens the vocabulary covers, in 0…1.
    public var coverage: Double { totalTokens == 0 ? 0 : Double(coveredTokens) / Double(totalTokens) }
}

/// Errors of the workflows that join text files and the store.
public enum QuillError: Error, Equatable, CustomStringConvertible {
    /// A vocabulary file without a `# name:` header was imported without a name.
    case unnamedVocabulary(file: String)

    public var description: String {
        switch self {
        case let .unnamedVocabulary(file):
            return "\(file): the vocabulary file has no `# name:` header line; give a name to import it under"
        }
    }
}

extension Store {
    /// Counts the tokens of a corpus file, builds a vocabulary from the counts and saves it under `name`.
    ///
    /// The corpus streams through a ``TextReader`` in constant memory; only the distinct tokens are held. The name is
    /// checked before the corpus is read, so a clash fails at once rather than after a long count.
    /// - Parameters:
    ///   - path: a UTF-8 text file, or "-" for standard input.
    ///   - minCount: keep tokens seen at least this often (1 keeps all).
    ///   - maxSize: the most entries, the four specials included; `nil` for no limit.
    ///   - lossy: replace invalid UTF-8 with U+FFFD instead of failing.
    ///   - replace: overwrite a vocabulary of the same name.
    ///   - progress: called after each chunk read, with the reader (``TextReader/bytesRead``,
    ///     ``TextReader/totalBytes``).
    /// - Returns: the saved vocabulary and what the build counted.
    /// - Throws: ``StoreError/invalidName(kind:name:reason:)``, ``StoreError/alreadyExists(kind:name:)``;
    ///   ``TextError`` for an unreadable, invalid or empty corpus;
    ///   other ``StoreError``s when saving fails.
    public func buildVocabulary(corpus path: String, name: String, settings: TokenizerSettings = TokenizerSettings(),
                                minCount: Int = 1, maxSize: Int? = nil, lossy: Bool = false, replace: Bool = false,
                                progress: ((TextReader) -> Void)? = nil)
        throws -> (vocabulary: Vocabulary, statistics: VocabularyBuildStatistics) {
        try buildVocabulary(corpora: [path], name: name, settings: settings, minCount: minCount, maxSize: maxSize,
                            lossy: lossy, replace: replace, progress: progress)
    }

    /// Counts the tokens of several corpus files into one vocabulary (a joint vocabulary of two languages, say) and
    /// saves it; otherwise as ``buildVocabulary(corpus:name:settings:minCount:maxSize:lossy:replace:progress:)``.
    /// At the BPE level `coveredTokens` counts the words the merges were learned from (all of them).
    public func buildVocabulary(corpora paths: [String], name: String,
                                settings: TokenizerSettings = TokenizerSettings(), minCount: Int = 1,
                                maxSize: Int? = nil, lossy: Bool = false, replace: Bool = false,
                                progress: ((TextReader) -> Void)? = nil)
        throws -> (vocabulary: Vocabulary, statistics: VocabularyBuildStatistics) {
        try StoreName.validate(name, kind: "vocabulary")
        if !replace, try vocabularies().contains(where: { $0.name == name }) {
            throw StoreError.alreadyExists(kind: "vocabulary", name: name)
        }
        let start = Date()
        var builder = VocabularyBuilder(settings: settings)
        var bytesRead = 0, replacements = 0
        for path in paths {
            let reader = try TextReader(path: path, lossy: lossy)
            let before = builder.totalTokens
            try builder.addTokens(of: reader, progress: progress)
            guard builder.totalTokens > before else { throw TextError.emptyCorpus(file: reader.name) }
            bytesRead += reader.bytesRead
            replacements += reader.replacements
        }
        let vocabulary = builder.build(minCount: minCount, maxSize: maxSize)
        let id = try saveVocabulary(vocabulary, name: name, replace: replace)
        let covered = settings.level == .bpe ? builder.totalTokens : vocabulary.counts.reduce(0, +)
        let statistics = VocabularyBuildStatistics(
            id: id, bytesRead: bytesRead, totalTokens: builder.totalTokens,
            distinctTokens: builder.distinctTokens, coveredTokens: covered,
            replacements: replacements, seconds: Date().timeIntervalSince(start))
        return (vocabulary, statistics)
    }

    /// Reads a vocabulary file (``VocabularyFile``) and saves it.
    /// - Parameters:
    ///   - path: the file, or "-" for standard input.
    ///   - name: the name to save under; `nil` takes the file's `# name:` header.
    ///   - replace: overwrite a vocabulary of the same name.
    /// - Returns: the name it was saved under and the vocabulary.
    /// - Throws: ``TextError`` for an unreadable or malformed file (naming the line), ``QuillError`` for a missing
    ///   name, ``StoreError`` for a name in use or when saving fails.
    @discardableResult
    public func importVocabulary(file path: String, name: String? = nil, replace: Bool = false)
        throws -> (name: String, vocabulary: Vocabulary) {
        let reader = try TextReader(path: path)
        let (vocabulary, header) = try VocabularyFile.read(reader.readAll(), file: reader.name)
        guard let name = name ?? header, !name.isEmpty else { throw QuillError.unnamedVocabulary(file: reader.name) }
        try saveVocabulary(vocabulary, name: name, replace: replace)
        return (name, vocabulary)
    }

    /// The text form of a stored vocabulary (``VocabularyFile``), ready to write to a file.
    /// - Throws: ``StoreError`` when there is no vocabulary of that name.
    public func exportVocabulary(named name: String) throws -> String {
        VocabularyFile.write(try vocabulary(named: name), name: name)
    }
}
