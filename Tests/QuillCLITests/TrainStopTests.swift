import Foundation
import QuillTestSupport
import Testing

/// `quill train` stopped by Ctrl-C or SIGTERM, then resumed with `--resume RUN` alone.
@Suite struct TrainStopTests {
    /// Starts `quill train …` in the background, waits until its standard error shows `marker`, sends `signal`, and
    /// waits for it to exit.
    /// `whileRunning` runs after the marker showed, before the signal.
    static func runAndSignal(_ cli: QuillCLI, _ arguments: [String], after marker: String, signal: Int32,
                             whileRunning: (() throws -> Void)? = nil) throws -> (status: Int32, stderr: String) {
        let stderrURL = cli.directory.file("stderr-\(signal).txt")
        try Data().write(to: stderrURL)
        let handle = try FileHandle(forWritingTo: stderrURL)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = cli.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["QUILL_STORE": cli.storePath]) { $1 }
        process.currentDirectoryURL = cli.directory.url
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline,
              !(String(data: (try? Data(contentsOf: stderrURL)) ?? Data(), encoding: .utf8) ?? "").contains(marker) {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(process.isRunning, "the run ended before it could be stopped")
        try whileRunning?()
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self))
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aStoppedRunResumesToTheSameResult(signal: Int32) throws {
        let (cli, corpus) = try TrainCommandTests.prepared()
        let valid = try cli.write("valid.txt", "Ada walked down to the water.\nThe boats came in.\n")
        let options = ["--corpus", corpus, "--valid", valid, "--vocabulary", "v", "--max-windows", "40",
                       "--layers", "2", "--dropout", "0.2", "--checkpoint-every", "3"] + TrainCommandTests.tinySizes
        let stopped = try Self.runAndSignal(cli, ["train", "--name", "stopped", "--epochs", "1000"] + options,
                                            after: "epoch 1/1000", signal: signal)
        #expect(stopped.status == 128 + signal, "stderr: \(stopped.stderr)")
        #expect(stopped.stderr.contains("quill: stopping: writing a checkpoint"))
        #expect(stopped.stderr.contains("training stopped; run #1 checkpointed at")
            && stopped.stderr.contains("quill train --resume 1"), "stderr: \(stopped.stderr)")

        // The epoch in progress when it stopped: one more epoch after it makes the resumed run train across the stop.
        let epochsDone = stopped.stderr.split(separator: "\n").filter { $0.hasPrefix("epoch ") }.count
        let epochs = String(epochsDone + 1)
        let resumed = try cli.run("train", "--resume", "1", "--epochs", epochs)
        expectSuccess(resumed)
        #expect(resumed.stdout.contains("model 'stopped'") && resumed.stdout.contains("run #1"))

        // Same final epoch, to the printed digits, as the run never stopped (the library test checks every bit).
        func lastEpoch(_ text: String) -> String? {
            text.split(separator: "\n").last { $0.hasPrefix("epoch \(epochs)/\(epochs)") }.map {
                String($0.split(separator: ",").prefix(4).joined(separator: ","))
            }
        }
        let again = try cli.run(["train", "--name", "again", "--epochs", epochs] + options)
        let first = try #require(lastEpoch(again.stderr))
        #expect(lastEpoch(resumed.stderr) == first, "resumed: \(resumed.stderr)")
    }

    /// Ctrl-C while `quill train` builds its vocabulary (or encodes the corpus) stops at once and stores nothing: no
    /// run, no vocabulary. The corpus takes seconds to count in a debug build; the signal comes well before.
    @Test func aStopBeforeTheRunStartsStoresNothing() throws {
        let cli = try QuillCLI()
        var text = ""
        text.reserveCapacity(24 << 20)
        var x: UInt64 = 1
        while text.utf8.count < 24 << 20 {  // 24 MB of lines of pseudo-random words
            for _ in 0..<12 {
                x = x &* 6364136223846793005 &+ 1442695040888963407
                text += "w\(x >> 53) "
            }
            text += "\n"
        }
        let corpus = try cli.write("big.txt", text)
        let process = Process()
        process.executableURL = cli.binary
        process.arguments = ["train", "--corpus", corpus, "--name", "big", "--hidden", "4", "--max-windows", "1"]
        process.environment = ProcessInfo.processInfo.environment.merging(["QUILL_STORE": cli.storePath]) { $1 }
        process.currentDirectoryURL = cli.directory.url
        let stderrURL = cli.directory.file("stop-stderr.txt")
        try Data().write(to: stderrURL)
        let handle = try FileHandle(forWritingTo: stderrURL)
        defer { try? handle.close() }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        try process.run()
        // The store is opened just before the stop signals are installed and the vocabulary counted.
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline, !FileManager.default.fileExists(atPath: cli.storePath) {
            Thread.sleep(forTimeInterval: 0.02)
        }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(process.isRunning, "the run ended before it could be stopped")
        let signalled = Date()
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let stderr = String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self)
        #expect(Date().timeIntervalSince(signalled) < 3, "the stop waited: \(stderr)")
        #expect(process.terminationStatus == 130, "stderr: \(stderr)")
        #expect(stderr.contains("training stopped before its run started") && stderr.contains("nothing was stored"),
                "stderr: \(stderr)")
        #expect(!stderr.contains("writing a checkpoint"))
        let runs = try cli.run("runs", "list")
        #expect(runs.stdout.isEmpty && runs.stderr.contains("no runs"), "\(runs.stdout)")
        let vocabularies = try cli.run("vocab", "list")
        #expect(vocabularies.stdout.isEmpty && vocabularies.stderr.contains("no vocabularies"),
                "\(vocabularies.stdout)")
    }

    @Test func resumeErrors() throws {
        let (cli, corpus) = try TrainCommandTests.prepared()
        let options = ["train", "--corpus", corpus, "--vocabulary", "v", "--name", "m", "--max-windows", "3"]
            + TrainCommandTests.tinySizes
        expectSuccess(try cli.run(options))
        expectFailure(try cli.run("train", "--resume", "1"), status: 1, mentioning: ["run #1 has finished"])
        expectFailure(try cli.run("train", "--resume", "7"), status: 1, mentioning: ["run"])
        expectFailure(try cli.run("train", "--name", "x"), status: 64, mentioning: ["--corpus"])
    }
}
