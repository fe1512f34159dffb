import Foundation
import QuillDecode
import QuillTensor
import Testing

/// The continuous cache against its formula, computed naively in Double.
@Suite struct ContinuousCacheTests {
    static func logSoftmax(_ x: [Double]) -> [Float] {
        let m = x.max()!
        let z = log(x.reduce(0) { $0 + exp($1 - m) }) + m
        return x.map { Float($0 - z) }
    }

    @Test func mixesAsTheFormulaSays() {
        var rng = RNG(seed: 7)
        func uniform() -> Double { Double(rng.next() >> 11) * 0x1p-53 * 2 - 1 }
        let (V, H, capacity) = (13, 5, 4)
        let settings = ContinuousCache.Settings(weight: 0.3, flatness: 0.8, capacity: capacity)
        var cache = ContinuousCache(settings: settings, width: H)
        var entries: [([Float], Int32)] = []
        for n in 0..<7 {  // more than the capacity: the oldest are forgotten
            let h = (0..<H).map { _ in Float(uniform()) }
            let token = Int32(n * 5 % V)
            cache.append(hidden: h, next: token)
            entries.append((h, token))
        }
        #expect(cache.count == capacity)
        let query = (0..<H).map { _ in Float(uniform()) }
        var p = Self.logSoftmax((0..<V).map { _ in uniform() * 3 })
        let model = p.map { exp(Double($0)) }
        p.withUnsafeMutableBufferPointer { p in query.withUnsafeBufferPointer { cache.mix(into: p, hidden: $0) } }
        // Naive: the last `capacity` entries.
        let kept = entries.suffix(capacity)
        let weights = kept.map { e in exp(0.8 * zip(e.0, query).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }) }
        let total = weights.reduce(0, +)
        for w in 0..<V {
            let cached = zip(kept, weights).filter { $0.0.1 == Int32(w) }.reduce(0.0) { $0 + $1.1 } / total
            let expected = 0.7 * model[w] + 0.3 * cached
            #expect(abs(exp(Double(p[w])) - expected) < 1e-5, "token \(w)")
        }
        #expect(abs(p.reduce(0.0) { $0 + exp(Double($1)) } - 1) < 1e-5)
    }

    @Test func anEmptyCacheLeavesTheDistribution() {
        var cache = ContinuousCache(width: 3)
        var p: [Float] = [-1, -2, -0.5]
        let before = p
        p.withUnsafeMutableBufferPointer { p in [Float](repeating: 1, count: 3).withUnsafeBufferPointer {
            cache.mix(into: p, hidden: $0) } }
        #expect(p == before)
    }
}
