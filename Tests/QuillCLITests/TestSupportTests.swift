import Foundation
import QuillTestSupport
import Testing

/// The helpers the CLI tests stand on.
struct TestSupportTests {
    @Test func aMissingProductIsReportedWithHowToBuildIt() {
        #expect {
            try TestSupport.executable(named: "no-such-product")
        } throws: { error in
            "\(error)".contains("swift build --product no-such-product")
        }
    }

    @Test func temporaryDirectoryIsUniqueAndRemoved() throws {
        var paths: [String] = []
        try withTemporaryDirectory { url in
            paths.append(url.path)
            try Data("x".utf8).write(to: url.appendingPathComponent("file"))
            try withTemporaryDirectory { other in paths.append(other.path) }
        }
        #expect(paths.count == 2 && paths[0] != paths[1])
        #expect(!paths.contains { FileManager.default.fileExists(atPath: $0) })
    }

    @Test func packageRootHoldsThePackageManifest() {
        #expect(FileManager.default.fileExists(atPath: TestSupport.packageRoot.appendingPathComponent("Package.swift").path))
    }

    @Test func sharedCorporaIsBesideThePackageWhenPresent() {
        if let corpora = TestSupport.sharedCorpora {
            #expect(corpora.deletingLastPathComponent().lastPathComponent == "shared")
        }
    }

    @Test func processOutputAndStatusAreCaptured() throws {
        let shell = URL(fileURLWithPath: "/bin/sh")
        let result = try TestSupport.run(shell, ["-c", "cat; echo oops >&2; exit 3"], stdin: Data("in\n".utf8))
        #expect(result.status == 3 && !result.succeeded)
        #expect(result.stdout == "in\n")
        #expect(result.stderr == "oops\n")
    }
}
