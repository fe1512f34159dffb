import Foundation
import QuillTestSupport
import Testing

/// The bad-input catalogue: every command that reads text, given an empty file, a one-token file, binary bytes and one
/// long line without a line break, and the training commands given absurd settings. Whatever a command decides, it
/// never crashes; a refusal is `quill: error: …` naming the file (or the option), with a non-zero exit, and leaves the
/// store byte for byte as it was. Where the right answer is clear (nothing to train on, bytes that are not text), the
/// command must refuse.
@Suite struct BadInputCatalogueTests {
    enum Input: String, CaseIterable, CustomTestStringConvertible {
        case empty, oneToken, binary, longLine
        var testDescription: String { rawValue }

        var bytes: Data {
            switch self {
            case .empty: return Data()
            case .oneToken: return Data("word".utf8)
            case .binary: return Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37) })
            case .longLine:
                let words = ["ab", "cd", "ef", "gh", "ij"]
                return Data((0..<100_000).map { words[$0 % 5] }.joined(separator: " ").utf8)  // 300 KB, no LF
            }
        }
        /// No training can come out of it.
        var isUntrainable: Bool { self == .empty || self == .binary }
    }

    /// A store with a language model `m` (vocabulary `m`), a translation model `t` and an autoencoder `a`, all tiny:
    /// trained once, copied into each test's directory.
    static let template = Result { try makeTemplate() }

    static func trainedStore() throws -> QuillCLI {
        let (store, files) = try template.get()
        let cli = try QuillCLI()
        try FileManager.default.copyItem(atPath: store, toPath: cli.storePath)
        for (name, text) in files { try cli.write(name, text) }
        return cli
    }

    static func makeTemplate() throws -> (store: String, files: [(String, String)]) {
        let cli = try QuillCLI()
        let lines = (0..<60).map { i in (0..<(3 + i % 5)).map { ["ab", "cd", "ef", "gh"][($0 + i) % 4] } }
        let files = [("corpus.txt", lines.map { $0.joined(separator: " ") }.joined(separator: "\n") + "\n"),
                     ("upper.txt", lines.map { $0.joined(separator: " ").uppercased() }.joined(separator: "\n") + "\n")]
        for (name, text) in files { try cli.write(name, text) }
        expectSuccess(try cli.run(["train", "--corpus", "corpus.txt", "--name", "m", "--hidden", "8", "--epochs", "1"]))
        expectSuccess(try cli.run(["translation", "train", "--source", "corpus.txt", "--target", "upper.txt",
                                   "--name", "t", "--preset", "tiny", "--embedding", "8", "--hidden", "8",
                                   "--epochs", "1"]))
        expectSuccess(try cli.run(["autoencoder", "train", "--corpus", "corpus.txt", "--name", "a", "--embedding", "8",
                                   "--hidden", "8", "--epochs", "1"]))
        // The last connection folded the log into the file; the copy outlives this directory.
        let store = FileManager.default.temporaryDirectory.appendingPathComponent("quill-catalogue-\(UUID()).sqlite")
        try FileManager.default.copyItem(atPath: cli.storePath, toPath: store.path)
        return (store.path, files)
    }

    /// The store's bytes and its log's (a missing log and an empty one are the same), to show a refusal changed
    /// nothing.
    static func snapshot(_ cli: QuillCLI) -> [Data] {
        ["", "-wal"].map { (try? Data(contentsOf: URL(fileURLWithPath: cli.storePath + $0))) ?? Data() }
    }

    struct Case: Sendable {
        var arguments: [String]
        var stdin: Bool = false
        /// The command must refuse this input.
        var mustRefuse: @Sendable (Input) -> Bool
    }

    /// Every command that reads text, `F` standing for the file.
    static let commands: [Case] = [
        Case(arguments: ["vocab", "build", "--corpus", "F", "--name", "v2"], mustRefuse: { $0.isUntrainable }),
        Case(arguments: ["tokenize", "F"], mustRefuse: { $0 == .binary }),
        Case(arguments: ["train", "--corpus", "F", "--name", "m2", "--hidden", "8", "--max-windows", "3"],
             mustRefuse: { $0.isUntrainable }),
        Case(arguments: ["ngram", "train", "--corpus", "F", "--vocabulary", "m", "--name", "n2"],
             mustRefuse: { $0.isUntrainable }),
        Case(arguments: ["eval", "--model", "m", "--text", "F"], mustRefuse: { $0.isUntrainable }),
        Case(arguments: ["predict", "--model", "m", "--task", "score", "--input", "F"], mustRefuse: { $0 == .binary }),
        Case(arguments: ["complete", "--model", "m"], stdin: true, mustRefuse: { $0 == .binary }),
        Case(arguments: ["translation", "train", "--source", "F", "--target", "F", "--name", "t2", "--preset", "tiny",
                         "--max-batches", "2"], mustRefuse: { $0.isUntrainable }),
        Case(arguments: ["translate", "--model", "t", "F"], mustRefuse: { $0 == .binary }),
        Case(arguments: ["translation", "score", "--reference", "F", "F"], mustRefuse: { $0 == .binary }),
        Case(arguments: ["autoencoder", "train", "--corpus", "F", "--name", "a2", "--hidden", "8", "--max-batches", "2"],
             mustRefuse: { $0.isUntrainable }),
        Case(arguments: ["embed", "--model", "a", "F"], mustRefuse: { $0 == .binary }),
        Case(arguments: ["anomaly", "--model", "a", "F"], mustRefuse: { $0 == .binary }),
    ]

    @Test(arguments: Input.allCases) func everyCommandThatReadsText(input: Input) throws {
        let cli = try Self.trainedStore()
        let file = "input-\(input.rawValue).txt"
        try cli.write(file, input.bytes)
        for command in Self.commands {
            let arguments = command.arguments.map { $0 == "F" ? file : $0 }
            let before = Self.snapshot(cli)
            let result = command.stdin
                ? try TestSupport.run(cli.binary, arguments, stdin: input.bytes,
                                      environment: ["QUILL_STORE": cli.storePath], in: cli.directory.url)
                : try cli.run(arguments)
            let label = "quill \(arguments.joined(separator: " "))"
            #expect(!result.exitedBySignal, "\(label) crashed: \(result.stderr)")
            if command.mustRefuse(input) {
                #expect(!result.succeeded, "\(label) accepted \(input)")
            }
            guard !result.succeeded else { continue }
            #expect(result.stderr.hasPrefix("quill: error: "), "\(label): \(result.stderr)")
            #expect(command.stdin ? result.stderr.contains("standard input") || input != .binary
                                  : result.stderr.contains(file), "\(label) does not name its input: \(result.stderr)")
            #expect(Self.snapshot(cli) == before, "\(label) changed the store although it failed")
        }
    }

    @Test func absurdSettingsAreRefusedBeforeAnythingIsWritten() throws {
        let cli = try Self.trainedStore()
        let before = Self.snapshot(cli)
        let absurd: [([String], String)] = [
            (["--hidden", "100000000"], "memory"),
            (["--hidden", "0"], "--hidden"),
            (["--layers", "100000"], "memory"),
            (["--bptt", "0"], "--bptt"),
            (["--batch", "-3"], "--batch"),
            (["--lr", "nan"], "--lr"),
            (["--lr", "1e39"], "--lr"),
            (["--dropout", "1"], "--dropout"),
            (["--epochs", "0"], "--epochs"),
            (["--clip", "-1"], "--clip"),
        ]
        for (settings, mention) in absurd {
            let result = try cli.run(["train", "--corpus", "corpus.txt", "--name", "absurd"] + settings)
            expectFailure(result, mentioning: [mention])
            #expect(Self.snapshot(cli) == before, "train \(settings) changed the store")
        }
        let translation = try cli.run(["translation", "train", "--source", "corpus.txt", "--target", "upper.txt",
                                       "--name", "absurd", "--hidden", "7"])
        expectFailure(translation, mentioning: ["--hidden"])
        #expect(Self.snapshot(cli) == before)
    }
}
