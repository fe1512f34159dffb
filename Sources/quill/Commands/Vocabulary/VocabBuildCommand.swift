import ArgumentParser
import Foundation
import Quill

/// `quill vocab build`: counts a corpus and saves the vocabulary.
struct VocabBuildCommand: StoreBackedCommand, LossyReading {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Count the tokens of a corpus and save the vocabulary in the store.",
        discussion: """
            Streams the corpus in constant memory (a progress bar shows on a terminal), keeps the tokens seen at \
            least --min-count times, most frequent first, up to --max-size entries, and prints one line: name, \
            size, tokens counted, distinct tokens, the share of the corpus the kept tokens cover, fingerprint and \
            time. Creates the store if there is none.

            With --level bpe the words (the word level's tokens, spaces attached) are counted and --merges merges \
            are learned from them (byte-pair encoding, Sennrich et al. 2016): the vocabulary holds the specials, 256 \
            byte tokens, the characters seen and the subwords, and is stored with its merges. Merges never cross a \
            word or whitespace token, so detokenizing stays concatenation; a character not in the vocabulary falls \
            back to its UTF-8 bytes, never <unk>. --corpus may be repeated: one vocabulary is counted over all the \
            files (a joint vocabulary for two languages; build one per file for separate ones).

            Examples:
              quill vocab build --corpus train.txt --name ptb-word --level whitespace
              quill vocab build --corpus shakespeare.txt --name chars --level character --max-size 100
              quill vocab build --corpus wiki.train.tokens --name wiki-bpe --level bpe --merges 8000
              quill vocab build --corpus train.en --corpus train.fr --name en-fr-bpe --level bpe --merges 16000
            """)
    static var openMode: Store.OpenMode { .create }

    @Option(help: ArgumentHelp("The corpus: a UTF-8 text file, or - for standard input; repeat it to count several "
        + "files into one vocabulary.", valueName: "file"))
    var corpus: [String]

    @Option(help: "The name to save the vocabulary under.")
    var name: String

    @OptionGroup(title: "Tokenizer options")
    var tokenizer: TokenizerOptions

    @Option(parsing: .number, help: "Keep only tokens seen at least this many times.")
    var minCount = 1

    @Option(parsing: .number,
            help: "Keep at most this many entries, the 4 specials included (the most frequent tokens win).")
    var maxSize: Int?

    @Flag(help: "Replace a vocabulary of the same name (without it, an existing name is an error).")
    var replace = false

    @Flag(help: "Replace invalid UTF-8 with U+FFFD (and report how many) instead of failing.")
    var lossy = false

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        try validateName(name)
        if corpus.isEmpty { throw ValidationError("give the corpus with --corpus") }
        if minCount < 1 { throw ValidationError("--min-count must be at least 1 (got \(minCount))") }
        if tokenizer.level == .bpe && (minCount != 1 || maxSize != nil) {
            throw ValidationError("--min-count and --max-size do not apply to --level bpe: --merges sets its size")
        }
        if let maxSize, maxSize <= Vocabulary.specialTokens.count {
            throw ValidationError("--max-size must exceed the \(Vocabulary.specialTokens.count) special tokens "
                + "(got \(maxSize))")
        }
    }

    func run(store: Store) throws {
        let files = corpus.joined(separator: ", ")
        let (vocabulary, stats) = try ProgressBar(label: "counting \(files)").showing { bar in
            try store.buildVocabulary(
                corpora: corpus, name: name, settings: tokenizer.settings, minCount: minCount, maxSize: maxSize,
                lossy: lossy, replace: replace) { bar.update($0.bytesRead, of: $0.totalBytes) }
        }
        if lossy { note("\(files): replaced \(stats.replacements) invalid UTF-8 sequence(s) with U+FFFD") }
        print("vocabulary '\(shown(name))': \(vocabulary.count) entries; \(stats.totalTokens) tokens counted, "
            + "\(stats.distinctTokens) distinct; "
            + (vocabulary.settings.level == .bpe
                ? "\(vocabulary.merges.count) merges learned; "
                : "the kept tokens cover " + String(format: "%.2f%%", stats.coverage * 100) + " of the corpus; ")
            + "fingerprint "
            + "\(vocabulary.fingerprint.prefix(12)); " + String(format: "%.2f s", stats.seconds))
    }
}
