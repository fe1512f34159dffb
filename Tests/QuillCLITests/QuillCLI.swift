import Foundation
import QuillTestSupport
import Testing

/// The built `quill` binary, run in a temporary directory of its own with `QUILL_STORE` pointing into it.
///
/// The test target depends on the `quill` product, so `swift test` builds the binary before running these tests.
final class QuillCLI {
    let directory: TemporaryDirectory
    let binary: URL

    /// The store every run uses unless it passes `--store`.
    var storePath: String { directory.file("test.sqlite").path }

    init() throws {
        binary = try TestSupport.executable(named: "quill")
        directory = try TemporaryDirectory(prefix: "quill-cli-test")
    }

    /// Runs `quill arguments…` in the directory, with `stdin` as standard input.
    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        try TestSupport.run(binary, arguments, stdin: stdin.map { Data($0.utf8) },
                            environment: ["QUILL_STORE": storePath].merging(environment) { $1 },
                            in: directory.url)
    }

    @discardableResult
    func run(_ arguments: String..., stdin: String? = nil) throws -> ProcessResult {
        try run(arguments, stdin: stdin)
    }

    /// `/usr/bin/time`, which reports a run's peak resident memory (`-v`), when installed.
    static let time = FileManager.default.isExecutableFile(atPath: "/usr/bin/time") ? "/usr/bin/time" : nil

    /// Runs `quill arguments…` as ``run(_:stdin:environment:)`` does, under `/usr/bin/time -v`: the result (its
    /// standard error ends with time's report) and the peak resident memory in bytes.
    func runMeasuringMemory(_ arguments: [String], stdin: Data) throws -> (ProcessResult, peakBytes: Int) {
        let time = try #require(Self.time, "needs /usr/bin/time")
        let result = try TestSupport.run(URL(fileURLWithPath: time), ["-v", binary.path] + arguments, stdin: stdin,
                                         environment: ["QUILL_STORE": storePath], in: directory.url)
        let label = "Maximum resident set size (kbytes): "
        let line = try #require(result.stderr.split(separator: "\n").first { $0.contains(label) }, "\(result.stderr)")
        let kilobytes = try #require(Int(line.split(separator: " ").last ?? ""), "\(line)")
        return (result, kilobytes * 1024)
    }

    /// Runs `quill arguments` through `/bin/sh` (a shell command line after `quill`), so that a shell word such as
    /// `"$(printf '\377')"` can pass bytes a Swift string cannot hold, e.g. an argument that is not UTF-8.
    func runInShell(_ arguments: String) throws -> ProcessResult {
        try TestSupport.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$0\" " + arguments, binary.path],
                            environment: ["QUILL_STORE": storePath], in: directory.url)
    }

    /// Writes a file into the directory and returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        try write(name, Data(contents.utf8))
    }

    @discardableResult
    func write(_ name: String, _ contents: Data) throws -> String {
        let url = directory.file(name)
        try contents.write(to: url)
        return url.path
    }
}

/// Expects exit status 0, showing standard error otherwise.
func expectSuccess(_ result: ProcessResult, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.succeeded, "exit status \(result.status); stderr: \(result.stderr)", sourceLocation: sourceLocation)
}

/// Expects a failure with `status` (any non-zero status when nil), reported as `quill: error: …` containing each of
/// `fragments` on standard error.
func expectFailure(_ result: ProcessResult, status: Int32? = nil, mentioning fragments: [String] = [],
                   sourceLocation: SourceLocation = #_sourceLocation) {
    if let status {
        #expect(result.status == status, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    } else {
        #expect(result.status != 0, "stdout: \(result.stdout)", sourceLocation: sourceLocation)
    }
    #expect(!result.exitedBySignal, sourceLocation: sourceLocation)
    #expect(result.stderr.hasPrefix("quill: error: "), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(result.stderr.contains(fragment), "stderr lacks \"\(fragment)\": \(result.stderr)",
                sourceLocation: sourceLocation)
    }
}

/// The JSON object on one line of output.
func jsonObject(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
    return try #require(object as? [String: Any], "not a JSON object: \(line)", sourceLocation: sourceLocation)
}

/// The inverse of the CLI's token escaping (`VocabularyFile.escape`): `\\` `\s` `\t` `\n` `\r` `\u{XXXX}`.
/// Written out here because this test target links no Quill module: it tests the binary.
func unescapeToken(_ text: String) -> String? {
    var out = String.UnicodeScalarView()
    var it = text.unicodeScalars.makeIterator()
    while let u = it.next() {
        guard u == "\\" else { out.append(u); continue }
        switch it.next() {
        case "\\": out.append("\\")
        case "s": out.append(" ")
        case "t": out.append("\t")
        case "n": out.append("\n")
        case "r": out.append("\r")
        case "u":
            guard it.next() == "{" else { return nil }
            var hex = ""
            while let h = it.next(), h != "}" { hex.unicodeScalars.append(h) }
            guard let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value) else { return nil }
            out.append(scalar)
        default: return nil
        }
    }
    return String(out)
}

/// A small corpus: "the" is the most frequent word token.
let smallCorpus = """
    The cat sat on the mat.
    The dog sat on the log, and the cat saw the dog.
    A café in Zürich: naïve coffee, 3.14 francs!\n
    """
