import Foundation
import QuillTestSupport
import Testing

/// `quill serve` refuses what would expose or break a server before it starts; the API itself is tested over HTTP in
/// QuillServerTests.
struct ServeCommandTests {
    @Test func helpNamesTheOptions() throws {
        let result = try QuillCLI().run("serve", "--help")
        expectSuccess(result)
        for mention in ["--model", "--host", "--port", "--token", "--allow-anyone", "--allow-origin", "--max-sessions",
                        "--precision", "--max-batch", "--mix", "--no-document-cache", "/v1/suggest", "/v1/generate",
                        "Example"] {
            #expect(result.stdout.contains(mention), "help lacks \(mention)")
        }
    }

    @Test func anotherMachineNeedsATokenOrConsent() throws {
        expectFailure(try QuillCLI().run("serve", "--model", "m", "--host", "0.0.0.0"), status: 64,
                      mentioning: ["--token", "--allow-anyone"])
        expectFailure(try QuillCLI().run("serve"), status: 64, mentioning: ["--model"])
        expectFailure(try QuillCLI().run("serve", "--model", "m", "--port", "70000"), status: 64, mentioning: ["--port"])
    }

    @Test func anUnknownModelStopsItBeforeItListens() throws {
        let cli = try QuillCLI()
        expectSuccess(try cli.run("store", "init"))
        expectFailure(try cli.run("serve", "--model", "nope", "--port", "0"), status: 1, mentioning: ["nope"])
    }

    /// SIGTERM lets the request in flight finish (its body is still arriving when the signal comes), refuses new
    /// connections, and exits with status 0.
    @Test func sigtermDrainsTheRequestInFlight() throws {
        let (cli, corpus) = try TrainCommandTests.prepared()
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--vocabulary", "v", "--name", "m", "--max-windows",
                                   "2"] + TrainCommandTests.tinySizes))
        let stderrURL = cli.directory.file("serve-stderr.txt")
        try Data().write(to: stderrURL)
        let handle = try FileHandle(forWritingTo: stderrURL)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = cli.binary
        process.arguments = ["serve", "--model", "m", "--port", "0"]
        process.environment = ProcessInfo.processInfo.environment.merging(["QUILL_STORE": cli.storePath]) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var port: Int?
        let deadline = Date().addingTimeInterval(60)
        while port == nil, process.isRunning, Date() < deadline {
            let text = String(decoding: (try? Data(contentsOf: stderrURL)) ?? Data(), as: UTF8.self)
            if let range = text.range(of: "listening on http://127.0.0.1:") {
                port = Int(text[range.upperBound...].prefix { $0.isNumber })
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let listening = try #require(port, "the server did not start")
        let connection = try RawConnection(port: listening)
        let body = #"{"text": "Ada walked", "k": 2}"#
        try connection.send("POST /v1/next HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body.prefix(8))
        Thread.sleep(forTimeInterval: 0.3)
        kill(process.processIdentifier, SIGTERM)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(process.isRunning, "the server exited with a request in flight")
        #expect((try? RawConnection(port: listening)) == nil, "a new connection was let in while draining")
        try connection.send(String(body.dropFirst(8)))
        let answer = connection.receive(timeout: 10)
        #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
        #expect(answer.contains("\"suggestions\""))
        let exitDeadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < exitDeadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!process.isRunning, "the server did not exit after draining")
        if !process.isRunning { #expect(process.terminationStatus == 0) }
    }
}
