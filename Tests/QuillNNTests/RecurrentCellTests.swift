import QuillNN
import QuillTensor
import Testing

/// One cell step and one recurrent layer, each alone: finite differences against every analytic gradient (the
/// initial states' included), and the per-step API against the unroll.
@Suite struct RecurrentCellTests {
    /// The step's inputs, filled from a seed: the input projection `gx` `[B][G]`, `hPrev`, `cPrev` `[B][H]`, `Wₕₕ`
    /// `[G][H]`, `bₕₕ` `[G]`, and the weights `w`, `u` `[B][H]` of the objective `⟨w, h⟩ + ⟨u, c⟩`.
    struct StepCase {
        let kind: CellKind, B = 2, H = 3
        var gx: [Float], hPrev: [Float], cPrev: [Float], whh: [Float], bhh: [Float]
        let w: [Float], u: [Float]

        init(kind: CellKind, seed: UInt64) {
            self.kind = kind
            var rng = RNG(seed: seed)
            let G = kind.gates * H
            func draw(_ n: Int, _ scale: Float) -> [Float] { (0..<n).map { _ in rng.uniform(-scale, scale) } }
            gx = draw(B * G, 1)
            hPrev = draw(B * H, 0.8)
            cPrev = draw(B * H, 0.8)
            whh = draw(G * H, 0.7)
            bhh = draw(G, 0.5)
            w = draw(B * H, 1)
            u = draw(B * H, 1)
        }

        /// Runs one forward step (float32 GEMMs as the training engine) and returns `(gates, hiddenGates, h, c)`.
        func forward() -> (gates: [Float], hiddenGates: [Float], h: [Float], c: [Float]) {
            let cell = kind.cell, G = kind.gates * H, B = self.B, H = self.H
            var gates = gx, hiddenGates = [Float](repeating: 0, count: B * G)
            var h = [Float](repeating: 0, count: B * H), c = h
            let bias = cell.hiddenBias(bhh.withUnsafeBufferPointer { $0.baseAddress! })
            whh.withUnsafeBufferPointer { whh in
                hPrev.withUnsafeBufferPointer { hPrev in
                    cPrev.withUnsafeBufferPointer { cPrev in
                        bhh.withUnsafeBufferPointer { bhh in
                            let step = CellForward(gates: &gates, hiddenGates: &hiddenGates,
                                                   hiddenBias: bias == nil ? nil : bhh.baseAddress!,
                                                   hPrev: hPrev.baseAddress!, h: &h, cPrev: cPrev.baseAddress!, c: &c,
                                                   batch: B, hidden: H)
                            cell.forward(step, multiply: { x, out, bias, accumulate in
                                gemm(transposeB: true, m: B, n: G, k: H, a: x, lda: H, b: whh.baseAddress!, ldb: H,
                                     beta: accumulate ? 1 : 0, c: out, ldc: G, bias: bias)
                            }, pool: .shared)
                        }
                    }
                }
            }
            return (gates, hiddenGates, h, c)
        }

        func objective() -> Double {
            let (_, _, h, c) = forward()
            var f = zip(h, w).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            if kind.hasCellState { f += zip(c, u).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }
            return f
        }
    }

    @Test(arguments: CellKind.allCases)
    func cellStepGradients(kind: CellKind) throws {
        var s = StepCase(kind: kind, seed: 11)
        let cell = kind.cell, B = s.B, H = s.H, G = kind.gates * H
        var (gates, hiddenGates, h, c) = s.forward()
        var dGates = [Float](repeating: .nan, count: B * G), dHiddenGates = dGates
        var dHPrev = [Float](repeating: .nan, count: B * H), dCPrev = dHPrev
        let hPrev = s.hPrev, cPrev = s.cPrev, w = s.w, u = s.u
        // The hidden projection's gradient, for `dWₕₕ = dProjᵀ·hPrev` and `dbₕₕ = Σ dProj`.
        var dProjection = [Float]()
        s.whh.withUnsafeBufferPointer { whh in
            hPrev.withUnsafeBufferPointer { hPrev in
                cPrev.withUnsafeBufferPointer { cPrev in
                    let step = CellForward(gates: &gates, hiddenGates: &hiddenGates, hiddenBias: nil,
                                           hPrev: hPrev.baseAddress!, h: &h, cPrev: cPrev.baseAddress!, c: &c,
                                           batch: B, hidden: H)
                    let back = CellBackward(forward: step, dH: w, dC: kind.hasCellState ? u : nil, dGates: &dGates,
                                            dHiddenGates: &dHiddenGates, dHPrev: &dHPrev, dCPrev: &dCPrev)
                    cell.backward(back, multiply: { dg, dh, accumulate in
                        gemm(m: B, n: H, k: G, a: dg, lda: G, b: whh.baseAddress!, ldb: H, beta: accumulate ? 1 : 0,
                             c: dh, ldc: H)
                    }, pool: .shared)
                    dProjection = Array(UnsafeBufferPointer(start: cell.dHiddenProjection(back), count: B * G))
                }
            }
        }
        func numeric(_ perturb: (inout StepCase, Float) -> Void) -> Double {
            let e = GradientCheckTests.epsilon
            perturb(&s, e)
            let plus = s.objective()
            perturb(&s, -2 * e)
            let minus = s.objective()
            perturb(&s, e)
            return (plus - minus) / (2 * Double(e))
        }
        for i in 0..<(B * G) {
            GradientCheckTests.expectGradient(numeric { $0.gx[i] += $1 }, dGates[i], "\(kind) gx[\(i)]")
        }
        for i in 0..<(B * H) {
            GradientCheckTests.expectGradient(numeric { $0.hPrev[i] += $1 }, dHPrev[i], "\(kind) hPrev[\(i)]")
            if kind.hasCellState {
                GradientCheckTests.expectGradient(numeric { $0.cPrev[i] += $1 }, dCPrev[i], "\(kind) cPrev[\(i)]")
            }
        }
        for r in 0..<G {
            for k in 0..<H {
                let analytic = (0..<B).reduce(Float(0)) { $0 + dProjection[$1 * G + r] * hPrev[$1 * H + k] }
                GradientCheckTests.expectGradient(numeric { $0.whh[r * H + k] += $1 }, analytic, "\(kind) Whh[\(r)][\(k)]")
            }
            // bₕₕ enters with the hidden projection for every kind: apart (GRU), or folded into the input
            // projection, where its gradient is that of `gx`.
            let analytic = (0..<B).reduce(Float(0)) { $0 + dProjection[$1 * G + r] }
            let fd = cell.addsHiddenIntoGates ? numeric { s, e in for b in 0..<B { s.gx[b * G + r] += e } }
                : numeric { $0.bhh[r] += $1 }
            GradientCheckTests.expectGradient(fd, analytic, "\(kind) bhh[\(r)]")
        }
    }

    /// A layer with random parameters and the objective `⟨wOut, h₁…h_T⟩ + ⟨w, h_T⟩ + ⟨u, c_T⟩`.
    static func layer(_ kind: CellKind, D: Int = 3, H: Int = 2, seed: UInt64 = 5) throws
        -> (ParameterSet, RecurrentLayer) {
        let parameters = try ParameterSet(RecurrentLayer.layout(prefix: "rnn", index: 0, kind: kind, inputSize: D,
                                                                hiddenSize: H))
        var rng = RNG(seed: seed)
        for i in 0..<parameters.flatCount { parameters.values.base[i] = rng.uniform(-0.7, 0.7) }
        let layer = try RecurrentLayer(parameters, prefix: "rnn", index: 0, kind: kind, inputSize: D, hiddenSize: H)
        return (parameters, layer)
    }

    @Test(arguments: CellKind.allCases)
    func layerGradients(kind: CellKind) throws {
        let (T, B, D, H) = (3, 2, 3, 2)
        let (parameters, layer) = try Self.layer(kind, D: D, H: H)
        var rng = RNG(seed: 9)
        func draw(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform(-0.8, 0.8) } }
        var x = draw(T * B * D), h0 = draw(B * H), c0 = draw(B * H)
        let wOut = draw(T * B * H), w = draw(B * H), u = draw(B * H)
        func objective() -> Double {
            layer.forward(x, steps: T, batch: B, h0: h0, c0: c0)
            var f = 0.0
            for i in 0..<(T * B * H) { f += Double(layer.output[i]) * Double(wOut[i]) }
            for i in 0..<(B * H) {
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
        parameters.zeroGradients()
        var dx = [Float](repeating: .nan, count: T * B * D)
        layer.backward(dOutput: wOut, dFinalHidden: w, dFinalCell: kind.hasCellState ? u : nil, dInput: &dx)
        let dh0 = Array(UnsafeBufferPointer(start: layer.dInitialHidden, count: B * H))
        let dc0 = Array(UnsafeBufferPointer(start: layer.dInitialCell, count: B * H))
        let analytic = Array(UnsafeBufferPointer(start: parameters.gradients.base, count: parameters.flatCount))
        for entry in parameters.entries {
            for j in 0..<entry.count {
                let i = entry.offset + j, values = parameters.values.base
                GradientCheckTests.expectGradient(numeric { values[i] += $0 }, analytic[i], "\(kind) \(entry.name)[\(j)]")
            }
        }
        for i in 0..<(T * B * D) { GradientCheckTests.expectGradient(numeric { x[i] += $0 }, dx[i], "\(kind) x[\(i)]") }
        for i in 0..<(B * H) {
            GradientCheckTests.expectGradient(numeric { h0[i] += $0 }, dh0[i], "\(kind) h0[\(i)]")
            if kind.hasCellState {
                GradientCheckTests.expectGradient(numeric { c0[i] += $0 }, dc0[i], "\(kind) c0[\(i)]")
            }
        }
    }

    /// Stepping a layer one step at a time gives the unroll's outputs, final states and gradients, bit for bit.
    @Test(arguments: CellKind.allCases)
    func perStepEqualsUnroll(kind: CellKind) throws {
        let (T, B, D, H) = (5, 3, 4, 6)
        let (parameters, layer) = try Self.layer(kind, D: D, H: H, seed: 21)
        var rng = RNG(seed: 4)
        func draw(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform(-1, 1) } }
        let x = draw(T * B * D), h0 = draw(B * H), c0 = draw(B * H), dOut = draw(T * B * H), dh = draw(B * H)
        let dc = draw(B * H)
        func bits(_ p: UnsafePointer<Float>, _ n: Int) -> [UInt32] { (0..<n).map { p[$0].bitPattern } }

        layer.forward(x, steps: T, batch: B, h0: h0, c0: c0)
        let output = bits(layer.output, T * B * H), finalH = bits(layer.finalHidden, B * H)
        let finalC = kind.hasCellState ? bits(layer.finalCell, B * H) : []
        parameters.zeroGradients()
        var dx = [Float](repeating: 0, count: T * B * D)
        layer.backward(dOutput: dOut, dFinalHidden: dh, dFinalCell: dc, dInput: &dx)
        let gradients = bits(parameters.gradients.base, parameters.flatCount)
        let dh0 = bits(layer.dInitialHidden, B * H)
        let dc0 = kind.hasCellState ? bits(layer.dInitialCell, B * H) : []

        layer.beginSteps(capacity: T + 2, batch: B, h0: h0, c0: c0)
        var stepped = [UInt32]()
        for t in 0..<T {
            x.withUnsafeBufferPointer { stepped += bits(layer.step($0.baseAddress! + t * B * D), B * H) }
        }
        #expect(layer.stepCount == T)
        #expect(stepped == output)
        #expect(bits(layer.output, T * B * H) == output)
        #expect(bits(layer.finalHidden, B * H) == finalH)
        if kind.hasCellState { #expect(bits(layer.finalCell, B * H) == finalC) }
        parameters.zeroGradients()
        var dxStep = [Float](repeating: 0, count: T * B * D)
        layer.beginBackwardSteps(dFinalHidden: dh, dFinalCell: dc)
        for t in stride(from: T - 1, through: 0, by: -1) {
            dOut.withUnsafeBufferPointer { dOut in
                dxStep.withUnsafeMutableBufferPointer {
                    layer.backwardStep(dOutput: dOut.baseAddress! + t * B * H, dInput: $0.baseAddress! + t * B * D)
                }
            }
        }
        #expect(bits(parameters.gradients.base, parameters.flatCount) == gradients)
        #expect(dxStep.map(\.bitPattern) == dx.map(\.bitPattern))
        #expect(bits(layer.dInitialHidden, B * H) == dh0)
        if kind.hasCellState { #expect(bits(layer.dInitialCell, B * H) == dc0) }
    }

    /// A two-layer stack stepped one step at a time equals its unroll, bit for bit.
    @Test(arguments: CellKind.allCases)
    func stackPerStepEqualsUnroll(kind: CellKind) throws {
        let (T, B, D, H, L) = (4, 2, 3, 5, 2)
        let parameters = try ParameterSet(RecurrentStack.layout(prefix: "rnn", kind: kind, inputSize: D, hiddenSize: H,
                                                                count: L))
        var rng = RNG(seed: 31)
        for i in 0..<parameters.flatCount { parameters.values.base[i] = rng.uniform(-0.6, 0.6) }
        let stack = try RecurrentStack(parameters, prefix: "rnn", kind: kind, inputSize: D, hiddenSize: H, count: L)
        func draw(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform(-1, 1) } }
        let x = draw(T * B * D), h0 = draw(L * B * H), c0 = draw(L * B * H), dOut = draw(T * B * H)
        let dh = draw(L * B * H), dc = draw(L * B * H)
        func bits(_ p: UnsafePointer<Float>, _ n: Int) -> [UInt32] { (0..<n).map { p[$0].bitPattern } }
        let S = L * B * H, cells = kind.hasCellState ? S : 0

        stack.forward(x, steps: T, batch: B, h0: h0, c0: c0)
        let output = bits(stack.output, T * B * H), finalH = bits(stack.finalHidden, S)
        let finalC = bits(stack.finalCell, cells)
        parameters.zeroGradients()
        var dx = [Float](repeating: 0, count: T * B * D)
        stack.backward(dOutput: dOut, dFinalHidden: dh, dFinalCell: dc, dInput: &dx)
        let gradients = bits(parameters.gradients.base, parameters.flatCount)
        let dh0 = bits(stack.dInitialHidden, S), dc0 = bits(stack.dInitialCell, cells)

        stack.beginSteps(capacity: T, batch: B, h0: h0, c0: c0)
        var stepped = [UInt32]()
        for t in 0..<T { x.withUnsafeBufferPointer { stepped += bits(stack.step($0.baseAddress! + t * B * D), B * H) } }
        #expect(stepped == output)
        #expect(bits(stack.finalHidden, S) == finalH)
        #expect(bits(stack.finalCell, cells) == finalC)
        parameters.zeroGradients()
        var dxStep = [Float](repeating: 0, count: T * B * D)
        stack.beginBackwardSteps(dFinalHidden: dh, dFinalCell: dc)
        for t in stride(from: T - 1, through: 0, by: -1) {
            dOut.withUnsafeBufferPointer { dOut in
                dxStep.withUnsafeMutableBufferPointer {
                    stack.backwardStep(dOutput: dOut.baseAddress! + t * B * H, dInput: $0.baseAddress! + t * B * D)
                }
            }
        }
        #expect(bits(parameters.gradients.base, parameters.flatCount) == gradients)
        #expect(dxStep.map(\.bitPattern) == dx.map(\.bitPattern))
        #expect(bits(stack.dInitialHidden, S) == dh0)
        #expect(bits(stack.dInitialCell, cells) == dc0)
    }
}
