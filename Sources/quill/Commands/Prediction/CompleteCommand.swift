import ArgumentParser
import Foundation
import Quill
import QuillTerminal

/// `quill complete`: the autocomplete REPL on a terminal, JSON Lines of suggestions otherwise.
struct CompleteCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "complete",
        abstract: "Suggest the next words as you type, with a stored language model.",
        discussion: """
            On a terminal: a line editor. Suggestions for the next word, or for the rest of the word being typed, \
            appear below the line, and the best continuation as dim ghost text after it. Tab takes the next word \
            of the ghost text, Shift-Tab (or Right at the end of the line) all of it, Alt-1…Alt-9 a suggestion; \
            Down/Up choose a suggestion, and walk the history when none is chosen; Enter commits the line; \
            Ctrl-D on an empty line or Ctrl-C leaves. The ghost text is the best of a beam search (--beam, default 4; \
            --beam 1 is greedy), at most --max-tokens tokens (default 8); a --temperature above 0 samples it. Commands: :k N, :temperature T, :beam W, :max-tokens N, \
            :model NAME, :clear (forget the lines committed so far), :help, :quit.

            When standard input or output is not a terminal, each input line is completed and printed as one JSON \
            object (the library's Suggestions, see docs/cli.md): line, text, prefix, suggestions (token: the \
            vocabulary entry, completion, probability), continuation, and note when there is one. Lines starting with ':' are commands there too (messages on standard error). \
            A line that is not valid UTF-8 stops the run with an error naming the line and byte offset (exit status 1).

            Memory stays bounded whatever the input: a text is read to its last --max-context tokens (default 512; \
            the note then says so), and of a longer piped line at most 64 bytes per token (at least 64 KiB) are held.

            Examples:
              quill complete --model tiny
              printf 'The harb\\nTo make bread you\\n' | quill complete --model tiny --k 3
            """)

    @Option(help: "The stored model.", completion: StoreNameCompletion.models)
    var model: String

    @Option(parsing: .number, help: "Suggestions shown (1…50).")
    var k = 5

    @OptionGroup(title: "Decoding of the continuation (the ghost text)")
    var decoding: DecodingArguments

    /// The ghost text is the best of a beam search of width 4, at most 8 tokens (``Autocompleter/decoding``).
    static let defaults = DecodingOptions(temperature: 0, beamWidth: 4, maxTokens: 8)

    @Option(parsing: .number,
            help: ArgumentHelp("Texts longer than this many tokens are read to their last tokens.", valueName: "tokens"))
    var maxContext = ContextCap.defaultTokens

    @Option(help: "Weights while stepping: float32 (the model's own) or int8 (faster, approximate).")
    var precision: SteppingPrecision = .float32

    @OptionGroup(title: "Suggestions")
    var choice: SuggestionOptions

    @Flag(help: ArgumentHelp("At exit, print to standard error the median, 99th percentile and maximum time per "
            + "keystroke (of the suggestions, of the redraw, of both) or per line."))
    var timings = false

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if !(1...50).contains(k) { throw ValidationError("--k must be 1…50 (got \(k))") }
        if maxContext < 1 { throw ValidationError("--max-context must be at least 1 (got \(maxContext))") }
        let options = decoding.options(defaults: Self.defaults)
        if !(1...64).contains(options.beamWidth) {
            throw ValidationError("--beam must be 1…64 (got \(options.beamWidth))")
        }
        if !(0...64).contains(options.maxTokens) {
            throw ValidationError("--max-tokens must be 0…64 (got \(options.maxTokens))")
        }
    }

    func run(store: Store) throws {
        let load = { (name: String) throws -> any Completing in
            let (model, vocabulary) = try store.loadStreamLanguageModel(named: name)
            let completer = try Autocompleter(model: model, vocabulary: vocabulary, precision: precision.precision)
            completer.maxContext = maxContext
            try choice.apply(to: completer, model: name, store: store)
            return completer
        }
        let completer = try load(model)
        completer.k = k
        completer.decoding = decoding.options(defaults: Self.defaults)
        let session = CompletionSession(completer: completer, modelName: model, load: load)
        var clock = KeystrokeTimings()
        defer { if timings { clock.report() } }
        if Terminal.isInteractive {
            let status = try CompletionREPL(session: session).run(timings: &clock)
            if status != 0 { throw ExitCode(status) }
        } else {
            try completeLines(session: session, timings: &clock)
        }
    }

    /// Standard input is not a terminal: one JSON object per input line, of which at most the end the completer
    /// reads is held (``ContextCap/bytes(forTokens:)``); a line that is not UTF-8 stops with an error naming it.
    private func completeLines(session: CompletionSession, timings: inout KeystrokeTimings) throws {
        let reader = try LineReader(path: "-", holding: .end(bytes: ContextCap.bytes(forTokens: maxContext)))
        while let read = try reader.next() {
            let number = read.number, line = try read.text.get()
            if line.hasPrefix(":") && !read.isPart {
                let result = session.execute(line)
                if let error = result.error { throw CLIError("line \(number): \(line): \(error)") }
                for message in result.lines { note(message) }
                if result.quit { break }
                continue
            }
            let start = KeystrokeTimings.now()
            let suggestions = try session.completer.suggestions(for: line, continuation: true)
            timings.record(suggestions: KeystrokeTimings.now() - start, total: nil)
            Terminal.write(try jsonLine(Numbered(line: number, value: suggestions)) + "\n")
        }
    }
}

/// The terminal side of `quill complete`: raw mode, keys in, one write per redraw out.
struct CompletionREPL {
    let session: CompletionSession
    /// How long to wait for the rest of an escape sequence before a lone ESC is the Escape key.
    static let escapeTimeout: Int32 = 30
    /// How often an idle REPL looks for a resize, in milliseconds.
    static let idleTimeout: Int32 = 250
    /// Milliseconds without a key after which the ghost continuation is searched (keystrokes go without it).
    static let pauseTimeout: Int32 = 40
    /// Suggestions slower than this (seconds) make the REPL draw each key before asking for the next ones; faster
    /// ones are drawn together with the key, in one write.
    static let slowSuggestions = 0.010

    /// Runs until Ctrl-D, Ctrl-C, `:quit` or the end of input, restoring the terminal on the way out.
    /// - Returns: the exit status: 0, or 130 after Ctrl-C.
    func run(timings: inout KeystrokeTimings) throws -> Int32 {
        try Terminal.enterRawMode()
        defer { Terminal.restore() }
        var painter = Painter()
        var decoder = KeyDecoder()
        var size = Terminal.size()
        let c = session.completer
        Terminal.write(dim("model '\(session.modelName)' · k \(c.k) · beam \(c.decoding.beamWidth) · temperature "
            + "\(c.decoding.temperature) · :help lists the keys and commands") + "\r\n")
        session.update()
        Terminal.write(painter.paint(session.frame(width: size.columns, height: size.rows)))
        // Seconds the completer took last time: above `slowSuggestions` the edited line is drawn before asking.
        var lastSuggestions = 0.0
        while true {
            // A timeout even with nothing pending: SIGWINCH may land on another thread and not cut the wait short.
            let timeout = decoder.isPending ? CompletionREPL.escapeTimeout
                : session.lacksContinuation ? CompletionREPL.pauseTimeout : CompletionREPL.idleTimeout
            guard let bytes = Terminal.read(timeout: timeout) else {
                Terminal.write(painter.leave(committed(session.editor.text)))
                return 0
            }
            let resized = Terminal.takeResized()
            if bytes.isEmpty && !decoder.isPending && !resized {
                // Typing paused: now search the ghost continuation the keystrokes went without.
                if session.lacksContinuation && session.update(continuation: true) {
                    Terminal.write(painter.paint(session.frame(width: size.columns, height: size.rows)))
                }
                continue
            }
            let start = KeystrokeTimings.now()
            let keys = bytes.isEmpty ? decoder.flush() : decoder.decode(bytes)
            var out = ""
            if resized {
                size = Terminal.size()
                out += painter.erase()
            }
            for key in keys {
                switch session.handle(key) {
                case .edit:
                    break
                case .commit(let line):
                    out += painter.leave(committed(line))
                    guard line.hasPrefix(":") else { break }
                    let result = session.execute(line)
                    for message in result.lines { out += message + "\r\n" }
                    if result.quit {
                        Terminal.write(out)
                        return 0
                    }
                case .exit(let status):
                    Terminal.write(out + painter.leave(committed(session.editor.text)))
                    return status
                case .suspend:
                    Terminal.write(out + painter.erase())
                    out = ""
                    try Terminal.suspend()
                    size = Terminal.size()
                case .clearScreen:
                    out += "\u{1B}[H\u{1B}[2J"
                    painter.reset()
                }
            }
            if lastSuggestions > CompletionREPL.slowSuggestions && session.editor.text != session.suggestions?.text {
                // A slow model: show the key at once (without ghost text), then the suggestions when they come.
                Terminal.write(out + painter.paint(session.frame(width: size.columns, height: size.rows)))
                out = ""
            }
            let asking = KeystrokeTimings.now()
            let asked = session.update(continuation: false)
            let answered = KeystrokeTimings.now()
            if asked { lastSuggestions = answered - asking }
            out += painter.paint(session.frame(width: size.columns, height: size.rows))
            Terminal.write(out)
            if !keys.isEmpty {
                timings.record(suggestions: asked ? answered - asking : 0, total: KeystrokeTimings.now() - start)
            }
        }
    }

    /// A committed line as it stays on screen: the prompt and the text, without ghost text.
    private func committed(_ text: String) -> String {
        "\u{1B}[1m" + session.prompt + "\u{1B}[0m" + text
    }

    private func dim(_ text: String) -> String { "\u{1B}[2m" + text + "\u{1B}[0m" }
}

/// Times per keystroke (or per line), in seconds, summarised by `--timings` at exit.
struct KeystrokeTimings {
    private var suggestions: [Double] = []
    private var totals: [Double] = []

    static func now() -> Double { ProcessInfo.processInfo.systemUptime }

    mutating func record(suggestions seconds: Double, total: Double?) {
        suggestions.append(seconds)
        if let total { totals.append(total) }
    }

    /// `timings: 57 keystrokes; suggestions p50 … ms, p99 … ms, max … ms; redraw …; suggestions + redraw …` on
    /// standard error. The redraw is the rest of a keystroke: decoding, editing, layout and the writes.
    func report() {
        guard !suggestions.isEmpty else { return note("timings: nothing was timed") }
        var text = totals.isEmpty ? "timings: \(suggestions.count) lines; suggestions "
            : "timings: \(suggestions.count) keystrokes; suggestions "
        text += KeystrokeTimings.summary(suggestions)
        if !totals.isEmpty {
            text += "; redraw " + KeystrokeTimings.summary(zip(totals, suggestions).map { $0 - $1 })
            text += "; suggestions + redraw " + KeystrokeTimings.summary(totals)
        }
        note(text)
    }

    static func summary(_ values: [Double]) -> String {
        let sorted = values.sorted()
        func percentile(_ p: Double) -> Double {
            sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
        }
        return String(format: "p50 %.2f ms, p99 %.2f ms, max %.2f ms", percentile(0.5) * 1000,
                      percentile(0.99) * 1000, sorted.last! * 1000)
    }
}
