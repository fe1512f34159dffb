import Foundation
import Quill
import QuillTerminal
import Testing
@testable import quill

/// The terminal UI of `quill complete` without a terminal: key decoding, the line editor, layout and painting, and
/// the session's keys and commands against a fake completer.
@Suite struct LineEditorTests {
    struct Decoding: Sendable, CustomTestStringConvertible {
        let bytes: String
        let keys: [Key]
        var testDescription: String { bytes.debugDescription }
    }

    @Test(arguments: [
        Decoding(bytes: "abc", keys: [.text("abc")]),
        Decoding(bytes: "café 漢字 👩‍👩‍👧", keys: [.text("café 漢字 👩‍👩‍👧")]),
        Decoding(bytes: "\r", keys: [.enter]),
        Decoding(bytes: "\n", keys: [.enter]),
        Decoding(bytes: "\t", keys: [.tab]),
        Decoding(bytes: "\u{7F}", keys: [.backspace]),
        Decoding(bytes: "\u{08}", keys: [.backspace]),
        Decoding(bytes: "\u{01}\u{05}\u{15}\u{17}\u{0B}\u{04}\u{03}", keys: [
            .control("a"), .control("e"), .control("u"), .control("w"), .control("k"), .control("d"), .control("c"),
        ]),
        Decoding(bytes: "\u{1B}1", keys: [.alt("1")]),
        Decoding(bytes: "\u{1B}0\u{1B}9", keys: [.alt("0"), .alt("9")]),
        Decoding(bytes: "\u{1B}b\u{1B}f", keys: [.alt("b"), .alt("f")]),
        Decoding(bytes: "\u{1B}é", keys: [.alt("é")]),
        Decoding(bytes: "\u{1B}\u{7F}", keys: [.alt("\u{7F}")]),
        Decoding(bytes: "\u{1B}[A\u{1B}[B\u{1B}[C\u{1B}[D", keys: [.up, .down, .right, .left]),
        Decoding(bytes: "\u{1B}OA\u{1B}OB\u{1B}OC\u{1B}OD", keys: [.up, .down, .right, .left]),
        Decoding(bytes: "\u{1B}[H\u{1B}[F\u{1B}[1~\u{1B}[4~\u{1B}[7~\u{1B}[8~\u{1B}OH\u{1B}OF",
                 keys: [.home, .end, .home, .end, .home, .end, .home, .end]),
        Decoding(bytes: "\u{1B}[3~", keys: [.delete]),
        Decoding(bytes: "\u{1B}[Z", keys: [.shiftTab]),
        Decoding(bytes: "\u{1B}[1;5C\u{1B}[1;5D\u{1B}[1;3D", keys: [.wordRight, .wordLeft, .wordLeft]),
        Decoding(bytes: "ab\u{1B}[Dc", keys: [.text("ab"), .left, .text("c")]),
        Decoding(bytes: "\u{1B}[200~one\ntwo\u{1B}[A\u{1B}[201~!", keys: [.paste("one\ntwo\u{1B}[A"), .text("!")]),
        Decoding(bytes: "\u{1B}[15~\u{1B}[?1;2cx", keys: [.text("x")]),  // F5 and a device report: ignored
        Decoding(bytes: "\u{1B}\u{1B}[A", keys: [.escape, .up]),
        Decoding(bytes: "\u{1B}", keys: [.escape]),  // once flushed: a lone ESC is Escape
    ])
    func decodesKeys(_ c: Decoding) {
        #expect(KeyDecoder.decodeAll(Array(c.bytes.utf8)) == c.keys)
    }

    @Test func sequencesAndCharactersSplitAcrossReadsWait() {
        var decoder = KeyDecoder()
        #expect(decoder.decode([0x1B]).isEmpty && decoder.isPending, "ESC alone may start a sequence")
        #expect(decoder.decode(Array("[".utf8)).isEmpty)
        #expect(decoder.decode(Array("1;5".utf8)).isEmpty)
        #expect(decoder.decode(Array("Cx".utf8)) == [.wordRight, .text("x")])
        #expect(!decoder.isPending)

        let smile = Array("😀".utf8)
        #expect(decoder.decode(Array("a".utf8) + smile[..<2]) == [.text("a")])
        #expect(decoder.decode(smile[2...]) == [.text("😀")])

        #expect(decoder.decode([0x1B]).isEmpty)
        #expect(decoder.decode(Array("2".utf8)) == [.alt("2")], "Alt-2 arriving in two reads")

        #expect(decoder.decode(Array("\u{1B}[200~hel".utf8)).isEmpty)
        #expect(decoder.decode(Array("lo\u{1B}[20".utf8)).isEmpty, "the end marker is cut")
        #expect(decoder.decode(Array("1~x".utf8)) == [.paste("hello"), .text("x")])
    }

    @Test func aLoneEscapeOrACutOffCharacterIsTakenWhenFlushed() {
        var decoder = KeyDecoder()
        #expect(decoder.decode([0x1B]).isEmpty)
        #expect(decoder.flush() == [.escape])
        #expect(decoder.decode(Array("1".utf8)) == [.text("1")], "a digit after a flushed Escape is a digit")
        #expect(decoder.decode([0xE2, 0x82]).isEmpty)
        #expect(decoder.flush() == [.text("\u{FFFD}")])
        #expect(!decoder.isPending)
    }

    // MARK: - The line editor

    @Test func theCursorMovesOverGraphemeClusters() {
        var editor = LineEditor()
        editor.insert("ca")
        editor.insert("fe\u{301}")  // e + combining acute: one character
        #expect(editor.text == "cafe\u{301}" && editor.text.count == 4 && editor.cursor == 4)
        editor.insert(" 👩‍👩‍👧 🇫🇷")
        #expect(editor.cursor == 8)
        editor.moveLeft()
        editor.moveLeft()
        editor.deleteBackward()
        #expect(editor.text == "cafe\u{301}  🇫🇷", "backspace removes the whole family")
        #expect(editor.cursor == 5)
        editor.moveHome()
        editor.moveRight()
        editor.moveRight()
        editor.moveRight()
        editor.deleteForward()
        #expect(editor.text == "caf  🇫🇷", "delete removes e and its accent")
        editor.moveEnd()
        editor.insert("e")
        editor.insert("\u{301}")
        #expect(editor.text.last == "é" && editor.cursor == editor.text.count, "a typed accent joins the letter")
    }

    @Test func killsYankAndWordMoves() {
        var editor = LineEditor(text: "the boats came in")
        editor.killWordBackward()
        #expect(editor.text == "the boats came ")
        editor.killWordBackward()
        #expect(editor.text == "the boats ")
        editor.yank()
        #expect(editor.text == "the boats came ")
        editor.moveWordLeft()
        #expect(editor.cursor == 10)
        editor.moveWordLeft()
        editor.killToEnd()
        #expect(editor.text == "the ")
        editor.insert("lanterns")
        editor.moveWordLeft()
        editor.moveWordRight()
        #expect(editor.isAtEnd)
        editor.moveLeft()
        editor.killToStart()
        #expect(editor.text == "s" && editor.cursor == 0)
    }

    @Test func historyKeepsTheDraft() {
        var editor = LineEditor()
        editor.insert("first")
        #expect(editor.commit() == "first")
        editor.insert("second")
        _ = editor.commit()
        _ = editor.commit()  // empty: not recorded
        editor.insert("second")
        _ = editor.commit()  // the same as the newest: not recorded
        #expect(editor.history == ["first", "second"])
        editor.insert("dra")
        editor.historyPrevious()
        #expect(editor.text == "second" && editor.isBrowsingHistory)
        editor.historyPrevious()
        editor.historyPrevious()
        #expect(editor.text == "first")
        editor.historyNext()
        editor.historyNext()
        #expect(editor.text == "dra" && !editor.isBrowsingHistory && editor.isAtEnd)
    }

    // MARK: - Layout and painting

    @Test func displayWidths() {
        #expect(DisplayWidth.of("a") == 1)
        #expect(DisplayWidth.of("é") == 1)
        #expect(DisplayWidth.of("e\u{301}") == 1)
        #expect(DisplayWidth.of("漢") == 2)
        #expect(DisplayWidth.of("한") == 2)
        #expect(DisplayWidth.of("👍") == 2)
        #expect(DisplayWidth.of("👩‍👩‍👧") == 2)
        #expect(DisplayWidth.of("🇫🇷") == 2)
        #expect(DisplayWidth.of("❤️") == 2)
        #expect(DisplayWidth.of("a漢b") == 4)
    }

    @Test func theInputRowShowsGhostTextDimAfterTheCursor() {
        let (row, column) = inputRow(prompt: "> ", text: "The har", cursor: 7, ghost: "bour and", width: 80)
        #expect(row == "\u{1B}[1m> \u{1B}[0mThe har\u{1B}[2mbour and\u{1B}[0m")
        #expect(column == 9)
        let (wide, wideColumn) = inputRow(prompt: "> ", text: "漢字 x", cursor: 2, ghost: "", width: 80)
        #expect(wide.hasSuffix("漢字 x") && wideColumn == 6, "wide characters take two columns")
        let (cut, _) = inputRow(prompt: "> ", text: "ab", cursor: 2, ghost: "cdefghij", width: 8)
        #expect(StyledLine.plainText(cut) == "> abcde", "the ghost is cut to the width, the last column left free")
    }

    @Test func aWideCharacterAtTheEdgeIsLeftOutAndNothingAfterIt() {
        var line = StyledLine()
        line.append("ab漢")
        line.append("c", .dim)
        #expect(line.rendered(width: 3) == "ab")
        #expect(line.rendered(width: 4) == "ab漢")
        #expect(line.rendered(width: 5) == "ab漢\u{1B}[2mc\u{1B}[0m")
    }

    @Test func aLongLineScrollsToKeepTheCursorInView() {
        let text = String(repeating: "word ", count: 10) + "end"
        let (row, column) = inputRow(prompt: "> ", text: text, cursor: text.count, ghost: "ing", width: 20)
        #expect(StyledLine.plainText(row) == "> " + String(text.suffix(16)) + "i", "the ghost is cut at 19 columns")
        #expect(column == 18)
        let (start, startColumn) = inputRow(prompt: "> ", text: text, cursor: 0, ghost: "", width: 20)
        #expect(StyledLine.plainText(start) == "> word word word wo" && startColumn == 2)
    }

    @Test func thePainterRewritesOnlyRowsThatChanged() {
        var painter = Painter()
        let first = painter.paint(Frame(lines: ["> a", "  1  apple", "hint"], cursorRow: 0, cursorColumn: 3))
        #expect(first.components(separatedBy: "\u{1B}[K").count - 1 == 3)
        #expect(first.hasSuffix("\u{1B}[2A\r\u{1B}[3C\u{1B}[?25h"),
                "back up two rows to the cursor: \(first.debugDescription)")
        let second = painter.paint(Frame(lines: ["> ap", "  1  apple", "hint"], cursorRow: 0, cursorColumn: 4))
        #expect(second.components(separatedBy: "\u{1B}[K").count - 1 == 1 && second.contains("\r> ap\u{1B}[K"))
        #expect(!second.contains("apple"))
        let third = painter.paint(Frame(lines: ["> ap", "hint 2"], cursorRow: 0, cursorColumn: 4))
        #expect(third.contains("\n\r\u{1B}[J"), "the row no longer shown is erased")
        #expect(third.contains("hint 2"))
        let left = painter.leave("> ap")
        #expect(left.hasPrefix("\r\u{1B}[J> ap\r\n"), "\(left.debugDescription)")
    }

    // MARK: - The session

    /// Suggests words of a fixed list that extend the last partial word; the continuation finishes the best one and
    /// adds " and the".
    final class FakeCompleter: Completing {
        var k = 5
        var decoding = DecodingOptions(beamWidth: 4, maxTokens: 8)
        var calls: [String] = []
        var context: [String] = []
        let words = [" harbour", " harbours", " hard", " the", " boats"]

        func appendContext(_ line: String) throws { context.append(line) }
        func clearContext() { context = [] }

        func suggestions(for text: String, continuation: Bool) throws -> Suggestions {
            calls.append(text)
            let partial = text.last?.isWhitespace ?? true ? "" : String(text.split(separator: " ").last ?? "")
            let typed = " " + partial
            let items = words.filter { $0.hasPrefix(typed) }.prefix(k).enumerated().map { i, word in
                var item = FakeCompleter.template.items[0]
                item.token = word
                item.completion = String(word.dropFirst(typed.count))
                item.probability = 0.5 / Double(i + 1)
                return item
            }
            var suggestions = FakeCompleter.template
            suggestions.text = text
            suggestions.prefix = partial
            suggestions.items = Array(items)
            suggestions.continuation = items.first.map { $0.completion + " and the" } ?? ""
            suggestions.note = nil
            return suggestions
        }

        /// Suggestions from a real (random, tiny) Autocompleter, edited by the fake: Quill's `Suggestions` and
        /// `Suggestion` have no public initializers.
        static let template: Suggestions = {
            let settings = TokenizerSettings(level: .word)
            var builder = VocabularyBuilder(settings: settings)
            for token in try! Tokenizer(settings).tokenize("the harbour") { builder.add(token) }
            let vocabulary = builder.build()
            let model = try! LanguageModel(.init(kind: .lstm, vocabulary: vocabulary.count, embedding: 2, hidden: 2,
                                                 layers: 1))
            let suggestions = try! Autocompleter(model: model, vocabulary: vocabulary).suggestions(for: "the")
            precondition(!suggestions.items.isEmpty)
            return suggestions
        }()
    }

    static func session(_ typed: String = "") -> (CompletionSession, FakeCompleter) {
        let fake = FakeCompleter()
        let session = CompletionSession(completer: fake, modelName: "fake") { name in
            guard name == "other" else { throw CLIError("no model named '\(name)'") }
            return FakeCompleter()
        }
        if !typed.isEmpty { _ = session.handle(.text(typed)) }
        session.update()
        return (session, fake)
    }

    @Test func tabTakesTheNextWordAndShiftTabAllOfTheGhost() {
        let (session, fake) = Self.session("The har")
        #expect(session.ghost == "bour and the")
        #expect(session.handle(.tab) == .edit)
        #expect(session.editor.text == "The harbour")
        session.update()
        #expect(session.ghost == " and the")
        _ = session.handle(.shiftTab)
        #expect(session.editor.text == "The harbour and the")
        session.update()
        session.update()
        #expect(fake.calls == ["The har", "The harbour", "The harbour and the"], "asked once per text")
        _ = session.handle(.backspace)
        session.update()
        _ = session.handle(.tab)
        #expect(session.editor.text == "The harbour and the", "Tab completes the word being typed")
    }

    @Test func rightAtTheEndTakesAllAndMovesElsewhere() {
        let (session, _) = Self.session("The har")
        _ = session.handle(.left)
        #expect(session.frame(width: 80, height: 24).lines[0].contains("\u{1B}[2m") == false,
                "no ghost text with the cursor inside the line")
        _ = session.handle(.right)
        #expect(session.editor.text == "The har" && session.editor.isAtEnd)
        _ = session.handle(.right)
        #expect(session.editor.text == "The harbour and the")
    }

    @Test func altDigitsAndArrowsChooseASuggestion() {
        let (session, fake) = Self.session("The har")
        _ = session.handle(.alt("2"))
        #expect(session.editor.text == "The harbours")
        _ = session.handle(.control("w"))
        _ = session.handle(.text("har"))
        session.update()
        _ = session.handle(.alt("9"))
        #expect(session.editor.text == "The har", "no ninth suggestion: nothing happens")
        _ = session.handle(.down)
        _ = session.handle(.down)
        #expect(session.selected == 1 && session.ghost == "bours")
        let frame = session.frame(width: 80, height: 24)
        #expect(frame.lines[2].hasPrefix("\u{1B}[7m  2  harbours"), "the choice in reverse video: \(frame.lines)")
        _ = session.handle(.up)
        #expect(session.selected == 0)
        _ = session.handle(.escape)
        #expect(session.selected == nil)
        _ = session.handle(.down)
        _ = session.handle(.down)
        _ = session.handle(.down)
        #expect(session.handle(.enter) == .edit, "Enter takes the choice")
        #expect(session.editor.text == "The hard")
        #expect(session.handle(.enter) == .commit("The hard"))
        #expect(session.editor.text.isEmpty)
        #expect(fake.context == ["The hard"], "a committed line is context for the next ones")
        #expect(session.suggestions == nil && session.update(), "and the suggestions are asked again")
        _ = session.handle(.up)
        #expect(session.editor.text == "The hard", "Up without a choice walks the history")
        _ = session.handle(.escape)
        while !session.editor.text.isEmpty { _ = session.handle(.backspace) }
        _ = session.handle(.text(":k 3"))
        _ = session.handle(.enter)
        #expect(fake.context == ["The hard"], "a command is not context")
        #expect(session.execute(":clear").lines == ["context cleared: suggestions start afresh"])
        #expect(fake.context.isEmpty)
    }

    @Test func theFrameListsSuggestionsAndAHint() {
        let (session, _) = Self.session("The ha")
        let frame = session.frame(width: 60, height: 24)
        #expect(frame.lines.count == 5, "input, three suggestions, status: \(frame.lines)")
        #expect(StyledLine.plainText(frame.lines[0]) == "> The harbour and the")
        #expect(frame.cursorRow == 0 && frame.cursorColumn == 8)
        #expect(StyledLine.plainText(frame.lines[1]) == "  1  harbour    50.0%")
        #expect(StyledLine.plainText(frame.lines[3]) == "  3  hard       16.7%")
        #expect(StyledLine.plainText(frame.lines[4]).hasPrefix("Tab: next word"))
        #expect(session.frame(width: 60, height: 4).lines.count == 4, "rows are cut to the terminal's height")
    }

    @Test func commands() {
        let (session, fake) = Self.session()
        #expect(session.execute(":k 2") == .init(lines: ["k = 2"]))
        #expect(fake.k == 2)
        #expect(session.execute(":temperature 0.7").lines == ["temperature = 0.7"] && fake.decoding.temperature == 0.7)
        #expect(session.execute(":beam 8").lines == ["beam = 8"] && fake.decoding.beamWidth == 8)
        #expect(session.execute(":max-tokens 3").lines == ["max-tokens = 3"] && fake.decoding.maxTokens == 3)
        #expect(session.execute(":k").lines == ["k = 2"])
        #expect(session.execute(":k 0").error == ":k takes 1…50 (got 0)")
        #expect(session.execute(":beam 65").error == ":beam takes a width of 1…64 (got 65)")
        #expect(session.execute(":max-tokens x").error == ":max-tokens takes 0…64 (got x)")
        #expect(session.execute(":max-tokens").lines == ["max-tokens = 3"])
        #expect(session.execute(":temperature -1").error != nil)
        #expect(session.execute(":model missing").lines == ["error: no model named 'missing'"])
        #expect(session.execute(":model other").lines == ["model = other"])
        #expect(session.completer !== fake && session.completer.k == 2 && session.completer.decoding.beamWidth == 8,
                "the settings carry over to the new model")
        #expect(session.execute(":help").lines.joined().contains(":temperature T"))
        #expect(session.execute(":nope").lines == ["error: unknown command ':nope'; :help lists the commands"])
        #expect(session.execute(":quit").quit)

        _ = session.handle(.text(":k 3"))
        #expect(session.isCommand && !session.update() && session.ghost.isEmpty, "a command line gets no suggestions")
        #expect(StyledLine.plainText(session.frame(width: 80, height: 24).lines.last!).contains(":model NAME"))
    }

    @Test func controlKeysLeave() {
        let (session, _) = Self.session("x")
        #expect(session.handle(.control("d")) == .edit, "Ctrl-D inside a line deletes")
        _ = session.handle(.control("u"))
        #expect(session.handle(.control("d")) == .exit(0))
        #expect(session.handle(.control("c")) == .exit(130))
        #expect(session.handle(.control("z")) == .suspend)
        #expect(session.handle(.control("l")) == .clearScreen)
        _ = session.handle(.paste("a\nb\tc\u{7}"))
        #expect(session.editor.text == "a b c", "a paste is flattened to one line, control characters dropped")
    }
}

extension StyledLine {
    /// A rendered line without its SGR escapes.
    static func plainText(_ rendered: String) -> String {
        rendered.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
    }
}
