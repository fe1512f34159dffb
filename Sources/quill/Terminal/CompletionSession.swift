import Foundation
import Quill
import QuillTerminal

/// What the completion REPL asks of a completer: Quill's ``Autocompleter``, or a fake in tests.
protocol Completing: AnyObject {
    var k: Int { get set }
    /// How the continuation (the ghost text) is chosen.
    var decoding: DecodingOptions { get set }
    func suggestions(for text: String, continuation: Bool) throws -> Suggestions
    /// Reads a committed line as context for the lines after it.
    func appendContext(_ line: String) throws
    /// Forgets the committed lines.
    func clearContext()
}

extension Autocompleter: Completing {}

/// The state of `quill complete` between keys: the line editor, the suggestions for its text, the suggestion chosen
/// with the arrow keys, and the REPL's `:` commands. Plain state, no terminal: ``handle(_:)`` takes a key,
/// ``update()`` asks the completer (once per change of the text), ``frame(width:height:)`` lays out the screen.
///
/// Keys: Tab takes the next word of the ghost text; Shift-Tab, or Right at the end of the line, takes all of it;
/// Alt-1…Alt-9 (Alt-0 for the tenth) take a suggestion; Down enters the list of suggestions and Up leaves it (Tab,
/// Enter or Right take the one chosen, Escape drops the choice); without a choice Up and Down walk the history.
final class CompletionSession {
    /// What the REPL does after a key.
    enum Outcome: Equatable {
        /// Redraw (if anything changed).
        case edit
        /// The line was committed (Enter): leave it on screen, run it if it is a `:` command.
        case commit(String)
        /// Leave the REPL with this exit status (Ctrl-D on an empty line: 0; Ctrl-C: 130).
        case exit(Int32)
        /// Ctrl-Z: stop the process, as a shell job.
        case suspend
        /// Ctrl-L: clear the screen and draw again at the top.
        case clearScreen
    }

    /// The result of a `:` command: lines to show (an error as `error: …`), and whether to leave.
    struct CommandResult: Equatable {
        var lines: [String] = []
        var quit = false
        /// What was wrong with the command.
        var error: String?
    }

    let prompt = "> "
    var editor = LineEditor()
    private(set) var completer: any Completing
    private(set) var modelName: String
    private let load: (String) throws -> any Completing
    /// The suggestions for the editor's text, when ``update()`` has asked for them.
    private(set) var suggestions: Suggestions?
    /// The suggestion chosen with Down / Up, an index into `suggestions.items`.
    private(set) var selected: Int?
    /// The completer's last error, shown in the status row.
    private(set) var failure: String?

    /// - Parameters:
    ///   - completer: the completer of the model named `modelName`.
    ///   - load: makes the completer of another model, for `:model NAME`.
    init(completer: any Completing, modelName: String, load: @escaping (String) throws -> any Completing) {
        self.completer = completer
        self.modelName = modelName
        self.load = load
    }

    /// Whether the line is a `:` command (it gets no suggestions).
    var isCommand: Bool { editor.text.hasPrefix(":") }

    /// The ghost text after the line: the chosen suggestion's completion, else the continuation, else the best
    /// suggestion's completion. Shown, and taken by Tab, only with the cursor at the end of the line.
    var ghost: String {
        guard !isCommand, let suggestions, suggestions.text == editor.text else { return "" }
        if let selected, selected < suggestions.items.count { return suggestions.items[selected].completion }
        if !suggestions.continuation.isEmpty { return suggestions.continuation }
        return suggestions.items.first?.completion ?? ""
    }

    /// Whether the suggestions shown lack the continuation (see ``update(continuation:)``).
    var lacksContinuation: Bool {
        guard let suggestions, suggestions.text == editor.text, !isCommand else { return false }
        return suggestions.continuation.isEmpty && !suggestions.items.isEmpty
    }

    /// Asks the completer for the suggestions of the current text unless it already has them.
    /// - Parameter continuation: also search the ghost continuation. Per keystroke the REPL asks without (no model
    ///   step inside a word), and with once typing pauses.
    /// - Returns: whether it asked.
    @discardableResult
    func update(continuation: Bool = true) -> Bool {
        let text = editor.text
        if isCommand {
            suggestions = nil
            return false
        }
        guard suggestions?.text != text || (continuation && lacksContinuation) else { return false }
        do {
            suggestions = try completer.suggestions(for: text, continuation: continuation)
            failure = nil
        } catch {
            suggestions = nil
            failure = "\(error)"
        }
        if let selected, selected >= suggestions?.items.count ?? 0 { self.selected = nil }
        return true
    }

    /// Commits the line to the history; a line of text (not a `:` command) becomes context for the lines after it.
    private func commit() -> Outcome {
        let line = editor.commit()
        if !line.hasPrefix(":") {
            do {
                try completer.appendContext(line)
            } catch {
                failure = "\(error)"
            }
            suggestions = nil
        }
        return .commit(line)
    }

    /// Applies a key to the line, the choice of suggestion or the session.
    func handle(_ key: Key) -> Outcome {
        switch key {
        case .text(let text): edit { $0.insert(text) }
        case .paste(let text):
            // A pasted line break or tab becomes a space: the line is one line.
            let flat = String(text.map { $0 == "\n" || $0 == "\r\n" || $0 == "\r" || $0 == "\t" ? " " : $0 })
            edit { $0.insert(String(flat.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })) }
        case .enter:
            if selected != nil { takeGhost(all: true) } else { return commit() }
        case .tab: editor.isAtEnd ? takeGhost(all: selected != nil) : editor.moveEnd()
        case .shiftTab: takeGhost(all: true)
        case .right:
            if editor.isAtEnd && (!ghost.isEmpty) { takeGhost(all: true) } else { editor.moveRight() }
        case .left, .control("b"): editor.moveLeft()
        case .control("f"): editor.isAtEnd ? takeGhost(all: true) : editor.moveRight()
        case .home, .control("a"): editor.moveHome()
        case .end, .control("e"): editor.moveEnd()
        case .wordLeft, .alt("b"): editor.moveWordLeft()
        case .wordRight, .alt("f"): editor.moveWordRight()
        case .backspace: edit { $0.deleteBackward() }
        case .delete: edit { $0.deleteForward() }
        case .control("d"):
            if editor.text.isEmpty { return .exit(0) }
            edit { $0.deleteForward() }
        case .control("c"): return .exit(130)
        case .control("u"): edit { $0.killToStart() }
        case .control("k"): edit { $0.killToEnd() }
        case .control("w"), .alt("\u{7F}"): edit { $0.killWordBackward() }
        case .control("y"): edit { $0.yank() }
        case .control("l"): return .clearScreen
        case .control("z"): return .suspend
        case .up, .control("p"):
            if let selected { self.selected = selected > 0 ? selected - 1 : nil } else { editor.historyPrevious() }
        case .down, .control("n"):
            let count = isCommand ? 0 : suggestions?.items.count ?? 0
            if editor.isBrowsingHistory || count == 0 {
                editor.historyNext()
            } else {
                selected = min((selected ?? -1) + 1, count - 1)
            }
        case .escape: selected = nil
        case .alt(let character):
            guard let digit = character.wholeNumberValue, character.isASCII else { break }
            take(suggestion: digit == 0 ? 9 : digit - 1)
        default: break
        }
        return .edit
    }

    /// Runs a `:` command line: `:k N`, `:temperature T`, `:beam W`, `:max-tokens N`, `:model NAME`, `:clear`,
    /// `:help`, `:quit`.
    /// A setting without a value shows it.
    func execute(_ line: String) -> CommandResult {
        let words = line.dropFirst().split(whereSeparator: \.isWhitespace).map(String.init)
        guard let name = words.first else { return CommandResult(lines: CompletionSession.help) }
        let argument = words.count > 1 ? words[1] : nil
        if words.count > 2 { return failed(":\(name) takes one value (got \(words.count - 1))") }
        defer { suggestions = nil; selected = nil }
        switch name {
        case "k":
            return integerSetting("k", argument, 1...50, takes: "1…50", get: { $0.k }, set: { $0.k = $1 })
        case "temperature", "t":
            guard let argument else { return CommandResult(lines: ["temperature = \(completer.decoding.temperature)"]) }
            guard let t = Double(argument), t >= 0, t.isFinite else {
                return failed(":temperature takes 0 (the most likely continuation) or a positive number (got "
                    + "\(argument))")
            }
            completer.decoding.temperature = t
            return CommandResult(lines: ["temperature = \(t)"])
        case "beam":
            return integerSetting("beam", argument, 1...64, takes: "a width of 1…64", get: { $0.decoding.beamWidth },
                                  set: { $0.decoding.beamWidth = $1 })
        case "max-tokens":
            return integerSetting("max-tokens", argument, 0...64, takes: "0…64", get: { $0.decoding.maxTokens },
                                  set: { $0.decoding.maxTokens = $1 })
        case "model":
            guard let argument else { return CommandResult(lines: ["model = \(modelName)"]) }
            do {
                let next = try load(argument)
                next.k = completer.k
                next.decoding = completer.decoding
                completer = next
                modelName = argument
                return CommandResult(lines: ["model = \(argument)"])
            } catch {
                return failed("\(error)")
            }
        case "clear":
            guard argument == nil else { return failed(":clear takes no value") }
            completer.clearContext()
            return CommandResult(lines: ["context cleared: suggestions start afresh"])
        case "help", "h", "?": return CommandResult(lines: CompletionSession.help)
        case "quit", "q", "exit": return CommandResult(lines: [], quit: true)
        default: return failed("unknown command ':\(name)'; :help lists the commands")
        }
    }

    /// `:name N` for an integer setting of the completer within `range`; without a value it shows the setting.
    private func integerSetting(_ name: String, _ argument: String?, _ range: ClosedRange<Int>, takes: String,
                                get: (any Completing) -> Int, set: (any Completing, Int) -> Void) -> CommandResult {
        guard let argument else { return CommandResult(lines: ["\(name) = \(get(completer))"]) }
        guard let value = Int(argument), range.contains(value) else {
            return failed(":\(name) takes \(takes) (got \(argument))")
        }
        set(completer, value)
        return CommandResult(lines: ["\(name) = \(value)"])
    }

    static let help = [
        "Type: suggestions for the next word, or for the rest of the word being typed, appear below the line, and",
        "the best continuation as dim ghost text after it.",
        "  Tab               take the next word of the ghost text",
        "  Shift-Tab, Right  take all of the ghost text (Right at the end of the line)",
        "  Alt-1 … Alt-9     take suggestion 1…9 (Alt-0: the tenth)",
        "  Down, Up          choose a suggestion (Tab, Enter or Right take it, Escape drops the choice);",
        "                    without a choice Up and Down walk the history",
        "  Enter             commit the line (to the history, and as context for the next lines)",
        "  Left, Right, Home, End, Ctrl-A, Ctrl-E, Alt-B, Alt-F     move",
        "  Backspace, Delete, Ctrl-U, Ctrl-K, Ctrl-W, Ctrl-Y        delete, kill, yank",
        "  Ctrl-L clear the screen, Ctrl-Z suspend, Ctrl-D (on an empty line) or Ctrl-C leave",
        "Commands (a value left out shows the setting):",
        "  :k N  :temperature T  :beam W  :max-tokens N  :model NAME  :clear (forget earlier lines)  :help  :quit",
    ]

    /// The screen: the input row, a row per suggestion (the chosen one in reverse video) and a status row (an error,
    /// the completer's note, or a hint).
    func frame(width: Int, height: Int) -> Frame {
        let (input, column) = inputRow(prompt: prompt, text: editor.text, cursor: editor.cursor,
                                       ghost: editor.isAtEnd ? ghost : "", width: width)
        var lines = [input]
        let items = isCommand ? [] : Array((suggestions?.items ?? []).prefix(max(0, height - 2)))
        let words = items.map { CompletionSession.visible($0.token) }
        let wordWidth = words.map { DisplayWidth.of($0) }.max() ?? 0
        for (i, item) in items.enumerated() {
            var row = StyledLine()
            let label = i < 10 ? String((i + 1) % 10) : " "
            let word = words[i] + String(repeating: " ", count: wordWidth - DisplayWidth.of(words[i]))
            let percent = String(format: "%5.1f%%", item.probability * 100)
            if i == selected {
                row.append("  " + label + "  " + word + "  " + percent, .reverse)
            } else {
                row.append("  " + label + "  ", .dim)
                row.append(word)
                row.append("  " + percent, .dim)
            }
            lines.append(row.rendered(width: width - 1))
        }
        var status = StyledLine()
        if let failure {
            status.append("error: " + failure, .bold)
        } else if isCommand {
            status.append(":k N  :temperature T  :beam W  :max-tokens N  :model NAME  :help  :quit", .dim)
        } else if let note = suggestions?.note {
            status.append(note, .dim)
        } else {
            status.append("Tab: next word · Shift-Tab / →: all · Alt-1…\(min(items.count, 9)) or ↓: choose · "
                + ":help", .dim)
        }
        lines.append(status.rendered(width: width - 1))
        return Frame(lines: lines, cursorRow: 0, cursorColumn: column)
    }

    /// A token as shown in the list: without its leading spaces; a line break as ⏎ and a space as ␣.
    static func visible(_ token: String) -> String {
        let trimmed = token.drop { $0 == " " }
        if trimmed.isEmpty { return token.isEmpty ? "∅" : "␣" }
        return String(trimmed.map { $0.isNewline ? "⏎" : $0 == "\t" ? "⇥" : $0 })
    }

    private func failed(_ message: String) -> CommandResult {
        CommandResult(lines: ["error: " + message], error: message)
    }

    private func edit(_ change: (inout LineEditor) -> Void) {
        change(&editor)
        selected = nil
    }

    /// Takes the ghost text, or its next word (its leading spaces and the word after them).
    private func takeGhost(all: Bool) {
        let text = ghost
        guard !text.isEmpty else { return }
        var piece = Substring(text)
        if !all {
            let start = text.firstIndex { !$0.isWhitespace } ?? text.endIndex
            let end = text[start...].firstIndex(where: \.isWhitespace) ?? text.endIndex
            piece = text[..<end]
        }
        editor.moveEnd()
        edit { $0.insert(String(piece)) }
    }

    private func take(suggestion index: Int) {
        guard !isCommand, let suggestions, suggestions.text == editor.text, index < suggestions.items.count else {
            return
        }
        editor.moveEnd()
        edit { $0.insert(suggestions.items[index].completion) }
    }
}
