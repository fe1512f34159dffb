/// A picture of a translation's attention: an SVG heat map, one row per target token and one column per source token.
///
/// The weights are `[T][S]` (`T` target tokens, `S` source tokens), each a softmax alignment in `[0, 1]`. A cell's
/// shade is proportional to its weight on one hue (white at 0, dark blue at 1), so equal weights look equal wherever
/// they are; each cell carries a tooltip with its pair and weight, and a legend shows the scale. Tokens are shown
/// with their whitespace made visible (`␣`, `⏎`, `⇥`), since Quill's tokens are often a space or a line break.
/// The output is a pure function of the inputs (integer coordinates, fixed decimals), so it can be compared in
/// tests and diffed between runs.
public struct AttentionHeatMap: Sendable {
    public let source: [String]
    public let target: [String]
    public let weights: [[Float]]
    public let title: String?

    /// Checks the shapes and values at once, so `svg()` cannot fail.
    /// - Parameters:
    ///   - source: the `S` source tokens (columns).
    ///   - target: the `T` target tokens (rows).
    ///   - weights: `[T][S]`, each in `[0, 1]`; rows need not sum exactly to 1 (a caller may drop padding columns).
    ///   - title: drawn above the map and used as the SVG's accessible title.
    /// - Throws: ``AttentionHeatMapError`` naming the counts or the cell that does not fit.
    public init(source: [String], target: [String], weights: [[Float]], title: String? = nil)
        throws(AttentionHeatMapError)
    {
        guard !source.isEmpty, !target.isEmpty else {
            throw .noTokens(sourceTokens: source.count, targetTokens: target.count)
        }
        guard weights.count == target.count else {
            throw .rowCountMismatch(rows: weights.count, targetTokens: target.count)
        }
        for (t, row) in weights.enumerated() {
            guard row.count == source.count else {
                throw .columnCountMismatch(row: t, columns: row.count, sourceTokens: source.count)
            }
            // A float softmax may round a hair past 1 (or below 0 after a subtraction): tolerate that, not more.
            for (s, w) in row.enumerated() where !(w >= -Self.tolerance && w <= 1 + Self.tolerance) {
                throw .weightOutOfRange(row: t, column: s, value: w)
            }
        }
        self.source = source
        self.target = target
        self.weights = weights
        self.title = title
    }

    static let tolerance: Float = 1e-4

    // Layout in pixels. Labels are 12 px monospace, whose advance is about 0.6 em; the estimate only sizes margins.
    static let cell = 24
    static let margin = 8
    static let gap = 6
    static let fontSize = 12
    static let charWidth = 7.2
    static let titleHeight = 24
    static let legendWidth = 12
    static let legendMinHeight = 96
    /// Longer labels are cut with "…" (the tooltip keeps the whole token), so one long token cannot swamp the map.
    static let maxLabelCharacters = 20
    /// ColorBrewer's "Blues" ends: white to dark blue, interpolated in sRGB as SVG gradients are by default.
    static let low: (Int, Int, Int) = (255, 255, 255)
    static let high: (Int, Int, Int) = (8, 48, 107)
    static let gradientID = "quill-attention-scale"

    /// The heat map as a standalone SVG document (UTF-8, with an XML declaration), ready to open in a browser.
    public func svg() -> String {
        let sourceLabels = source.map { Self.label(Self.visible($0)) }
        let targetLabels = target.map { Self.label(Self.visible($0)) }
        let c = Self.cell
        let S = source.count, T = target.count
        let titleBand = title == nil ? 0 : Self.titleHeight
        let gridTop = Self.margin + titleBand + Self.textWidth(sourceLabels) + Self.gap
        let gridLeft = Self.margin + Self.textWidth(targetLabels) + Self.gap
        let gridWidth = S * c, gridHeight = T * c
        let legendX = gridLeft + gridWidth + 2 * Self.gap + 4
        let legendHeight = max(gridHeight, Self.legendMinHeight)
        let width = legendX + Self.legendWidth + Self.gap + Self.textWidth(["0.00"]) + Self.margin
        let height = gridTop + legendHeight + Self.margin

        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" font-family=\"monospace\" font-size=\"\(Self.fontSize)\">\n"
        if let title {
            out += "<title>\(Self.escape(title))</title>\n"
        }
        out += "<defs><linearGradient id=\"\(Self.gradientID)\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
            + "<stop offset=\"0\" stop-color=\"\(Self.color(0))\"/><stop offset=\"1\" stop-color=\"\(Self.color(1))\"/>"
            + "</linearGradient></defs>\n"
        out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        if let title {
            out += "<text class=\"title\" x=\"\(Self.margin)\" y=\"\(Self.margin + 16)\" font-size=\"14\" "
                + "font-weight=\"bold\">\(Self.escape(title))</text>\n"
        }
        // Source labels read upwards from just above their column, so long tokens take height, not width.
        out += "<g class=\"source-labels\" text-anchor=\"start\" dominant-baseline=\"central\">\n"
        for (s, label) in sourceLabels.enumerated() {
            let x = gridLeft + s * c + c / 2, y = gridTop - Self.gap
            out += "<text transform=\"translate(\(x),\(y)) rotate(-90)\">\(Self.escape(label))</text>\n"
        }
        out += "</g>\n"
        out += "<g class=\"target-labels\" text-anchor=\"end\" dominant-baseline=\"central\">\n"
        for (t, label) in targetLabels.enumerated() {
            let x = gridLeft - Self.gap, y = gridTop + t * c + c / 2
            out += "<text x=\"\(x)\" y=\"\(y)\">\(Self.escape(label))</text>\n"
        }
        out += "</g>\n"
        // A light outline keeps zero-weight cells visible on the white background.
        out += "<g class=\"cells\" stroke=\"#d9d9d9\" stroke-width=\"1\">\n"
        for t in 0..<T {
            for s in 0..<S {
                let w = Self.clamped(weights[t][s])
                let tip = "\(Self.visible(target[t])) ← \(Self.visible(source[s])): \(Self.fixed(w, digits: 3))"
                out += "<rect class=\"cell\" x=\"\(gridLeft + s * c)\" y=\"\(gridTop + t * c)\" width=\"\(c)\" "
                    + "height=\"\(c)\" fill=\"\(Self.color(w))\"><title>\(Self.escape(tip))</title></rect>\n"
            }
        }
        out += "</g>\n"
        out += "<g class=\"legend\">\n"
        out += "<rect x=\"\(legendX)\" y=\"\(gridTop)\" width=\"\(Self.legendWidth)\" height=\"\(legendHeight)\" "
            + "fill=\"url(#\(Self.gradientID))\" stroke=\"#999999\" stroke-width=\"1\"/>\n"
        for tick in [0.0, 0.5, 1.0] {
            let y = gridTop + legendHeight - Int((tick * Double(legendHeight)).rounded())
            out += "<text x=\"\(legendX + Self.legendWidth + Self.gap)\" y=\"\(y)\" dominant-baseline=\"central\">"
                + "\(Self.fixed(tick, digits: 1))</text>\n"
        }
        out += "</g>\n"
        out += "</svg>\n"
        return out
    }

    static func clamped(_ w: Float) -> Double { min(max(Double(w), 0), 1) }

    /// `#rrggbb` on the straight line from ``low`` to ``high``, so the shade is proportional to the weight.
    static func color(_ w: Double) -> String {
        func channel(_ a: Int, _ b: Int) -> String {
            let v = Int((Double(a) + (Double(b) - Double(a)) * w).rounded())
            let hex = String(v, radix: 16)
            return v < 16 ? "0" + hex : hex
        }
        return "#" + channel(low.0, high.0) + channel(low.1, high.1) + channel(low.2, high.2)
    }

    /// `x` with exactly `digits` decimals, independent of locale (`x` ≥ 0).
    static func fixed(_ x: Double, digits: Int) -> String {
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let n = Int((x * Double(scale)).rounded())
        let fraction = String(n % scale)
        return "\(n / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// The token with whitespace and characters XML cannot hold drawn visibly: space `␣`, line feed `⏎`, tab `⇥`,
    /// carriage return `␍`, anything else invisible or forbidden as `⟨U+XXXX⟩`; the empty token as `∅`.
    static func visible(_ token: String) -> String {
        if token.isEmpty { return "∅" }
        var out = ""
        for scalar in token.unicodeScalars {
            switch scalar.value {
            case 0x20: out += "␣"
            case 0x0A: out += "⏎"
            case 0x09: out += "⇥"
            case 0x0D: out += "␍"
            case 0..<0x20, 0x7F...0x9F, 0xFFFE, 0xFFFF:
                out += code(scalar)
            default:
                out += scalar.properties.isWhitespace ? code(scalar) : String(scalar)
            }
        }
        return out
    }

    static func code(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "⟨U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "⟩"
    }

    static func label(_ text: String) -> String {
        text.count <= maxLabelCharacters ? text : String(text.prefix(maxLabelCharacters - 1)) + "…"
    }

    /// The estimated width of the longest of `labels`, in whole pixels.
    static func textWidth(_ labels: [String]) -> Int {
        Int((Double(labels.map(\.count).max() ?? 0) * charWidth).rounded(.up))
    }

    /// Text escaped for XML character data and attribute values alike.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// Why an ``AttentionHeatMap`` cannot be drawn: the weights' shape does not match the tokens, or a weight is not one.
public enum AttentionHeatMapError: Error, Equatable, CustomStringConvertible {
    /// No source or no target tokens: there would be no cell to draw.
    case noTokens(sourceTokens: Int, targetTokens: Int)
    /// The weights have `rows` rows but there are `targetTokens` target tokens.
    case rowCountMismatch(rows: Int, targetTokens: Int)
    /// Row `row` has `columns` weights but there are `sourceTokens` source tokens.
    case columnCountMismatch(row: Int, columns: Int, sourceTokens: Int)
    /// The weight at (`row`, `column`) is outside `[0, 1]` or not a number.
    case weightOutOfRange(row: Int, column: Int, value: Float)

    public var description: String {
        switch self {
        case let .noTokens(sourceTokens, targetTokens):
            return "an attention heat map needs at least one source and one target token, but has \(sourceTokens) "
                + "source and \(targetTokens) target tokens"
        case let .rowCountMismatch(rows, targetTokens):
            return "the attention weights have \(rows) rows but there are \(targetTokens) target tokens (one row each)"
        case let .columnCountMismatch(row, columns, sourceTokens):
            return "row \(row) of the attention weights has \(columns) columns but there are \(sourceTokens) source "
                + "tokens (one column each)"
        case let .weightOutOfRange(row, column, value):
            return "the attention weight at row \(row), column \(column) is \(value), outside [0, 1]"
        }
    }
}
