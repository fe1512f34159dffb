import Foundation
import Testing
@testable import QuillTensor

// Helpers for the element-wise kernel tests: random data from a seeded RNG, tolerant comparisons that report the
// caller's source location, and central finite differences in Double.

/// The awkward sizes every element-wise kernel is checked on.
let awkwardSizes = [1, 7, 16, 17, 1003]

/// `count` uniform values in [low, high) from `seed`.
func randomFloats(_ count: Int, seed: UInt64, low: Float = -1, high: Float = 1) -> [Float] {
    var rng = RNG(seed: seed)
    return (0..<count).map { _ in rng.uniform(low, high) }
}

/// A tensor holding `values` (shape `[count]`).
func tensor(_ values: [Float]) -> Tensor { Tensor(shape: [values.count], scalars: values) }

/// Expects `actual ≈ expected` element-wise: `|a − e| ≤ absolute + relative·|e|`.
func expectClose(_ actual: [Float], _ expected: [Float], relative: Double = 1e-5, absolute: Double = 1e-6,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): count", sourceLocation: sourceLocation)
    var worst = 0, worstExcess = 0.0
    for i in 0..<min(actual.count, expected.count) {
        let a = Double(actual[i]), e = Double(expected[i])
        let excess = abs(a - e) - (absolute + relative * abs(e))
        if !(excess <= 0) && (excess > worstExcess || excess.isNaN) {
            worst = i
            worstExcess = excess.isNaN ? .infinity : excess
        }
    }
    #expect(worstExcess == 0, "\(what): element \(worst): \(actual[worst]) vs \(expected[worst])",
            sourceLocation: sourceLocation)
}

/// Expects the analytic gradient `analytic` to match central finite differences of `f` at `x` (step `h`, in Double).
func expectGradient(_ analytic: [Float], of f: ([Double]) -> Double, at x: [Double], step h: Double = 1e-5,
                    relative: Double = 1e-3, absolute: Double = 1e-4, _ what: String = "",
                    sourceLocation: SourceLocation = #_sourceLocation) {
    var numeric = [Float](repeating: 0, count: x.count)
    var probe = x
    for k in x.indices {
        probe[k] = x[k] + h
        let up = f(probe)
        probe[k] = x[k] - h
        let down = f(probe)
        probe[k] = x[k]
        numeric[k] = Float((up - down) / (2 * h))
    }
    expectClose(analytic, numeric, relative: relative, absolute: absolute, what, sourceLocation: sourceLocation)
}

func sigmoidD(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// Expects `a` and `b` to be bit-for-bit identical, reporting the first difference (not the whole arrays).
func expectIdentical(_ a: [Float], _ b: [Float], _ what: String = "",
                     sourceLocation: SourceLocation = #_sourceLocation) {
    let first = a.indices.first { $0 < b.count && a[$0].bitPattern != b[$0].bitPattern }
    #expect(a.count == b.count && first == nil,
            "\(what): counts \(a.count)/\(b.count), first difference at \(first.map(String.init) ?? "-")",
            sourceLocation: sourceLocation)
}
