import Foundation
import QuillNN
import QuillTensor
import QuillTestSupport
import Testing

/// The largest errors seen by ``expectMatch(_:_:_:tolerance:sourceLocation:)``.
struct MatchReport: CustomStringConvertible {
    /// `max |a − e|`, `max |a − e| / max(1, |e|)` (the tested tolerance), and `max |a − e| / max |e|` per tensor
    /// (the error against the tensor's own scale, telling for small gradients).
    var maxAbsolute = 0.0, maxRelative = 0.0, maxScaled = 0.0

    mutating func merge(_ other: MatchReport) {
        maxAbsolute = max(maxAbsolute, other.maxAbsolute)
        maxRelative = max(maxRelative, other.maxRelative)
        maxScaled = max(maxScaled, other.maxScaled)
    }

    var description: String {
        String(format: "max abs %.2e, max rel %.2e, max abs/scale %.2e", maxAbsolute, maxRelative, maxScaled)
    }
}

/// Expects `|a − e| ≤ tolerance·max(1, |e|)` element-wise; returns the largest absolute and relative
/// (`|a − e| / max(1, |e|)`) errors.
@discardableResult
func expectMatch(_ actual: [Float], _ expected: [Float], _ what: String, tolerance: Double = 1e-5,
                 sourceLocation: SourceLocation = #_sourceLocation) -> MatchReport {
    #expect(actual.count == expected.count, "\(what): \(actual.count) elements, expected \(expected.count)",
            sourceLocation: sourceLocation)
    var report = MatchReport(), worst = 0
    for i in 0..<min(actual.count, expected.count) {
        let a = Double(actual[i]), e = Double(expected[i])
        let absolute = abs(a - e), relative = absolute / max(1, abs(e))
        if !(relative <= report.maxRelative) { worst = i }
        report.maxAbsolute = max(report.maxAbsolute, absolute.isNaN ? .infinity : absolute)
        report.maxRelative = max(report.maxRelative, relative.isNaN ? .infinity : relative)
    }
    let scale = expected.reduce(0) { max($0, abs(Double($1))) }
    report.maxScaled = scale > 0 ? report.maxAbsolute / scale : report.maxAbsolute
    #expect(report.maxRelative <= tolerance,
            "\(what): element \(worst) is \(actual.isEmpty ? 0 : actual[worst]), expected \(expected.isEmpty ? 0 : expected[worst]) (\(report))",
            sourceLocation: sourceLocation)
    return report
}
