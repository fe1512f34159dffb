import Foundation

/// Runs side by side as an SVG chart: validation perplexity against training wall time, one line with markers per
/// run (`quill runs compare --plot`).
///
/// The y axis is logarithmic when the perplexities span more than 4× (early epochs of a large vocabulary sit orders
/// of magnitude above the end), else linear; the x axis is in seconds, minutes or hours by the longest run. Points
/// are a run's `valid` metric rows; rows without a finite perplexity (a diverged run stores NaN as `nil`) or a wall
/// time are left out, and a run left with no point is listed in the legend with why, not drawn. The drawing is
/// ``SVGChart``'s.
public struct RunComparisonChart: Sendable {
    public let runs: [RunHistory]

    public init(runs: [RunHistory]) {
        self.runs = runs
    }

    /// The chart as a standalone SVG document (UTF-8, with an XML declaration), ready to open in a browser.
    public func svg() -> String {
        let drawn = runs.map(Self.points)
        let all = drawn.flatMap { $0 }
        let unit = TimeUnit(longest: all.map(\.seconds).max() ?? 0)
        let yAxis = SVGChart.Axis.automatic(covering: all.map(\.perplexity))
        let series = zip(runs, drawn).enumerated().map { i, pair in
            let (run, points) = pair
            let label = "#\(run.id) \(run.name)"
            return SVGChart.Series(
                label: label,
                points: points.map {
                    SVGChart.Point(x: $0.seconds / unit.seconds, y: $0.perplexity,
                                   tip: "\(label), epoch \($0.epoch): valid ppl "
                                       + "\(SVGChart.fixed($0.perplexity, digits: 2)) at \(unit.format($0.seconds))")
                },
                style: i, note: Self.whyNotDrawn(run))
        }
        let chart = SVGChart(
            title: "Validation perplexity by training time (\(runs.count) run\(runs.count == 1 ? "" : "s"))",
            xLabel: "training time (\(unit.symbol))",
            yLabel: "validation perplexity" + (yAxis.scale == .logarithmic ? " (log scale)" : ""),
            xAxis: .linear(covering: all.map { $0.seconds / unit.seconds }, includingZero: true),
            yAxis: yAxis, series: series, emptyNote: "no run has validation metrics to draw")
        return chart.svg()
    }

    /// How many of the runs have a point to draw (the others are only listed in the legend).
    public var drawnRunCount: Int { runs.filter { !Self.points($0).isEmpty }.count }

    /// The run's validation points that can be drawn, in step order.
    static func points(_ run: RunHistory) -> [(seconds: Double, perplexity: Double, epoch: Int)] {
        run.metrics.compactMap { row in
            guard row.split == .valid, let p = row.perplexity, SVGChart.isDrawable(p), p > 0,
                  let s = row.wallSeconds, SVGChart.isDrawable(s), s >= 0 else { return nil }
            return (s, p, row.epoch)
        }
    }

    /// Why a run has no point: said after its name in the legend.
    static func whyNotDrawn(_ run: RunHistory) -> String {
        let valid = run.metrics.filter { $0.split == .valid }
        if valid.isEmpty { return "(no validation)" }
        if !valid.contains(where: { ($0.perplexity ?? .nan).isFinite }) { return "(no finite validation perplexity)" }
        return "(no validation with a wall time)"
    }
}

/// One run's training curves as an SVG chart: train and valid perplexity (log scale) against epoch, step or wall
/// time (`quill runs plot`).
///
/// Against epochs each split shows the last row of each epoch (the epoch's summary; rows at checkpoints inside an
/// epoch come before it), against steps and time every row. Non-finite perplexities and rows without the x value are
/// left out. The drawing is ``SVGChart``'s.
public struct RunCurvesChart: Sendable {
    /// What the x axis counts.
    public enum XAxis: String, CaseIterable, Sendable {
        case epoch
        case step
        /// Wall-clock training time, in seconds, minutes or hours by the run's length.
        case time
    }

    public let run: RunHistory
    public let xAxis: XAxis

    public init(run: RunHistory, xAxis: XAxis = .epoch) {
        self.run = run
        self.xAxis = xAxis
    }

    /// The chart as a standalone SVG document (UTF-8, with an XML declaration), ready to open in a browser.
    public func svg() -> String {
        let train = points(.train), valid = points(.valid)
        let all = train + valid
        let unit = TimeUnit(longest: xAxis == .time ? all.map(\.x).max() ?? 0 : 0)
        func scaled(_ x: Double) -> Double { xAxis == .time ? x / unit.seconds : x }
        func series(_ name: String, _ points: [(x: Double, row: MetricRow)], style: Int, note: String)
            -> SVGChart.Series {
            SVGChart.Series(label: name, points: points.map { point in
                let where_ = xAxis == .time ? "at \(unit.format(point.x))" : "step \(point.row.step)"
                return SVGChart.Point(x: scaled(point.x), y: point.row.perplexity!,
                                      tip: "\(name), epoch \(point.row.epoch), \(where_): ppl "
                                          + SVGChart.fixed(point.row.perplexity!, digits: 2))
            }, style: style, note: note)
        }
        let xLabel: String
        switch xAxis {
        case .epoch: xLabel = "epoch"
        case .step: xLabel = "step"
        case .time: xLabel = "training time (\(unit.symbol))"
        }
        let chart = SVGChart(
            title: title, xLabel: xLabel, yLabel: "perplexity (log scale)",
            xAxis: .linear(covering: all.map { scaled($0.x) }, includingZero: xAxis != .epoch,
                           integer: xAxis != .time),
            yAxis: .logarithmic(covering: all.map { $0.row.perplexity! }),
            series: [series("train", train, style: 0, note: note(.train)),
                     series("valid", valid, style: 1, note: note(.valid))],
            emptyNote: "no finite perplexity to draw")
        return chart.svg()
    }

    /// `Run #3 ptb-small — model ptb-small (lstm-lm)`.
    var title: String {
        let kind = run.kind.map { " (\($0))" } ?? ""
        return "Run #\(run.id) \(run.name) — " + (run.model.map { "model \($0)" } ?? "no stored model") + kind
    }

    /// The rows of `split` that can be drawn and their x values, in step order.
    func points(_ split: MetricSplit) -> [(x: Double, row: MetricRow)] {
        var rows = run.metrics.filter { $0.split == split && SVGChart.isDrawable($0.perplexity) && $0.perplexity! > 0 }
        if xAxis == .epoch {  // the last row of each epoch
            var last: [Int: Int] = [:]
            for (i, row) in rows.enumerated() { last[row.epoch] = i }
            rows = rows.enumerated().filter { last[$0.element.epoch] == $0.offset }.map(\.element)
        }
        return rows.compactMap { row in
            switch xAxis {
            case .epoch: return (Double(row.epoch), row)
            case .step: return (Double(row.step), row)
            case .time: return row.wallSeconds.flatMap { SVGChart.isDrawable($0) && $0 >= 0 ? ($0, row) : nil }
            }
        }
    }

    func note(_ split: MetricSplit) -> String {
        let rows = run.metrics.filter { $0.split == split }
        let name = split == .train ? "training" : "validation"
        if rows.isEmpty { return split == .train ? "(no training metrics)" : "(no validation)" }
        if !rows.contains(where: { ($0.perplexity ?? .nan).isFinite }) { return "(no finite \(name) perplexity)" }
        return "(no \(name) row with a wall time)"
    }
}

/// The unit of a time axis: seconds up to two minutes, minutes up to two hours, then hours.
struct TimeUnit {
    let seconds: Double
    let symbol: String

    init(longest: Double) {
        if longest <= 120 {
            (seconds, symbol) = (1, "s")
        } else if longest <= 7200 {
            (seconds, symbol) = (60, "min")
        } else {
            (seconds, symbol) = (3600, "h")
        }
    }

    /// `12.3 s`, `4.5 min`.
    func format(_ value: Double) -> String { SVGChart.fixed(value / seconds, digits: 1) + " " + symbol }
}
