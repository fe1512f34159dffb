import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Quill
import Testing

/// The run charts (`RunComparisonChart`, `RunCurvesChart`) and the `SVGChart` they share: well-formed XML whatever
/// the names and numbers, one series per run with points, the legend, the scales and ticks.
@Suite struct RunPlotsTests {
    /// What a chart holds, read by Foundation's XML parser (which fails on malformed XML): elements by name, groups
    /// by class, the text of every `<text>` and `<title>`, and every attribute value.
    final class Reader: NSObject, XMLParserDelegate {
        var counts: [String: Int] = [:]
        var classes: [String: Int] = [:]
        var texts: [String] = []
        var titles: [String] = []
        var attributeValues: [String] = []
        /// Markers and polylines per series, in document order.
        var seriesMarkers: [Int] = []
        var seriesPolylines: [Int] = []
        private var text: String?
        private var seriesDepth: Int?
        private var depth = 0

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes: [String: String] = [:]) {
            depth += 1
            counts[elementName, default: 0] += 1
            attributeValues += attributes.values
            if let c = attributes["class"] { classes[c, default: 0] += 1 }
            if attributes["class"] == "series" {
                seriesDepth = depth
                seriesMarkers.append(0)
                seriesPolylines.append(0)
            }
            if seriesDepth != nil, attributes["class"] == "marker" { seriesMarkers[seriesMarkers.count - 1] += 1 }
            if seriesDepth != nil, elementName == "polyline" { seriesPolylines[seriesPolylines.count - 1] += 1 }
            if elementName == "text" || elementName == "title" { text = "" }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?) {
            if elementName == "text", let text { texts.append(text) }
            if elementName == "title", let text { titles.append(text) }
            if elementName == "text" || elementName == "title" { text = nil }
            if depth == seriesDepth { seriesDepth = nil }
            depth -= 1
        }
    }

    static func read(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Reader {
        let parser = XMLParser(data: Data(svg.utf8))
        let reader = Reader()
        parser.delegate = reader
        let parsed = parser.parse()
        #expect(parsed, "not well-formed XML: \(String(describing: parser.parserError))\n\(svg)",
                sourceLocation: sourceLocation)
        #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "), sourceLocation: sourceLocation)
        // Every number written is finite: no attribute holds "nan" or "inf".
        for value in reader.attributeValues {
            #expect(!value.lowercased().contains("nan") && !value.lowercased().contains("inf"),
                    "attribute value \(value)", sourceLocation: sourceLocation)
        }
        return reader
    }

    /// Epoch summaries of a run: a train and a valid row per epoch, `seconds` per epoch.
    static func run(_ id: Int64, _ name: String, valid: [Double?], train: [Double]? = nil, seconds: Double = 10)
        -> RunHistory {
        var rows: [MetricRow] = []
        let epochs = max(valid.count, train?.count ?? 0)
        for e in 0..<epochs {
            let wall = Double(e + 1) * seconds
            rows.append(MetricRow(runID: id, step: (e + 1) * 100, epoch: e + 1, split: .train,
                                  perplexity: train.map { $0[e] } ?? 500 / Double(e + 1), tokensPerSecond: 1000,
                                  wallSeconds: wall))
            if e < valid.count {
                rows.append(MetricRow(runID: id, step: (e + 1) * 100, epoch: e + 1, split: .valid,
                                      perplexity: valid[e], wallSeconds: wall))
            }
        }
        return RunHistory(id: id, name: name, model: name, kind: "lstm-lm", parameterCount: 100, metrics: rows)
    }

    // MARK: The comparison

    @Test func comparisonDrawsOneSeriesPerRunWithValidationAndListsEveryRun() throws {
        let runs = [Self.run(1, "small", valid: [900, 400, 300]), Self.run(2, "big", valid: [800, 200]),
                    Self.run(3, "no-valid", valid: [], train: [700, 600])]
        let chart = RunComparisonChart(runs: runs)
        let reader = try Self.read(chart.svg())
        #expect(reader.counts["svg"] == 1)
        #expect(reader.classes["series"] == 2)
        #expect(reader.seriesMarkers == [3, 2] && reader.seriesPolylines == [1, 1])
        #expect(reader.classes["legend-entry"] == 3)
        #expect(reader.texts.contains("#1 small") && reader.texts.contains("#2 big"))
        #expect(reader.texts.contains("#3 no-valid (no validation)"))
        #expect(chart.drawnRunCount == 2)
        // 200 to 900 spans more than 4×: a log scale, said on the axis.
        #expect(reader.texts.contains("validation perplexity (log scale)"))
        #expect(reader.texts.contains("training time (s)"))
        #expect(reader.texts.contains { $0.hasPrefix("Validation perplexity by training time (3 runs)") })
        #expect(chart.svg() == chart.svg(), "a pure function of the runs")
    }

    @Test func comparisonIsLinearWithinFourTimesAndInMinutesForLongRuns() throws {
        let runs = [Self.run(1, "a", valid: [300, 200, 150], seconds: 100),
                    Self.run(2, "b", valid: [280, 160], seconds: 150)]
        let reader = try Self.read(RunComparisonChart(runs: runs).svg())
        #expect(reader.texts.contains("validation perplexity"))
        #expect(reader.texts.contains("training time (min)"))
        #expect(reader.titles.contains("#1 a, epoch 3: valid ppl 150.00 at 5.0 min"))
    }

    @Test func namesAreEscaped() throws {
        let names = ["<b>&amp;\"quoted\" 'single'", "tab\there\u{1B}[31m", "rtl \u{202E}evil", "模型 ✓"]
        let runs = names.enumerated().map { Self.run(Int64($0.offset + 1), $0.element, valid: [200, 100]) }
        let svg = RunComparisonChart(runs: runs).svg()
        let reader = try Self.read(svg)
        #expect(reader.titles.contains("#1 <b>&amp;\"quoted\" 'single'"), "the parser reads the name back")
        #expect(!svg.contains("<b>") && svg.contains("&lt;b&gt;&amp;amp;&quot;quoted&quot; &apos;single&apos;"))
        // What XML (or a terminal) cannot show is written as \u{…}, as the CLI prints names.
        #expect(reader.titles.contains("#2 tab\\u{9}here\\u{1B}[31m"))
        #expect(reader.titles.contains("#3 rtl \\u{202E}evil"))
        #expect(reader.titles.contains("#4 模型 ✓"))
        #expect(!svg.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })

        let curves = RunCurvesChart(run: runs[0]).svg()
        let curvesReader = try Self.read(curves)
        #expect(curvesReader.titles.first == "Run #1 <b>&amp;\"quoted\" 'single' — model <b>&amp;\"quoted\" 'single' "
            + "(lstm-lm)")
    }

    @Test func longNamesAreCutInTheLegendButKeptInTheTooltip() throws {
        let name = String(repeating: "long-name-", count: 30)
        let reader = try Self.read(RunComparisonChart(runs: [Self.run(1, name, valid: [10, 9])]).svg())
        let legend = try #require(reader.texts.first { $0.hasPrefix("#1 long-name-") })
        #expect(legend.hasSuffix("…") && legend.count < 100)
        #expect(reader.titles.contains("#1 " + name))
    }

    @Test func emptyComparisonIsStillAPicture() throws {
        for runs in [[], [Self.run(1, "n", valid: [], train: [50])]] {
            let reader = try Self.read(RunComparisonChart(runs: runs).svg())
            #expect(reader.classes["series"] == nil)
            #expect(reader.classes["empty"] == 1)
            #expect(reader.texts.contains("no run has validation metrics to draw"))
            #expect(reader.classes["legend-entry"] == (runs.isEmpty ? nil : 1))
        }
    }

    @Test func singlePointRunIsOneMarker() throws {
        let runs = [Self.run(1, "one", valid: [123.4])]
        let svg = RunComparisonChart(runs: runs).svg()
        let reader = try Self.read(svg)
        #expect(reader.classes["series"] == 1 && reader.seriesMarkers == [1] && reader.seriesPolylines == [0])
        #expect(reader.texts.filter { Double($0) != nil }.count >= 4, "ticks on both axes around the one value")

        let curves = try Self.read(RunCurvesChart(run: runs[0]).svg())
        #expect(curves.seriesMarkers == [1, 1] && curves.seriesPolylines == [0, 0])
    }

    @Test func aLongSeriesIsALineWithItsLastMarker() throws {
        let long = Self.run(1, "long", valid: (0..<200).map { 500 - Double($0) })
        let reader = try Self.read(RunComparisonChart(runs: [long]).svg())
        #expect(reader.seriesPolylines == [1] && reader.seriesMarkers == [1])
        #expect(reader.titles.contains("#1 long, epoch 200: valid ppl 301.00 at 33.3 min"))
    }

    @Test func nonFiniteMetricsAreLeftOut() throws {
        var mixed = Self.run(1, "mixed", valid: [.nan, 300, .infinity, nil, 200])
        mixed.metrics.append(MetricRow(runID: 1, step: 600, epoch: 6, split: .valid, perplexity: 150,
                                       wallSeconds: .nan))
        mixed.metrics.append(MetricRow(runID: 1, step: 700, epoch: 7, split: .train, perplexity: -.infinity,
                                       tokensPerSecond: .infinity, wallSeconds: .infinity))
        let diverged = Self.run(2, "diverged", valid: [.nan, nil], train: [.nan, .infinity])
        let huge = Self.run(3, "huge", valid: [1.7e308, 1e299, 5])
        let chart = RunComparisonChart(runs: [mixed, diverged, huge])
        let reader = try Self.read(chart.svg())
        #expect(reader.seriesMarkers == [2, 2], "300 and 200: the others are not numbers or have no time; 1e299, 5")
        #expect(reader.texts.contains("#2 diverged (no finite validation perplexity)"))

        for axis in RunCurvesChart.XAxis.allCases {
            let curves = try Self.read(RunCurvesChart(run: mixed, xAxis: axis).svg())
            #expect(curves.classes["series"] == 2, "\(axis)")
            let lost = try Self.read(RunCurvesChart(run: diverged, xAxis: axis).svg())
            #expect(lost.classes["series"] == nil && lost.texts.contains("no finite perplexity to draw"))
            #expect(lost.texts.contains("train (no finite training perplexity)"))
        }

        let figures = mixed.comparison
        #expect(figures.bestValidPerplexity == 150 && figures.bestValidEpoch == 6, "150 needs no time to count")
        #expect(figures.trainingSeconds == 50 && figures.tokensPerSecond == 1000)
        #expect(diverged.comparison.bestValidPerplexity == nil)
    }

    // MARK: One run's curves

    @Test func curvesByEpochShowEachEpochsSummary() throws {
        var run = Self.run(4, "ptb-small", valid: [400, 300, 250], train: [600, 350, 240])
        // A checkpoint inside epoch 2: the epoch's running mean so far, no tokens/s.
        run.metrics.insert(MetricRow(runID: 4, step: 150, epoch: 2, split: .train, perplexity: 380, wallSeconds: 15),
                           at: 2)
        let byEpoch = try Self.read(RunCurvesChart(run: run, xAxis: .epoch).svg())
        #expect(byEpoch.classes["series"] == 2 && byEpoch.seriesMarkers == [3, 3])
        #expect(byEpoch.texts.contains("epoch") && byEpoch.texts.contains("perplexity (log scale)"))
        #expect(byEpoch.texts.contains("train") && byEpoch.texts.contains("valid"))
        #expect(byEpoch.titles.first == "Run #4 ptb-small — model ptb-small (lstm-lm)")
        #expect(["1", "2", "3"].allSatisfy(byEpoch.texts.contains), "whole-epoch ticks: \(byEpoch.texts)")

        let byStep = try Self.read(RunCurvesChart(run: run, xAxis: .step).svg())
        #expect(byStep.seriesMarkers == [4, 3] && byStep.texts.contains("step"))
        #expect(byStep.titles.contains("train, epoch 2, step 150: ppl 380.00"))

        let byTime = try Self.read(RunCurvesChart(run: run, xAxis: .time).svg())
        #expect(byTime.seriesMarkers == [4, 3] && byTime.texts.contains("training time (s)"))
    }

    @Test func curvesWithoutValidationSayIt() throws {
        var run = Self.run(2, "n", valid: [], train: [900, 800])
        run.model = nil
        let reader = try Self.read(RunCurvesChart(run: run).svg())
        #expect(reader.classes["series"] == 1 && reader.classes["legend-entry"] == 2)
        #expect(reader.texts.contains("valid (no validation)"))
        #expect(reader.titles.first == "Run #2 n — no stored model (lstm-lm)")
    }

    // MARK: Axes

    @Test(arguments: [
        ([15.0, 40_000], SVGChart.Scale.logarithmic, [10.0, 100, 1000, 10_000, 100_000]),
        ([150.0, 900], .logarithmic, [100.0, 200, 500, 1000]),
        ([418.0, 950], .logarithmic, [400.0, 500, 600, 700, 800, 900, 1000]),
        ([400.0, 450], .logarithmic, [400.0, 420, 440, 460]),
        ([500.0, 1000], .linear, [500.0, 600, 700, 800, 900, 1000]),
        ([0.0, 0.51], .linear, [0.0, 0.2, 0.4, 0.6]),
    ])
    func axisTicks(values: [Double], scale: SVGChart.Scale, ticks: [Double]) {
        let axis = scale == .logarithmic ? SVGChart.Axis.logarithmic(covering: values)
            : SVGChart.Axis.linear(covering: values, includingZero: values.contains(0))
        #expect(axis.scale == scale)
        #expect(axis.ticks.count == ticks.count)
        for (a, b) in zip(axis.ticks, ticks) { #expect(abs(a - b) <= 1e-9 * b) }
        #expect(axis.lower <= values.min()! && axis.upper >= values.max()!)
        #expect(axis.ticks.allSatisfy { $0 >= axis.lower && $0 <= axis.upper })
    }

    @Test func manyDecadesKeepFewTicksAndOneValueGetsAWindow() {
        let wide = SVGChart.Axis.logarithmic(covering: [1.5, 3e12])
        #expect(wide.ticks.count <= 9 && wide.ticks.first == 1)
        let one = SVGChart.Axis.logarithmic(covering: [123])
        #expect(one.lower < 123 && one.upper > 123 && one.ticks.count >= 3)
        let epoch = SVGChart.Axis.linear(covering: [1], integer: true)
        #expect(epoch.ticks == [0, 1, 2])
        #expect(SVGChart.Axis.linear(covering: [0], includingZero: true).ticks.count >= 2)
        #expect(SVGChart.Axis.automatic(covering: [100, 401]).scale == .logarithmic)
        #expect(SVGChart.Axis.automatic(covering: [100, 399]).scale == .linear)
    }

    @Test(arguments: [(0.0, "0"), (0.2, "0.2"), (1000, "1000"), (2.5, "2.5"), (2e6, "2e6"), (1.5e7, "1.5e7"),
                      (0.001, "0.001"), (-20, "-20")])
    func tickLabels(value: Double, label: String) {
        #expect(SVGChart.tickLabel(value) == label)
    }

    @Test func fixedDecimalsOfAnyFiniteNumber() {
        #expect(SVGChart.fixed(272.875, digits: 2) == "272.88" && SVGChart.fixed(-0.04) == "0.0")
        #expect(SVGChart.fixed(-1.25, digits: 1) == "-1.3" && SVGChart.fixed(7, digits: 0) == "7")
        #expect(SVGChart.fixed(1e299, digits: 2) == "1.00e299" && SVGChart.fixed(-2.5e15) == "-2.50e15")
    }
}
