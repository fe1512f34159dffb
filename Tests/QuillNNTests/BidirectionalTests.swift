import QuillNN
import QuillTensor
import Testing

/// The bidirectional layer: finite differences on a padded batch, and each direction against a unidirectional layer
/// run on that row alone (the reverse one on the row's reversed sequence).
@Suite struct BidirectionalTests {
    static let (T, B, D, H) = (4, 3, 3, 2)
    static let lengths: [Int32] = [4, 1, 3]

    static func make(_ kind: CellKind, seed: UInt64 = 13) throws -> (ParameterSet, BidirectionalLayer) {
        let parameters = try ParameterSet(BidirectionalLayer.layout(prefix: "encoder", index: 0, kind: kind,
                                                                    inputSize: D, hiddenSize: H))
        var rng = RNG(seed: seed)
        for i in 0..<parameters.flatCount { parameters.values.base[i] = rng.uniform(-0.7, 0.7) }
        let layer = try BidirectionalLayer(parameters, prefix: "encoder", index: 0, kind: kind, inputSize: D,
                                           hiddenSize: H)
        return (parameters, layer)
    }

    @Test(arguments: CellKind.allCases)
    func gradientsOfAPaddedBatch(kind: CellKind) throws {
        let (T, B, D, H) = (Self.T, Self.B, Self.D, Self.H), S = 2 * B * H
        let (parameters, layer) = try Self.make(kind)
        #expect(parameters.entries.map(\.name).contains("encoder.0.reverse.weightHH"))
        var rng = RNG(seed: 2)
        func draw(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform(-0.8, 0.8) } }
        var x = draw(T * B * D), h0 = draw(S), c0 = draw(S)
        let wOut = draw(T * B * 2 * H), w = draw(S), u = draw(S)
        func objective() -> Double {
            Self.lengths.withUnsafeBufferPointer {
                layer.forward(x, steps: T, batch: B, lengths: $0.baseAddress, h0: h0, c0: c0)
            }
            var f = 0.0
            for i in 0..<(T * B * 2 * H) { f += Double(layer.output[i]) * Double(wOut[i]) }
            for i in 0..<S {
                f += Double(layer.finalHidden[i]) * Double(w[i])
                if kind.hasCellState { f += Double(layer.finalCell[i]) * Double(u[i]) }
            }
            return f
        }
        func numeric(_ perturb: (Float) -> Void) -> Double {
            let e = GradientCheckTests.epsilon
            perturb(e)
            let plus = objective()
            perturb(-2 * e)
            let minus = objective()
            perturb(e)
            return (plus - minus) / (2 * Double(e))
        }
        _ = objective()
        // Past a row's length the output is zero.
        for t in 0..<T {
            for b in 0..<B where t >= Self.lengths[b] {
                #expect((0..<(2 * H)).allSatisfy { layer.output[(t * B + b) * 2 * H + $0] == 0 })
            }
        }
        parameters.zeroGradients()
        var dx = [Float](repeating: .nan, count: T * B * D)
        layer.backward(dOutput: wOut, dFinalHidden: w, dFinalCell: kind.hasCellState ? u : nil, dInput: &dx)
        let dh0 = Array(UnsafeBufferPointer(start: layer.dInitialHidden, count: S))
        let dc0 = Array(UnsafeBufferPointer(start: layer.dInitialCell, count: kind.hasCellState ? S : 0))
        let analytic = Array(UnsafeBufferPointer(start: parameters.gradients.base, count: parameters.flatCount))
        for entry in parameters.entries {
            for j in 0..<entry.count {
                let i = entry.offset + j, values = parameters.values.base
                GradientCheckTests.expectGradient(numeric { values[i] += $0 }, analytic[i],
                                                  "\(kind) \(entry.name)[\(j)]")
            }
        }
        for i in 0..<(T * B * D) {
            GradientCheckTests.expectGradient(numeric { x[i] += $0 }, dx[i], "\(kind) x[\(i)]")
        }
        for i in 0..<S {
            GradientCheckTests.expectGradient(numeric { h0[i] += $0 }, dh0[i], "\(kind) h0[\(i)]")
            if kind.hasCellState {
                GradientCheckTests.expectGradient(numeric { c0[i] += $0 }, dc0[i], "\(kind) c0[\(i)]")
            }
        }
    }

    /// Row `b` of the padded batch: its forward half is a unidirectional layer over the row, its reverse half that
    /// of the reverse parameters over the row reversed; final states likewise, bit for bit.
    @Test(arguments: CellKind.allCases)
    func eachRowEqualsUnidirectionalRuns(kind: CellKind) throws {
        let (T, B, D, H) = (Self.T, Self.B, Self.D, Self.H)
        let (parameters, layer) = try Self.make(kind, seed: 17)
        let forward = try RecurrentLayer(parameters, prefix: "encoder", index: 0, kind: kind, inputSize: D,
                                         hiddenSize: H)
        let reverse = try RecurrentLayer(parameters, prefix: "encoder", index: 0, kind: kind, inputSize: D,
                                         hiddenSize: H, reverse: true)
        var rng = RNG(seed: 8)
        let x = (0..<(T * B * D)).map { _ in rng.uniform(-1, 1) }
        let h0 = (0..<(2 * B * H)).map { _ in rng.uniform(-1, 1) }, c0 = h0.map { $0 / 2 }
        Self.lengths.withUnsafeBufferPointer {
            layer.forward(x, steps: T, batch: B, lengths: $0.baseAddress, h0: h0, c0: c0)
        }
        for b in 0..<B {
            let n = Int(Self.lengths[b])
            func slice(_ a: [Float], _ start: Int, _ count: Int) -> [Float] { Array(a[start..<(start + count)]) }
            var row = [Float](), reversedRow = [Float]()
            for t in 0..<n { row += slice(x, (t * B + b) * D, D) }
            for t in (0..<n).reversed() { reversedRow += slice(x, (t * B + b) * D, D) }
            let runs: [(RecurrentLayer, [Float])] = [(forward, row), (reverse, reversedRow)]
            for (d, (unidirectional, input)) in runs.enumerated() {
                let hb = slice(h0, (d * B + b) * H, H), cb = slice(c0, (d * B + b) * H, H)
                unidirectional.forward(input, steps: n, batch: 1, h0: hb, c0: cb)
                for t in 0..<n {
                    let source = d == 0 ? t : n - 1 - t
                    for j in 0..<H {
                        #expect(layer.output[(source * B + b) * 2 * H + d * H + j].bitPattern
                                    == unidirectional.output[t * H + j].bitPattern, "\(kind) row \(b) direction \(d)")
                    }
                }
                for j in 0..<H {
                    #expect(layer.finalHidden[(d * B + b) * H + j].bitPattern == unidirectional.finalHidden[j].bitPattern)
                    if kind.hasCellState {
                        #expect(layer.finalCell[(d * B + b) * H + j].bitPattern == unidirectional.finalCell[j].bitPattern)
                    }
                }
            }
        }
    }
}
