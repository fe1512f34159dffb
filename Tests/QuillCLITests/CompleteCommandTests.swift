import Foundation
import QuillTestSupport
import Testing

/// `quill complete`: JSON Lines when standard input is not a terminal, and the REPL driven as a person would, on a
/// real terminal (tmux), reading the screen.
@Suite struct CompleteCommandTests {
    /// A CLI directory with a tiny word model `m` of ``TrainCommandTests/corpus``.
    static func trained() throws -> QuillCLI {
        let (cli, corpus) = try TrainCommandTests.prepared()
        expectSuccess(try cli.run(["train", "--corpus", corpus, "--vocabulary", "v", "--name", "m", "--epochs", "2"]
                                  + TrainCommandTests.tinySizes))
        return cli
    }

    @Test func linesFromAPipeGiveJSONLines() throws {
        let cli = try Self.trained()
        let result = try cli.run(["complete", "--model", "m", "--k", "3", "--timings"],
                                 stdin: "The har\n:k 2\nAda walked down to the \n\n")
        expectSuccess(result)
        #expect(result.stdoutLines.count == 3, "a record per line of text, none for the command: \(result.stdout)")
        let first = try jsonObject(result.stdoutLines[0])
        #expect(first["line"] as? Int == 1 && first["text"] as? String == "The har")
        #expect(first["prefix"] as? String == " har")
        let items = try #require(first["suggestions"] as? [[String: Any]])
        #expect(items.count == 1, "only one word of the vocabulary starts with 'har'")
        #expect(items.first?["token"] as? String == " harbour" && items.first?["completion"] as? String == "bour")
        #expect((items.first?["probability"] as? Double ?? 0) > 0)
        #expect((first["continuation"] as? String ?? "").hasPrefix("bour"))
        #expect(first["note"] == nil, "a note is left out when there is none")

        let second = try jsonObject(result.stdoutLines[1])
        #expect(second["line"] as? Int == 3)
        #expect((second["suggestions"] as? [Any])?.count == 2, ":k 2 applies to the lines after it")
        let third = try jsonObject(result.stdoutLines[2])
        #expect(third["line"] as? Int == 4 && third["text"] as? String == "")
        #expect(result.stderr.contains("quill: note: k = 2"))
        #expect(result.stderr.contains("timings: 3 lines; suggestions p50"), "\(result.stderr)")

        expectFailure(try cli.run(["complete", "--model", "m"], stdin: "The\n:k zero\n"), status: 1,
                      mentioning: ["line 2", ":k takes 1…50"])
        expectFailure(try cli.run(["complete", "--model", "nope"], stdin: ""), status: 1, mentioning: ["nope"])
        expectFailure(try cli.run(["complete", "--model", "m", "--k", "0"]), status: 64, mentioning: ["--k"])
        let help = try cli.run(["complete", "--help"])
        for option in ["--model", "--k", "--temperature", "--beam", "--max-tokens", "--precision", "--timings",
                       "Tab", "Alt-1", ":model NAME"] {
            #expect(help.stdout.contains(option), "help lacks \(option)")
        }
    }

    /// A long piped line costs bounded memory: the peak for an 8 MB line is about that for a 2 MB one (a
    /// distribution kept per token took kilobytes per byte), and the suggestions follow its last --max-context tokens.
    @Test(.enabled(if: QuillCLI.time != nil, "needs /usr/bin/time to measure peak memory"))
    func aLongPipedLineTakesBoundedMemory() throws {
        let cli = try Self.trained()
        func line(megabytes: Int) -> Data {
            let sentence = "The boats came in at dusk and the lanterns were lit on the water. "
            return Data((String(repeating: sentence, count: megabytes << 20 / sentence.utf8.count) + "Ada walked down "
                + "to the har\n").utf8)
        }
        let (small, smallPeak) = try cli.runMeasuringMemory(["complete", "--model", "m", "--max-context", "64"],
                                                           stdin: line(megabytes: 2))
        let (large, largePeak) = try cli.runMeasuringMemory(["complete", "--model", "m", "--max-context", "64"],
                                                           stdin: line(megabytes: 8))
        expectSuccess(small)
        expectSuccess(large)
        #expect(largePeak - smallPeak < 3 << 20, "6 MB more input took \(largePeak - smallPeak) bytes more memory")
        let record = try jsonObject(try #require(large.stdoutLines.first))
        #expect(record["prefix"] as? String == " har")
        #expect((record["note"] as? String)?.contains("longer than 64 tokens") == true, "\(record)")
        #expect((record["text"] as? String)?.hasSuffix("Ada walked down to the har") == true)
        // The part of the line not held is still checked as UTF-8.
        var bad = line(megabytes: 2)
        bad[1_000_003] = 0xFF
        expectFailure(try cli.runMeasuringMemory(["complete", "--model", "m"], stdin: bad).0, status: 1,
                      mentioning: ["standard input:1: not valid UTF-8 at byte 1000003"])
    }

    /// A piped line that is not UTF-8 stops the run with an error naming the line and byte, after the lines before.
    @Test func invalidUTF8FromAPipeIsAnErrorNamingTheLine() throws {
        let cli = try Self.trained()
        var input = Data("The har\n".utf8)
        input.append(contentsOf: [0x41, 0x42, 0xFF, 0x0A])
        input.append(contentsOf: Array("The boats\n".utf8))
        let result = try TestSupport.run(cli.binary, ["complete", "--model", "m"], stdin: input,
                                         environment: ["QUILL_STORE": cli.storePath], in: cli.directory.url)
        expectFailure(result, status: 1, mentioning: ["standard input:2: not valid UTF-8 at byte 2", "iconv"])
        #expect(result.stdoutLines.count == 1, "the line before is completed: \(result.stdout)")
    }

    static let tmux = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Types into `quill complete` on a tmux terminal and reads the screen after each step: ghost text, Tab, an
    /// Alt-digit, Enter, history, `:k`, UTF-8 editing, a resize, Ctrl-D; afterwards the terminal is in canonical mode
    /// with echo again.
    @Test(.enabled(if: tmux != nil, "needs tmux (apt install tmux) to drive the REPL on a terminal"))
    func theREPLOnATerminal() throws {
        let cli = try Self.trained()
        let terminal = try TmuxTerminal(tmux: Self.tmux!, directory: cli.directory)
        defer { terminal.close() }
        try terminal.start("'\(cli.binary.path)' complete --model m --store '\(cli.storePath)' --timings; "
            + "echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo|isig)$' | tr '\\n' ' '; "
            + "echo; sleep 60")
        try terminal.wait("the prompt and the hint") { $0.contains("> ") && $0.contains("Tab: next word") }

        try terminal.type("The har")
        let ghost = try terminal.wait("ghost text after the typed text") { $0.contains("> The harbour") }
        let styled = try terminal.capture(escapes: true)
        #expect(styled.contains("The har\u{1B}[2mbour"), "the ghost is dim: \(styled.debugDescription)")
        #expect(ghost.contains("  1  harbour"), "the suggestion is listed: \(ghost)")

        try terminal.keys("Tab")
        try terminal.wait("Tab takes the word") { _ in
            (try? terminal.capture(escapes: true).contains("The harbour")) ?? false
        }

        try terminal.type(" w")
        let listed = try terminal.wait("suggestions for ' w'") { $0.contains("  2  w") }
        let second = try #require(word(numbered: 2, in: listed), "\(listed)")
        try terminal.keys("M-2")
        try terminal.wait("Alt-2 takes '\(second)'") { screen in
            screen.split(separator: "\n").contains { $0.hasPrefix("> The harbour \(second)") }
        }

        try terminal.keys("Enter")
        try terminal.wait("Enter commits and a new prompt follows") { screen in
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
            guard let committed = lines.firstIndex(where: { $0 == "> The harbour \(second)" }) else { return false }
            return lines.count > committed + 1 && lines[committed + 1].hasPrefix(">")
        }

        try terminal.keys("Up")
        try terminal.wait("Up recalls the line") { screen in
            screen.split(separator: "\n").filter { $0.hasPrefix("> The harbour \(second)") }.count == 2
        }
        try terminal.keys("C-u")
        try terminal.type(":k 2")
        try terminal.keys("Enter")
        try terminal.wait(":k 2 answers") { $0.contains("k = 2") }
        try terminal.type("naïve 漢字 e\u{301}")
        try terminal.keys("Left", "Left", "BSpace")
        try terminal.wait("the cursor steps over é and the space, and Backspace takes 字 whole") { screen in
            screen.split(separator: "\n").contains { $0.hasPrefix("> naïve 漢 é") }
        }
        try terminal.keys("C-e", "C-u")
        try terminal.type("The ")
        try terminal.wait("two suggestions") { $0.contains("  2  ") && !$0.contains("  3  ") }
        try terminal.resize(columns: 40)
        try terminal.wait("the rows cut to the new width") { screen in
            screen.split(separator: "\n").contains { $0.hasPrefix("Tab: next word") && $0.count <= 39 }
        }

        try terminal.keys("C-u", "C-d")
        let after = try terminal.wait("Ctrl-D leaves") { $0.contains("EXIT=") && $0.contains("icanon") }
        #expect(after.contains("EXIT=0"), "\(after)")
        #expect(after.contains("timings:") && after.contains("keystrokes"), "\(after)")
        let modes = after.split(separator: "\n").first { $0.contains("icanon") } ?? ""
        #expect(modes.contains("icanon") && !modes.contains("-icanon"), "canonical mode again: \(modes)")
        #expect(modes.contains("echo") && !modes.contains("-echo "), "echo again: \(modes)")
        #expect(modes.contains("isig") && !modes.contains("-isig"), "signals again: \(modes)")
    }

    /// Ctrl-C leaves at once with status 130, the typed line left on screen and the terminal restored.
    @Test(.enabled(if: tmux != nil, "needs tmux (apt install tmux) to drive the REPL on a terminal"))
    func controlCLeaves() throws {
        let cli = try Self.trained()
        let terminal = try TmuxTerminal(tmux: Self.tmux!, directory: cli.directory)
        defer { terminal.close() }
        try terminal.start("'\(cli.binary.path)' complete --model m --store '\(cli.storePath)'; echo EXIT=$?; "
            + "stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; sleep 60")
        try terminal.wait("the prompt") { $0.contains("Tab: next word") }
        try terminal.type("The boats")
        try terminal.wait("the text") { $0.contains("> The boats") }
        try terminal.keys("C-c")
        let after = try terminal.wait("the shell goes on") { $0.contains("EXIT=") && $0.contains("icanon") }
        #expect(after.contains("EXIT=130") && after.contains("> The boats\n"), "\(after)")
        #expect(!after.contains("Tab: next word"), "the suggestions are erased: \(after)")
        let modes = after.split(separator: "\n").first { $0.contains("icanon") } ?? ""
        #expect(!modes.contains("-icanon") && !modes.contains("-echo "), "restored: \(modes)")
    }

    /// SIGTERM while the REPL runs: the terminal is restored and the process dies of the signal.
    @Test(.enabled(if: tmux != nil, "needs tmux (apt install tmux) to drive the REPL on a terminal"))
    func aTerminatingSignalRestoresTheTerminal() throws {
        let cli = try Self.trained()
        let terminal = try TmuxTerminal(tmux: Self.tmux!, directory: cli.directory)
        defer { terminal.close() }
        let pidFile = cli.directory.file("pid").path
        try terminal.start("sh -c 'echo $$ > \(pidFile); exec \"$0\" complete --model m --store \"$1\"' "
            + "'\(cli.binary.path)' '\(cli.storePath)'; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' "
            + "| grep -E '^-?(icanon|echo)$' | tr '\\n' ' '; echo; sleep 60")
        try terminal.wait("the prompt") { $0.contains("Tab: next word") }
        try terminal.type("Ada")
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, SIGTERM) == 0)
        let after = try terminal.wait("the shell goes on") { $0.contains("EXIT=") && $0.contains("icanon") }
        #expect(after.contains("EXIT=143"), "died of SIGTERM: \(after)")
        let modes = after.split(separator: "\n").first { $0.contains("icanon") } ?? ""
        #expect(!modes.contains("-icanon") && !modes.contains("-echo "), "restored: \(modes)")
    }

    /// The word of suggestion row `number` (`  2  walked   12.5%`).
    private func word(numbered number: Int, in screen: String) -> String? {
        for line in screen.split(separator: "\n") where line.hasPrefix("  \(number)  ") {
            return line.dropFirst(5).split(separator: " ").first.map(String.init)
        }
        return nil
    }
}

/// A tmux server of its own (its own socket in the test's directory) with one 100×30 window running a command.
final class TmuxTerminal {
    let tmux: String
    let socket: String
    let directory: URL

    init(tmux: String, directory: TemporaryDirectory) throws {
        self.tmux = tmux
        socket = directory.file("tmux.sock").path
        self.directory = directory.url
    }

    /// Starts the server with a window running `command`.
    ///
    /// Through `bash` (dash cannot name descriptors above 9), which first closes every descriptor above 2: the server
    /// lives on after the client returns, and Foundation's `Process` (here and in tests running alongside) waits
    /// until every copy of a descriptor it gave the child is closed — a server holding one would hang them.
    func start(_ command: String) throws {
        let closeAndRun = "for fd in $(ls /proc/$$/fd 2>/dev/null || ls /dev/fd); do "
            + "if [ \"$fd\" -gt 2 ]; then eval \"exec $fd>&-\"; fi; done; exec \"$0\" \"$@\""
        try run(["new-session", "-d", "-x", "100", "-y", "30", command], through: closeAndRun)
    }

    /// Resizes the window (the program gets SIGWINCH).
    func resize(columns: Int) throws { try run(["resize-window", "-x", String(columns)]) }

    /// Types text literally.
    func type(_ text: String) throws { try run(["send-keys", "-l", text]) }

    /// Presses keys by tmux's names: `Tab`, `Enter`, `Up`, `M-2`, `C-d`.
    func keys(_ names: String...) throws { try run(["send-keys"] + names) }

    /// The screen as text (trailing blanks trimmed), with SGR escapes when `escapes`.
    func capture(escapes: Bool = false) throws -> String {
        try run(["capture-pane", "-p"] + (escapes ? ["-e"] : []))
    }

    /// Waits up to 20 s for the screen to satisfy `condition`, then returns it.
    /// - Throws: naming `what` and showing the screen when it never does.
    @discardableResult
    func wait(_ what: String, sourceLocation: SourceLocation = #_sourceLocation,
              _ condition: (String) throws -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(20)
        var screen = ""
        while Date() < deadline {
            screen = try capture()
            if try condition(screen) { return screen }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("timed out waiting for \(what); the screen:\n\(screen)", sourceLocation: sourceLocation)
        throw TestSupportError("timed out waiting for \(what)")
    }

    func close() { _ = try? run(["kill-server"]) }

    @discardableResult
    private func run(_ arguments: [String], through script: String? = nil) throws -> String {
        let (executable, prefix) = script.map { ("/bin/bash", ["-c", $0, tmux]) } ?? (tmux, [])
        var environment = ["TERM": "xterm-256color", "TMUX": ""]
        let variables = ProcessInfo.processInfo.environment
        if variables["LANG"] == nil && variables["LC_ALL"] == nil { environment["LANG"] = "C.UTF-8" }
        let result = try TestSupport.run(URL(fileURLWithPath: executable), prefix + ["-S", socket] + arguments,
                                         environment: environment, in: directory)
        guard result.succeeded else {
            throw TestSupportError("tmux \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        return result.stdout
    }
}
