import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Quill
import Testing

/// The SVG is well-formed XML with one shaded cell per weight, escapes what XML needs, and shapes are checked.
@Suite struct AttentionHeatMapTests {
    static let source = [" the", " cat", " sat", " \n"]
    static let target = ["die", " Katze", "<&\"'>"]
    static let weights: [[Float]] = [[0.7, 0.1, 0.1, 0.1], [0.05, 0.9, 0.05, 0], [0, 0, 0.25, 0.75]]

    /// Elements by name and the text of every `<title>`, read by Foundation's XML parser (which fails on
    /// malformed XML).
    final class Reader: NSObject, XMLParserDelegate {
        var counts: [String: Int] = [:]
        var cellFills: [String] = []
        var titles: [String] = []
        var text: String?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?, attributes: [String: String] = [:]) {
            counts[elementName, default: 0] += 1
            if elementName == "rect", attributes["class"] == "cell" { cellFills.append(attributes["fill"] ?? "") }
            if elementName == "title" { text = "" }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                    qualifiedName qName: String?) {
            if elementName == "title", let text { titles.append(text) }
            text = nil
        }
    }

    static func read(_ svg: String) throws -> Reader {
        let parser = XMLParser(data: Data(svg.utf8))
        let reader = Reader()
        parser.delegate = reader
        guard parser.parse() else {
            throw TestError("not well-formed XML: \(String(describing: parser.parserError))")
        }
        return reader
    }

    struct TestError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test func rendersOneShadedCellPerWeightAsWellFormedXML() throws {
        let map = try AttentionHeatMap(source: Self.source, target: Self.target, weights: Self.weights,
                                       title: "en → de <test>")
        let svg = map.svg()
        let reader = try Self.read(svg)
        #expect(reader.counts["svg"] == 1)
        #expect(reader.cellFills.count == 12)
        // Shade proportional to weight: white at 0, the darkest blue at 1, darker for larger weights.
        #expect(reader.cellFills[7] == "#ffffff" && reader.cellFills[5] < reader.cellFills[0])
        // One tooltip per cell (plus the document's title), naming the pair with visible whitespace.
        #expect(reader.titles.count == 13 && reader.titles[0] == "en → de <test>")
        #expect(reader.titles[1] == "die ← ␣the: 0.700")
        #expect(reader.titles.contains("<&\"'> ← ␣⏎: 0.750"))
        #expect(map.svg() == svg)
    }

    @Test func escapesMarkupInTokensAndTitle() throws {
        let svg = try AttentionHeatMap(source: Self.source, target: Self.target, weights: Self.weights,
                                       title: "a & b").svg()
        #expect(svg.contains(">&lt;&amp;&quot;&apos;&gt;</text>"))
        #expect(svg.contains("<title>a &amp; b</title>"))
        #expect(!svg.contains("<&"))
    }

    @Test func showsWhitespaceAndControlCharactersVisibly() throws {
        let svg = try AttentionHeatMap(source: [" ", "\n", "\t", "\u{1}", ""], target: ["x"],
                                       weights: [[0.2, 0.2, 0.2, 0.2, 0.2]]).svg()
        for shown in [">␣</text>", ">⏎</text>", ">⇥</text>", ">⟨U+0001⟩</text>", ">∅</text>"] {
            #expect(svg.contains(shown), "\(shown)")
        }
        _ = try Self.read(svg)
    }

    @Test func rejectsMismatchedShapesNamingTheCounts() {
        #expect(throws: AttentionHeatMapError.rowCountMismatch(rows: 2, targetTokens: 3)) {
            try AttentionHeatMap(source: Self.source, target: Self.target, weights: Array(Self.weights.prefix(2)))
        }
        var ragged = Self.weights
        ragged[1].removeLast()
        #expect(throws: AttentionHeatMapError.columnCountMismatch(row: 1, columns: 3, sourceTokens: 4)) {
            try AttentionHeatMap(source: Self.source, target: Self.target, weights: ragged)
        }
        var wrong = Self.weights
        wrong[2][1] = 1.5
        #expect(throws: AttentionHeatMapError.weightOutOfRange(row: 2, column: 1, value: 1.5)) {
            try AttentionHeatMap(source: Self.source, target: Self.target, weights: wrong)
        }
        #expect(throws: AttentionHeatMapError.noTokens(sourceTokens: 0, targetTokens: 1)) {
            try AttentionHeatMap(source: [], target: ["x"], weights: [[]])
        }
        #expect("\(AttentionHeatMapError.rowCountMismatch(rows: 2, targetTokens: 3))".contains("3 target tokens"))
    }
}
