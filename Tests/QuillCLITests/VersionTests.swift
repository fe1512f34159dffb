import Foundation
import QuillTestSupport
import Testing

/// `quill --version` prints the one version of the repository (`Sources/QuillStore/QuillVersion.swift`), and a store
/// quill creates records it (`quill store info`).
@Suite struct VersionTests {
    static var repositoryVersion: String {
        get throws {
            let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Sources/QuillStore/QuillVersion.swift")
            let text = try String(contentsOf: source, encoding: .utf8)
            let line = try #require(text.split(separator: "\n").first { $0.contains("static let current") })
            return String(try #require(line.split(separator: "\"").dropFirst().first))
        }
    }

    @Test func versionIsTheRepositorysAndAStoreRecordsIt() throws {
        let cli = try QuillCLI(), expected = try Self.repositoryVersion
        let version = try cli.run("--version")
        expectSuccess(version)
        #expect(version.stdout == expected + "\n")
        expectSuccess(try cli.run("store", "init"))
        let info = try cli.run("store", "info", "--format", "jsonl")
        expectSuccess(info)
        let object = try jsonObject(try #require(info.stdoutLines.first))
        #expect(object["quillVersion"] as? String == expected)
        let writers = try #require(object["writers"] as? [[String: Any]])
        #expect(writers.map { $0["version"] as? String } == [expected])
    }
}
