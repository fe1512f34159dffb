import Foundation
import QuillTestSupport
import Testing
@testable import quill

@Suite struct ProgressBarTests {
    @Test func rendersFractionSizesRateAndETA() {
        let line = ProgressBar.render(label: "counting c.txt", completed: 25_000_000, total: 100_000_000,
                                      elapsed: 2, width: 120)
        #expect(line.hasPrefix("counting c.txt [##########······························]"))
        #expect(line.contains(" 25%  25.0/100.0 MB  12.5 MB/s  ETA 0:06"))
        #expect(line.count <= 120)
    }

    @Test func unknownTotalShowsBytesAndRate() {
        #expect(ProgressBar.render(label: "counting -", completed: 3_000_000, total: nil, elapsed: 1.5, width: 80)
            == "counting -  3.0 MB  2.0 MB/s")
    }

    @Test func narrowTerminalDropsTheBar() {
        let line = ProgressBar.render(label: "counting", completed: 1, total: 2, elapsed: 1, width: 30)
        #expect(!line.contains("[") && line.contains("50%"))
    }

    @Test func durations() {
        #expect(ProgressBar.formatDuration(5) == "0:05")
        #expect(ProgressBar.formatDuration(125.4) == "2:05")
        #expect(ProgressBar.formatDuration(3725) == "1:02:05")
    }

    /// Runs `quill vocab build` on a real pseudo-terminal (util-linux `script`), with a corpus that arrives on
    /// standard input over ~1.5 s, and reads what the terminal received.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs util-linux script"))
    func drawsOnATerminalAfterASecondAndErasesItself() throws {
        let cli = try QuillCLI()
        let part = String(repeating: "the quick brown fox jumps over the lazy dog\n", count: 2000)
        let first = try cli.write("part1.txt", part)
        let second = try cli.write("part2.txt", part)
        let command = "(cat \(first); sleep 1.6; cat \(second)) | '\(cli.binary.path)' vocab build --corpus - "
            + "--name tty --store '\(cli.storePath)'"
        let result = try TestSupport.run(URL(fileURLWithPath: "/usr/bin/script"),
                                         ["-qefc", command, "/dev/null"], in: cli.directory.url)
        expectSuccess(result)
        let screen = result.stdout
        #expect(screen.contains("counting -"), "the bar was drawn: \(screen.debugDescription)")
        #expect(screen.contains("MB/s"))
        #expect(screen.contains("\r\u{1B}[K"), "and erased before the summary")
        #expect(screen.contains("vocabulary 'tty'"))

        let quiet = try cli.run(["vocab", "build", "--corpus", first, "--name", "quiet"])
        expectSuccess(quiet)
        #expect(quiet.stderr.isEmpty, "no bar when standard error is not a terminal")
    }
}
