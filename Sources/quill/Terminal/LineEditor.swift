/// The line being edited, its cursor and the history of committed lines, with the edits of a readline-style editor.
///
/// The cursor counts extended grapheme clusters (Swift `Character`s), so it never lands inside "é" written as `e` +
/// U+0301, a flag or a family emoji; a combining mark typed after a letter joins the letter's cluster.
///
/// Quill has its own small editor rather than libedit or readline: those own the terminal while a line is read, and
/// this REPL must redraw suggestions and ghost text below and after the line on every key, which their hooks do
/// poorly (libedit has no ghost text; readline is GPL). The editor is plain state, tested without a terminal; the
/// terminal side is ``Terminal``.
struct LineEditor {
    /// The text of the line.
    private(set) var text = ""
    /// The cursor, in grapheme clusters from the start of ``text`` (0...text.count).
    private(set) var cursor = 0
    /// Committed lines, oldest first.
    private(set) var history: [String] = []
    /// While browsing the history: the entry shown, and the line that was being typed before.
    private var historyIndex: Int?
    private var draft = ""
    /// The text the last Ctrl-U, Ctrl-K or Ctrl-W removed, for Ctrl-Y.
    private var killed = ""

    init(text: String = "", history: [String] = []) {
        self.text = text
        cursor = text.count
        self.history = history
    }

    var isAtEnd: Bool { cursor == text.count }
    var isBrowsingHistory: Bool { historyIndex != nil }

    private var characters: [Character] { Array(text) }

    /// Replaces the text and puts the cursor at its end.
    mutating func replace(with newText: String) {
        text = newText
        cursor = newText.count
    }

    /// Inserts at the cursor and moves the cursor past the insertion (a combining mark joins the character before).
    mutating func insert(_ inserted: String) {
        let chars = characters
        let before = String(chars[..<cursor]) + inserted
        text = before + String(chars[cursor...])
        cursor = min(before.count, text.count)
        historyIndex = nil
    }

    mutating func moveLeft() { cursor = max(0, cursor - 1) }
    mutating func moveRight() { cursor = min(text.count, cursor + 1) }
    mutating func moveHome() { cursor = 0 }
    mutating func moveEnd() { cursor = text.count }

    /// To the start of the word before the cursor (Alt-B, Ctrl-Left).
    mutating func moveWordLeft() { cursor = wordStart(before: cursor) }

    /// To the end of the word after the cursor (Alt-F, Ctrl-Right).
    mutating func moveWordRight() {
        let chars = characters
        var i = cursor
        while i < chars.count, chars[i].isWhitespace { i += 1 }
        while i < chars.count, !chars[i].isWhitespace { i += 1 }
        cursor = i
    }

    /// Backspace: removes the character before the cursor.
    mutating func deleteBackward() {
        guard cursor > 0 else { return }
        remove(cursor - 1..<cursor)
    }

    /// Delete (and Ctrl-D on a non-empty line): removes the character under the cursor.
    mutating func deleteForward() {
        guard cursor < text.count else { return }
        remove(cursor..<cursor + 1)
    }

    /// Ctrl-U: removes everything before the cursor.
    mutating func killToStart() { kill(0..<cursor) }

    /// Ctrl-K: removes everything from the cursor on.
    mutating func killToEnd() { kill(cursor..<text.count) }

    /// Ctrl-W: removes the word before the cursor and the spaces after it (readline's unix-word-rubout).
    mutating func killWordBackward() { kill(wordStart(before: cursor)..<cursor) }

    /// Ctrl-Y: inserts what was last killed.
    mutating func yank() { insert(killed) }

    /// Up: the previous history entry (the line being typed is kept as the draft).
    mutating func historyPrevious() {
        guard !history.isEmpty else { return }
        let index: Int
        if let historyIndex { index = max(0, historyIndex - 1) } else { draft = text; index = history.count - 1 }
        historyIndex = index
        replace(with: history[index])
    }

    /// Down: the next history entry, and after the newest the draft again.
    mutating func historyNext() {
        guard let historyIndex else { return }
        if historyIndex + 1 < history.count {
            self.historyIndex = historyIndex + 1
            replace(with: history[historyIndex + 1])
        } else {
            self.historyIndex = nil
            replace(with: draft)
        }
    }

    /// Enter: returns the line, adds it to the history (unless empty or equal to the newest entry) and clears it.
    mutating func commit() -> String {
        let line = text
        if !line.allSatisfy(\.isWhitespace), history.last != line { history.append(line) }
        text = ""
        cursor = 0
        historyIndex = nil
        draft = ""
        return line
    }

    private func wordStart(before end: Int) -> Int {
        let chars = characters
        var i = end
        while i > 0, chars[i - 1].isWhitespace { i -= 1 }
        while i > 0, !chars[i - 1].isWhitespace { i -= 1 }
        return i
    }

    private mutating func kill(_ range: Range<Int>) {
        guard !range.isEmpty else { return }
        killed = String(characters[range])
        remove(range)
    }

    private mutating func remove(_ range: Range<Int>) {
        let chars = characters
        text = String(chars[..<range.lowerBound]) + String(chars[range.upperBound...])
        // Removing can join clusters (a combining mark after a deleted letter), so count again.
        cursor = min(String(chars[..<range.lowerBound]).count, text.count)
        historyIndex = nil
    }
}
