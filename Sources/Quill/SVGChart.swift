import Foundation

/// A line chart as a standalone SVG document: the one home of what Quill's charts share — axes with ticks on a linear
/// or logarithmic scale, a grid, series drawn as polylines with markers, a legend, a title, and text escaped for XML.
///
/// The charts of runs (``RunComparisonChart``, ``RunCurvesChart``) only pick the points; this type draws them. Points
/// must be finite (and positive on a logarithmic axis): the charts drop the others before they get here, so every
/// number written is finite and the document is always well-formed. A series with one point is drawn as its marker
/// alone, one with more than ``maxMarkers`` as a line with a marker at its end; a series with none is listed in the
/// legend only, greyed, with its ``Series/note``. Like
/// ``AttentionHeatMap`` the output is a pure function of the inputs (fixed decimals, no locale), so it can be
/// compared in tests and diffed.
struct SVGChart {
    enum Scale: Equatable {
        case linear
        case logarithmic
    }

    /// One axis: the data range it spans, its scale and its ticks (data values, each inside the range).
    struct Axis: Equatable {
        var lower: Double
        var upper: Double
        var scale: Scale
        var ticks: [Double]

        /// Where `value` falls along the axis, 0 at ``lower`` and 1 at ``upper``.
        func fraction(_ value: Double) -> Double {
            switch scale {
            case .linear: return (value - lower) / (upper - lower)
            case .logarithmic: return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
            }
        }

        /// A linear axis over `values` with about five round ticks (steps of 1, 2, 2.5 or 5 × 10ⁿ).
        /// - Parameters:
        ///   - includingZero: start at 0 (times, counts) rather than near the smallest value.
        ///   - integer: ticks on whole numbers only (epochs, steps).
        static func linear(covering values: [Double], includingZero: Bool = false, integer: Bool = false) -> Axis {
            var lo = values.min() ?? 0, hi = values.max() ?? 1
            if includingZero { lo = min(lo, 0) }
            if hi - lo <= 0 {  // one value: a window around it
                let pad = integer ? 1 : (lo == 0 ? 1 : abs(lo) * 0.1)
                (lo, hi) = (includingZero && lo >= 0 ? 0 : lo - pad, hi + pad)
            }
            let step = niceStep((hi - lo) / 5, integer: integer)
            let lower = (lo / step).rounded(.down) * step, upper = (hi / step).rounded(.up) * step
            return Axis(lower: lower, upper: upper, scale: .linear, ticks: multiples(of: step, from: lower, to: upper))
        }

        /// A logarithmic axis over `values` (all above 0): ticks at powers of ten when the values span a decade,
        /// else at 1, 2 and 5 × 10ⁿ when that gives four, else at 1, 2, … 9 × 10ⁿ, else (a range of less than about
        /// 1.5×) at round linear steps.
        static func logarithmic(covering values: [Double]) -> Axis {
            var lo = values.min() ?? 1, hi = values.max() ?? 10
            if hi / lo < 1.0001 { (lo, hi) = (lo / 1.5, hi * 1.5) }  // one value: a window around it
            let first = Int(log10(lo).rounded(.down)), last = Int(log10(hi).rounded(.up))
            for (mantissas, enough) in [([1.0], 3), ([1.0, 2, 5], 4), ([1.0, 2, 3, 4, 5, 6, 7, 8, 9], 3)]
            where mantissas.count > 1 || hi / lo >= 10 {
                var candidates: [Double] = []
                for exponent in first...last { candidates += mantissas.map { $0 * pow(10, Double(exponent)) } }
                candidates.append(pow(10, Double(last + 1)))
                guard let lower = candidates.last(where: { $0 <= lo * (1 + 1e-9) }),
                      let upper = candidates.first(where: { $0 >= hi * (1 - 1e-9) }) else { continue }
                var ticks = candidates.filter { $0 >= lower && $0 <= upper }
                guard ticks.count >= enough else { continue }
                if ticks.count > 9 {  // many decades: every k-th power of ten is enough
                    let k = (ticks.count + 7) / 8
                    ticks = ticks.enumerated().filter { $0.offset % k == 0 }.map(\.element)
                }
                return Axis(lower: lower, upper: upper, scale: .logarithmic, ticks: ticks)
            }
            let step = niceStep((hi - lo) / 4, integer: false)
            var lower = (lo / step).rounded(.down) * step
            if lower <= 0 { lower = lo }
            let upper = (hi / step).rounded(.up) * step
            return Axis(lower: lower, upper: upper, scale: .logarithmic,
                        ticks: multiples(of: step, from: lower, to: upper))
        }

        /// Logarithmic when the values span more than `ratio` (and are all above 0), else linear.
        static func automatic(covering values: [Double], ratio: Double = 4) -> Axis {
            if let lo = values.min(), let hi = values.max(), lo > 0, hi / lo > ratio {
                return logarithmic(covering: values)
            }
            return linear(covering: values)
        }

        /// The smallest of 1, 2, 2.5, 5 × 10ⁿ at least `raw` (at least 1, without 2.5, for whole numbers).
        static func niceStep(_ raw: Double, integer: Bool) -> Double {
            guard raw > 0, raw.isFinite else { return 1 }
            let power = pow(10, log10(raw).rounded(.down))
            let mantissas: [Double] = integer ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]
            let step = mantissas.first { $0 * power >= raw * (1 - 1e-9) }! * power
            return integer ? max(1, step.rounded()) : step
        }

        /// `k·step` for every whole `k` with `from ≤ k·step ≤ to` (computed from `k`, so no error accumulates).
        static func multiples(of step: Double, from: Double, to: Double) -> [Double] {
            let first = (from / step - 1e-9).rounded(.up), last = (to / step + 1e-9).rounded(.down)
            guard first <= last else { return [] }
            return stride(from: first, through: last, by: 1).map { $0 * step }
        }
    }

    struct Point {
        var x: Double
        var y: Double
        /// The marker's tooltip.
        var tip: String
    }

    struct Series {
        /// The legend's text (and the series' tooltip).
        var label: String
        var points: [Point]
        /// Colour and marker: colour `style % 10` of ``palette``, marker shape `style / 10 % 4`.
        var style: Int
        /// Said after the label in the legend when the series has no point, e.g. "(no validation)".
        var note: String = ""
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var xAxis: Axis
    var yAxis: Axis
    var series: [Series]
    /// Written across an empty plot (no series has a point).
    var emptyNote: String

    // Layout in pixels. Text is 12 px monospace, whose advance is about 0.6 em; the estimate only sizes margins and
    // cuts long labels, so nothing overlaps whatever the names.
    static let width = 760
    static let margin = 12
    static let fontSize = 12
    static let charWidth = 7.2
    static let titleFontSize = 14
    static let titleBand = 30
    static let plotHeight = 320
    static let tickLength = 5
    /// Inside the frame, so markers at the ends of the range do not sit on the axes.
    static let inset = 8.0
    /// A series with more points (a long run by step or time) is drawn as a line with a marker at its end only, so
    /// the markers do not hide the line.
    static let maxMarkers = 60
    static let legendRow = 20
    static let legendSwatch = 28
    /// Tableau 10: ten colours told apart on screen and in most colour-vision deficiencies.
    static let palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                          "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"]
    static let noteColor = "#767676"

    /// The chart as a standalone SVG document (UTF-8, with an XML declaration), ready to open in a browser.
    func svg() -> String {
        let m = Self.margin
        let yTickLabels = yAxis.ticks.map(Self.tickLabel)
        let xTickLabels = xAxis.ticks.map(Self.tickLabel)
        let plotLeft = m + 22 + Self.textWidth(yTickLabels) + Self.tickLength + 4
        let plotTop = m + Self.titleBand
        let plotRight = Self.width - m - max(16, Self.textWidth(xTickLabels.suffix(1)) / 2)
        let plotBottom = plotTop + Self.plotHeight
        let legendTop = plotBottom + 50
        let height = legendTop + series.count * Self.legendRow + m
        let W = Self.width

        func x(_ value: Double) -> Double {
            Double(plotLeft) + Self.inset + xAxis.fraction(value) * (Double(plotRight - plotLeft) - 2 * Self.inset)
        }
        func y(_ value: Double) -> Double {
            Double(plotBottom) - Self.inset - yAxis.fraction(value) * (Double(plotBottom - plotTop) - 2 * Self.inset)
        }

        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(W)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(W) \(height)\" font-family=\"monospace\" font-size=\"\(Self.fontSize)\">\n"
        out += "<title>\(Self.escape(title))</title>\n"
        out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(W)\" height=\"\(height)\" fill=\"#ffffff\"/>\n"
        let titleCharacters = Int(Double(W - 2 * m) / (Double(Self.titleFontSize) * 0.6))
        out += "<text class=\"title\" x=\"\(W / 2)\" y=\"\(m + 16)\" text-anchor=\"middle\" "
            + "font-size=\"\(Self.titleFontSize)\" font-weight=\"bold\">"
            + "\(Self.escape(Self.cut(title, to: titleCharacters)))</text>\n"

        // Grid and ticks: the y axis on the left, the x axis below, labels outside the frame.
        out += "<g class=\"y-axis\">\n"
        for (tick, label) in zip(yAxis.ticks, yTickLabels) {
            let ty = Self.fixed(y(tick))
            out += "<line x1=\"\(plotLeft)\" y1=\"\(ty)\" x2=\"\(plotRight)\" y2=\"\(ty)\" stroke=\"#e5e5e5\"/>"
                + "<line x1=\"\(plotLeft - Self.tickLength)\" y1=\"\(ty)\" x2=\"\(plotLeft)\" y2=\"\(ty)\" "
                + "stroke=\"#333333\"/>"
                + "<text x=\"\(plotLeft - Self.tickLength - 3)\" y=\"\(ty)\" text-anchor=\"end\" "
                + "dominant-baseline=\"central\">\(Self.escape(label))</text>\n"
        }
        let yMid = (plotTop + plotBottom) / 2
        out += "<text class=\"axis-label\" transform=\"translate(\(m + 10),\(yMid)) rotate(-90)\" "
            + "text-anchor=\"middle\" dominant-baseline=\"central\">\(Self.escape(yLabel))</text>\n"
        out += "</g>\n"
        out += "<g class=\"x-axis\">\n"
        for (tick, label) in zip(xAxis.ticks, xTickLabels) {
            let tx = Self.fixed(x(tick))
            out += "<line x1=\"\(tx)\" y1=\"\(plotTop)\" x2=\"\(tx)\" y2=\"\(plotBottom)\" stroke=\"#e5e5e5\"/>"
                + "<line x1=\"\(tx)\" y1=\"\(plotBottom)\" x2=\"\(tx)\" y2=\"\(plotBottom + Self.tickLength)\" "
                + "stroke=\"#333333\"/>"
                + "<text x=\"\(tx)\" y=\"\(plotBottom + Self.tickLength + 14)\" text-anchor=\"middle\">"
                + "\(Self.escape(label))</text>\n"
        }
        out += "<text class=\"axis-label\" x=\"\((plotLeft + plotRight) / 2)\" y=\"\(plotBottom + 40)\" "
            + "text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        out += "</g>\n"
        out += "<rect class=\"frame\" x=\"\(plotLeft)\" y=\"\(plotTop)\" width=\"\(plotRight - plotLeft)\" "
            + "height=\"\(plotBottom - plotTop)\" fill=\"none\" stroke=\"#333333\"/>\n"

        if series.allSatisfy({ $0.points.isEmpty }) {
            out += "<text class=\"empty\" x=\"\((plotLeft + plotRight) / 2)\" y=\"\(yMid)\" text-anchor=\"middle\" "
                + "fill=\"\(Self.noteColor)\">\(Self.escape(emptyNote))</text>\n"
        }
        for s in series where !s.points.isEmpty {
            let color = Self.color(s.style)
            out += "<g class=\"series\" stroke=\"\(color)\" fill=\"\(color)\">"
                + "<title>\(Self.escape(s.label))</title>\n"
            if s.points.count > 1 {
                let points = s.points.map { "\(Self.fixed(x($0.x))),\(Self.fixed(y($0.y)))" }.joined(separator: " ")
                out += "<polyline points=\"\(points)\" fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\"/>\n"
            }
            for p in s.points.count <= Self.maxMarkers ? s.points[...] : s.points.suffix(1) {
                out += Self.marker(s.style, x: x(p.x), y: y(p.y), tip: p.tip) + "\n"
            }
            out += "</g>\n"
        }

        // One legend row per series; a series with nothing to draw is greyed, with its note.
        out += "<g class=\"legend\">\n"
        let textX = plotLeft + Self.legendSwatch + 8
        let labelCharacters = Int(Double(W - m - textX) / Self.charWidth)
        for (i, s) in series.enumerated() {
            let rowY = legendTop + i * Self.legendRow + Self.legendRow / 2
            let drawn = !s.points.isEmpty
            let full = drawn ? s.label : s.label + " " + s.note
            out += "<g class=\"legend-entry\"><title>\(Self.escape(full))</title>"
            if drawn {
                let color = Self.color(s.style)
                out += "<line x1=\"\(plotLeft)\" y1=\"\(rowY)\" x2=\"\(plotLeft + Self.legendSwatch)\" y2=\"\(rowY)\" "
                    + "stroke=\"\(color)\" stroke-width=\"2\"/>"
                out += "<g stroke=\"\(color)\" fill=\"\(color)\">"
                    + Self.marker(s.style, x: Double(plotLeft + Self.legendSwatch / 2), y: Double(rowY), tip: nil)
                    + "</g>"
            }
            out += "<text x=\"\(textX)\" y=\"\(rowY)\" dominant-baseline=\"central\""
                + (drawn ? "" : " fill=\"\(Self.noteColor)\"")
                + ">\(Self.escape(Self.cut(full, to: labelCharacters)))</text></g>\n"
        }
        out += "</g>\n"
        out += "</svg>\n"
        return out
    }

    static func color(_ style: Int) -> String { palette[style % palette.count] }

    /// Whether a value can be placed on an axis: finite, and within ±10³⁰⁰ (a perplexity beyond is as good as
    /// infinite, and the axis' round bounds around it would overflow `Double`).
    static func isDrawable(_ value: Double?) -> Bool {
        guard let value else { return false }
        return value.isFinite && abs(value) <= 1e300
    }

    /// A marker centred on (x, y): a circle, square, triangle or diamond by `style / 10`, white-edged so that
    /// overlapping series stay apart.
    static func marker(_ style: Int, x: Double, y: Double, tip: String?) -> String {
        let r = 3.5
        let title = tip.map { "<title>\(escape($0))</title>" } ?? ""
        let common = "stroke=\"#ffffff\" stroke-width=\"1\""
        func polygon(_ corners: [(Double, Double)]) -> String {
            let points = corners.map { "\(fixed(x + $0.0)),\(fixed(y + $0.1))" }.joined(separator: " ")
            return "<polygon class=\"marker\" points=\"\(points)\" \(common)>\(title)</polygon>"
        }
        switch (style / palette.count) % 4 {
        case 1:
            return "<rect class=\"marker\" x=\"\(fixed(x - r))\" y=\"\(fixed(y - r))\" width=\"\(fixed(2 * r))\" "
                + "height=\"\(fixed(2 * r))\" \(common)>\(title)</rect>"
        case 2:
            return polygon([(0, -r - 1), (r + 1, r), (-r - 1, r)])
        case 3:
            return polygon([(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)])
        default:
            return "<circle class=\"marker\" cx=\"\(fixed(x))\" cy=\"\(fixed(y))\" r=\"\(fixed(r))\" \(common)>"
                + "\(title)</circle>"
        }
    }

    /// A tick's label: as few decimals as show it exactly (at most 4), `2e6` style from a million on.
    static func tickLabel(_ value: Double) -> String {
        guard value != 0 else { return "0" }
        if abs(value) >= 1e6 {
            let exponent = log10(abs(value)).rounded(.down)
            return shortest(value / pow(10, exponent), maxDigits: 2) + "e" + String(Int(exponent))
        }
        return shortest(value, maxDigits: 4)
    }

    /// `value` with the fewest decimals (up to `maxDigits`) that write it to within rounding.
    static func shortest(_ value: Double, maxDigits: Int) -> String {
        for digits in 0..<maxDigits {
            let scale = pow(10, Double(digits))
            if abs((value * scale).rounded() / scale - value) <= 1e-9 * max(1, abs(value)) {
                return fixed(value, digits: digits)
            }
        }
        return fixed(value, digits: maxDigits)
    }

    /// `x` with exactly `digits` decimals, independent of locale; from 10¹⁵ on (a perplexity of a diverging run)
    /// as `1.23e15`. A finite `x` is assumed (the charts drop others).
    static func fixed(_ x: Double, digits: Int = 1) -> String {
        guard x.isFinite else { return "0" }
        if abs(x) >= 1e15 {
            let exponent = log10(abs(x)).rounded(.down)
            return fixed(x / pow(10, exponent), digits: 2) + "e" + String(Int(exponent))
        }
        let scale = pow(10, Double(digits))
        let n = Int64((abs(x) * scale).rounded())
        let sign = n != 0 && x < 0 ? "-" : ""
        let whole = n / Int64(scale)
        guard digits > 0 else { return sign + String(whole) }
        let fraction = String(n % Int64(scale))
        return sign + "\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// The estimated width of the longest of `labels`, in whole pixels.
    static func textWidth<S: Sequence<String>>(_ labels: S) -> Int {
        Int((Double(labels.map(\.count).max() ?? 0) * charWidth).rounded(.up))
    }

    /// `text` as shown (``StoreName/escaped(_:)``) cut to `limit` characters with "…" (the tooltip keeps the whole
    /// text).
    static func cut(_ text: String, to limit: Int) -> String {
        let text = StoreName.escaped(text), limit = max(limit, 8)
        return text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// Text for XML character data and attribute values alike: `& < > " '` escaped, and what a terminal or XML
    /// cannot show — controls, line separators, bidirectional overrides (``StoreName/escaped(_:)``), and the
    /// non-characters U+FFFE and U+FFFF — written as `\u{1B}`, so a name from any store gives a well-formed document.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in StoreName.escaped(text).unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\u{FFFE}", "\u{FFFF}": out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
