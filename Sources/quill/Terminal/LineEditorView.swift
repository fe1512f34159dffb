/// Columns a character takes on a terminal: 0 for combining and format characters, 2 for East Asian wide and
/// full-width characters and emoji shown as pictures, 1 otherwise.
///
/// The ranges are the wide ones of Unicode's EastAsianWidth.txt (W and F) and the emoji blocks, as in Markus Kuhn's
/// `wcwidth` and its successors; libc's `wcwidth` would do the same but depends on the process locale.
enum DisplayWidth {
    static func of(_ character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if first.value < 0x20 || (0x7F..<0xA0).contains(first.value) { return 0 }
        if scalars.contains(where: { $0.value == 0xFE0F }) { return 2 }  // emoji presentation selector
        if isWide(first) { return 2 }
        switch first.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: return 1
        }
    }

    static func of(_ text: some StringProtocol) -> Int { text.reduce(0) { $0 + of($1) } }

    private static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3, 0x25FD...0x25FE,
             0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB, 0x26BD...0x26BE,
             0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA, 0x26FD, 0x2705,
             0x270A...0x270B, 0x2728, 0x274C, 0x274E, 0x2753...0x2755, 0x2757, 0x2795...0x2797, 0x27B0, 0x27BF,
             0x2B1B...0x2B1C, 0x2B50, 0x2B55, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x18AFF, 0x1B000...0x1B2FF, 0x1F004, 0x1F0CF, 0x1F18E,
             0x1F191...0x1F19A, 0x1F1E6...0x1F1FF, 0x1F200...0x1F2FF, 0x1F300...0x1F64F, 0x1F680...0x1F6FF,
             0x1F7E0...0x1F7EB, 0x1F90C...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}

/// A line of text in pieces with styles, cut to a width in columns when rendered.
struct StyledLine: Equatable {
    enum Style: String {
        case plain = ""
        case bold = "1"
        case dim = "2"
        case reverse = "7"
    }

    var pieces: [(text: String, style: Style)] = []

    static func == (a: StyledLine, b: StyledLine) -> Bool {
        a.pieces.elementsEqual(b.pieces) { $0.text == $1.text && $0.style == $1.style }
    }

    mutating func append(_ text: String, _ style: Style = .plain) { pieces.append((text, style)) }

    /// The text without styles.
    var plain: String { pieces.map(\.text).joined() }

    /// The line with SGR escapes, cut to `width` columns (a wide character that would straddle the edge is left out).
    func rendered(width: Int) -> String {
        var out = ""
        var used = 0
        var full = false
        for (text, style) in pieces where !full {
            var piece = ""
            for character in text {
                let w = DisplayWidth.of(character)
                if used + w > width {
                    full = true
                    break
                }
                piece.append(character)
                used += w
            }
            guard !piece.isEmpty else { continue }
            out += style == .plain ? piece : "\u{1B}[\(style.rawValue)m" + piece + "\u{1B}[0m"
        }
        return out
    }
}

/// What the screen shows: rows of text below the line where the REPL started, and where the cursor goes.
struct Frame: Equatable {
    var lines: [String]
    var cursorRow: Int
    var cursorColumn: Int
}

/// The input row: prompt, typed text and dim ghost text, scrolled sideways so the cursor stays in view on a line
/// wider than the terminal. The last column stays empty, so the cursor never wraps.
///
/// - Returns: the row, cut to `width - 1` columns, and the cursor's column.
func inputRow(prompt: String, text: String, cursor: Int, ghost: String, width: Int) -> (String, column: Int) {
    let room = max(1, width - 1 - DisplayWidth.of(prompt))
    let characters = Array(text)
    // The first character shown: the text is scrolled just enough for the cursor to fit.
    var start = 0
    var before = DisplayWidth.of(String(characters[..<cursor]))
    while before >= room, start < cursor {
        before -= DisplayWidth.of(characters[start])
        start += 1
    }
    var line = StyledLine()
    line.append(prompt, .bold)
    line.append(String(characters[start...]))
    if cursor == characters.count, !ghost.isEmpty { line.append(ghost, .dim) }
    return (line.rendered(width: max(1, width - 1)), DisplayWidth.of(prompt) + before)
}

/// Turns a sequence of ``Frame``s into the bytes that update a terminal from one to the next: only rows that
/// changed are rewritten, each in place (`CR`, the row, erase to the end of the row), and rows the new frame no
/// longer has are erased. Everything is relative to the cursor, so the frame may start on any row; moving down with
/// line feeds scrolls the terminal when the frame reaches its bottom.
struct Painter {
    private var shown: Frame?
    /// The row the terminal's cursor is on, relative to the frame's first row.
    private var row = 0

    /// The bytes that change the screen from the last frame painted to `frame`, cursor hidden while drawing.
    mutating func paint(_ frame: Frame) -> String {
        var out = "\u{1B}[?25l"
        let old = shown?.lines ?? []
        for (r, line) in frame.lines.enumerated() where r >= old.count || old[r] != line {
            out += move(to: r) + "\r" + line + "\u{1B}[K"
        }
        if old.count > frame.lines.count {
            out += move(to: frame.lines.count) + "\r\u{1B}[J"
        }
        out += move(to: frame.cursorRow) + "\r"
        if frame.cursorColumn > 0 { out += "\u{1B}[\(frame.cursorColumn)C" }
        out += "\u{1B}[?25h"
        shown = frame
        return out
    }

    /// The bytes that erase the frame from its first row down and leave the cursor at the start of that row; the
    /// next frame is painted from there.
    mutating func erase() -> String {
        let out = move(to: 0) + "\r\u{1B}[J"
        shown = nil
        row = 0
        return out
    }

    /// The bytes that leave `line` in place of the frame (all of it, wrapped by the terminal if long) and move to
    /// the start of the next row, where the next frame begins: how a committed line or a message stays on screen.
    mutating func leave(_ line: String) -> String {
        erase() + line + "\r\n"
    }

    /// Forgets what is shown, after the screen was cleared (Ctrl-L) with the cursor at the top.
    mutating func reset() {
        shown = nil
        row = 0
    }

    private mutating func move(to target: Int) -> String {
        defer { row = target }
        if target < row { return "\u{1B}[\(row - target)A" }
        return String(repeating: "\n", count: target - row)
    }
}
