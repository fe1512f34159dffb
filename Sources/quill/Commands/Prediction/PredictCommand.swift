import ArgumentParser
import Foundation
import Quill

extension Predictor.Task: ExpressibleByArgument {}

/// `quill predict`: predictions for every line of a file, as JSON Lines.
struct PredictCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Predict for every line of a text with a stored model: next words, completions, continuations or "
            + "scores, as JSON Lines.",
        discussion: """
            Reads lines (from --input, or standard input), steps them through the model in batches of --batch-lines \
            (one batched step per position for the whole batch), and writes one JSON object per line, in input \
            order, with its line number: "next" the --top-k most likely next tokens; "complete" the completions of \
            the line's partial last word; "generate" a continuation (greedy by default; a beam search with --beam \
            above 1; sampling with a --temperature above 0, cut by --top-k and --top-p, seeded by --seed plus the \
            line number); "score" the log-probability of the line's tokens and of its end, its perplexity and \
            token count. Each line is read as a line of the training text: it starts after the corpus's line \
            break, and a scored line ends on it (see docs/prediction.md). Defaults: --top-k 5, --temperature 0, \
            --beam 1, --max-tokens 20, --top-p 1, --seed 1. With --mix NGRAM the "next" and "complete" suggestions come \
            from the model mixed with a stored n-gram model.

            Memory stays constant whatever the input's size, even for one endless line: at most --batch-lines lines \
            are held, of each at most --max-context tokens and 64 bytes per token (at least 64 KiB; its start for \
            "score", its end otherwise), and one distribution per line.

            A line that is not valid UTF-8 gives an error record naming the line and byte offset, and the others go \
            on; the exit status is then 1. Empty lines give a record with "empty": true. Lines longer than \
            --max-context tokens are cut (to their end, or to their start for "score", whose line break is then not \
            scored) and marked "truncated".

            Examples:
              printf 'The old man\\nShe opened the\\n' | quill predict --model tiny --task next
              quill predict --model ptb --task score --input ptb.test.txt --output scores.jsonl
              quill predict --model tiny --task generate --temperature 0.8 --seed 3 --input prompts.txt
            """)

    @Option(help: "The stored model.", completion: StoreNameCompletion.models)
    var model: String

    @Option(help: ArgumentHelp("The text, one input per line; - for standard input.", valueName: "file"))
    var input = "-"

    @Option(help: ArgumentHelp("Where to write the JSON Lines; - for standard output.", valueName: "file"))
    var output = "-"

    @Option(help: "next, complete, generate or score.")
    var task: Predictor.Task

    @OptionGroup(title: "Decoding (--top-k is also the number of suggestions of next and complete)")
    var decoding: DecodingArguments

    /// Greedy continuations (temperature 0, beam 1); 5 suggestions, which are also the sampling cut.
    static let defaults = DecodingOptions(temperature: 0, topK: 5, beamWidth: 1, maxTokens: 20)

    @Option(parsing: .number, help: ArgumentHelp("Lines longer than this many tokens are cut.", valueName: "tokens"))
    var maxContext = ContextCap.defaultTokens

    @Option(parsing: .number, help: ArgumentHelp("Lines stepped together.", valueName: "n"))
    var batchLines = 64

    @Option(help: "Weights used to step the model: float32 or int8.")
    var precision: SteppingPrecision = .float32

    @Option(parsing: .number, help: "Threads of the kernels. (default: QUILL_THREADS, else the cores)")
    var threads: Int?

    @OptionGroup(title: "Mixing")
    var ngram: NGramMixOptions

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        for (name, value) in [("--max-context", maxContext), ("--batch-lines", batchLines),
                              ("--threads", threads ?? 1)] where value < 1 {
            throw ValidationError("\(name) must be at least 1 (got \(value))")
        }
    }

    func run(store: Store) throws {
        if let threads { setenv("QUILL_THREADS", String(threads), 1) }  // read when the shared pool starts
        let (model, vocabulary) = try store.loadStreamLanguageModel(named: model)
        let decoding = self.decoding.options(defaults: Self.defaults)
        let options = Predictor.Options(task: task, suggestions: decoding.topK ?? 5, decoding: decoding,
                                        maxContext: maxContext)
        let predictor = try Predictor(model: model, vocabulary: vocabulary, options: options,
                                      precision: precision.precision,
                                      ngram: try ngram.mixture(for: self.model, vocabulary: vocabulary, store: store))

        // In an MPI job the lines are shared out a round of --batch-lines per rank at a time (Job.shareRound).
        let predict = { (texts: [PredictedText]) in try predictor.predict(texts.map { ($0.number, $0.text, $0.isPart) }) }
        if Job.isFollower {
            while try Job.shareRound(nil, predict) != nil {}
            return
        }
        let roundLines = batchLines * (Job.group?.size ?? 1)
        let bytes = ContextCap.bytes(forTokens: maxContext)
        let reader = try LineReader(path: input, holding: options.keeps == .start ? .start(bytes: bytes)
                                    : .end(bytes: bytes))
        let writer = try OutputFile(path: output)
        let bar = ProgressBar(label: "predicting")
        defer { bar.finish() }
        var invalidLines = 0
        var pending: [(number: Int, record: LineRecord?, text: String?, isPart: Bool)] = []
        func flush() throws {
            let texts = pending.compactMap { entry in
                entry.text.map { PredictedText(number: entry.number, text: $0, isPart: entry.isPart) }
            }
            var predictions = try Job.shareRound(texts, predict)![...]
            for entry in pending {
                let record = entry.record ?? .prediction(predictions.removeFirst())
                try writer.write(try jsonLine(Numbered(line: entry.number, value: record)) + "\n")
            }
            pending.removeAll(keepingCapacity: true)
            bar.update(reader.bytesRead, of: reader.totalBytes)
        }
        while let line = try reader.next() {
            switch line.text {
            case .failure(let invalid):
                invalidLines += 1
                pending.append((line.number, .error("\(invalid)"), nil, false))
            case .success(let text) where text.isEmpty:
                pending.append((line.number, .empty, nil, false))
            case .success(let text):
                pending.append((line.number, nil, text, line.isPart))
            }
            if pending.count >= roundLines { try flush() }
        }
        try flush()
        _ = try Job.shareRound(nil, predict)
        try writer.close()
        if invalidLines > 0 {
            throw CLIError("\(invalidLines) line\(invalidLines == 1 ? " was" : "s were") not valid UTF-8 in \(reader.name); "
                + "their records hold the error, every other line was predicted")
        }
    }

    /// A line to predict, as the ranks of an MPI job pass it around.
    struct PredictedText: Codable {
        var number: Int
        var text: String
        var isPart: Bool
    }

    /// What `predict` prints for a line: the library's ``Predictor/Prediction``, or `{"empty": true}`, or
    /// `{"error": message}` for a line that is not UTF-8.
    enum LineRecord: Codable, Sendable, Equatable {
        case prediction(Predictor.Prediction)
        case empty
        case error(String)

        enum CodingKeys: String, CodingKey { case empty, error }

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .prediction(let p): try p.encode(to: encoder)
            case .empty:
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(true, forKey: .empty)
            case .error(let message):
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .error)
            }
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let message = try c.decodeIfPresent(String.self, forKey: .error) {
                self = .error(message)
            } else if try c.decodeIfPresent(Bool.self, forKey: .empty) == true {
                self = .empty
            } else {
                self = .prediction(try Predictor.Prediction(from: decoder))
            }
        }
    }
}

/// Standard output or a file, written as it goes.
final class OutputFile {
    private let handle: FileHandle
    private let isFile: Bool

    init(path: String) throws {
        if path == "-" {
            handle = FileHandle.standardOutput
            isFile = false
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil),
                  let handle = FileHandle(forWritingAtPath: path) else {
                throw CLIError("\(path): cannot create the file; check the folder exists and is writable")
            }
            self.handle = handle
            isFile = true
        }
    }

    func write(_ text: String) throws { try handle.write(contentsOf: Data(text.utf8)) }

    func close() throws { if isFile { try handle.close() } }
}
