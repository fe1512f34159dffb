import Foundation
import Testing
@testable import QuillTensor

@Suite struct LSTMCellTests {
    static let shapes: [(batch: Int, hidden: Int)] = [(1, 1), (1, 7), (3, 16), (2, 17), (1, 1003), (5, 33)]

    /// The cell in Double, from pre-activations `[B][4H]` (order i, f, g, o) and cPrev: returns (c, h).
    static func forwardDouble(_ a: [Double], _ cPrev: [Double], batch: Int, hidden H: Int) -> ([Double], [Double]) {
        var c = [Double](repeating: 0, count: batch * H), h = c
        for b in 0..<batch {
            for j in 0..<H {
                let row = b * 4 * H
                let i = sigmoidD(a[row + j]), f = sigmoidD(a[row + H + j])
                let g = tanh(a[row + 2 * H + j]), o = sigmoidD(a[row + 3 * H + j])
                c[b * H + j] = f * cPrev[b * H + j] + i * g
                h[b * H + j] = o * tanh(c[b * H + j])
            }
        }
        return (c, h)
    }

    @Test func gateOrderIsPyTorchs() {
        #expect(LSTMCell.Gate.allCases.map(\.block) == [0, 1, 2, 3])
    }

    @Test(arguments: 0..<shapes.count)
    func forwardAndBackwardMatchReference(shapeIndex: Int) {
        let (B, H) = Self.shapes[shapeIndex]
        let pre = randomFloats(B * 4 * H, seed: 1, low: -4, high: 4)
        let cPrev = tensor(randomFloats(B * H, seed: 2, low: -2, high: 2))
        let gates = tensor(pre), gatesRef = tensor(pre)
        let c = Tensor(zeros: [B, H]), h = Tensor(zeros: [B, H]), cRef = Tensor(zeros: [B, H])
        let hRef = Tensor(zeros: [B, H])
        LSTMCell.forward(gates: gates.base, cPrev: cPrev.base, c: c.base, h: h.base, batch: B, hidden: H)
        LSTMCell.forwardReference(gates: gatesRef.base, cPrev: cPrev.base, c: cRef.base, h: hRef.base, batch: B,
                                  hidden: H)
        expectClose(gates.scalars, gatesRef.scalars, relative: 2e-6, absolute: 1e-7, "activations")
        expectClose(c.scalars, cRef.scalars, relative: 1e-5, absolute: 1e-6, "c")
        expectClose(h.scalars, hRef.scalars, relative: 1e-5, absolute: 1e-6, "h")

        let dH = tensor(randomFloats(B * H, seed: 3)), dC = tensor(randomFloats(B * H, seed: 4))
        for withDC in [true, false] {
            let dGates = Tensor(zeros: [B, 4 * H]), dCPrev = Tensor(zeros: [B, H])
            let dGatesRef = Tensor(zeros: [B, 4 * H]), dCPrevRef = Tensor(zeros: [B, H])
            LSTMCell.backward(gates: gates.base, cPrev: cPrev.base, c: c.base, dH: dH.base,
                              dC: withDC ? UnsafePointer(dC.base) : nil, dGates: dGates.base, dCPrev: dCPrev.base,
                              batch: B, hidden: H)
            LSTMCell.backwardReference(gates: gates.base, cPrev: cPrev.base, c: c.base, dH: dH.base,
                                       dC: withDC ? UnsafePointer(dC.base) : nil, dGates: dGatesRef.base,
                                       dCPrev: dCPrevRef.base, batch: B, hidden: H)
            expectClose(dGates.scalars, dGatesRef.scalars, relative: 1e-5, absolute: 1e-6, "dGates")
            expectClose(dCPrev.scalars, dCPrevRef.scalars, relative: 1e-5, absolute: 1e-6, "dCPrev")
        }
    }

    @Test(arguments: [(1, 1), (2, 7), (3, 17)])
    func backwardMatchesFiniteDifferencesInDouble(batch B: Int, hidden H: Int) {
        let pre = randomFloats(B * 4 * H, seed: 11, low: -3, high: 3)
        let cPrevValues = randomFloats(B * H, seed: 12, low: -2, high: 2)
        let wH = randomFloats(B * H, seed: 13), wC = randomFloats(B * H, seed: 14)
        // L = Σ wH ⊙ h + Σ wC ⊙ c, so dH = wH and dC (from "the next step") = wC.
        func loss(_ a: [Double], _ cp: [Double]) -> Double {
            let (c, h) = Self.forwardDouble(a, cp, batch: B, hidden: H)
            return zip(h, wH).reduce(0) { $0 + $1.0 * Double($1.1) } + zip(c, wC).reduce(0) { $0 + $1.0 * Double($1.1) }
        }
        let gates = tensor(pre), cPrev = tensor(cPrevValues)
        let c = Tensor(zeros: [B, H]), h = Tensor(zeros: [B, H])
        LSTMCell.forward(gates: gates.base, cPrev: cPrev.base, c: c.base, h: h.base, batch: B, hidden: H)
        let dGates = Tensor(zeros: [B, 4 * H]), dCPrev = Tensor(zeros: [B, H])
        let dH = tensor(wH), dC = tensor(wC)
        LSTMCell.backward(gates: gates.base, cPrev: cPrev.base, c: c.base, dH: dH.base, dC: dC.base,
                          dGates: dGates.base, dCPrev: dCPrev.base, batch: B, hidden: H)
        let a = pre.map(Double.init), cp = cPrevValues.map(Double.init)
        expectGradient(dGates.scalars, of: { loss($0, cp) }, at: a, "dGates")
        expectGradient(dCPrev.scalars, of: { loss(a, $0) }, at: cp, "dCPrev (initial state)")
    }

    @Test func resultIsTheSameForOneAndThreeThreads() {
        let (B, H) = (64, 300)   // several row chunks
        let pre = randomFloats(B * 4 * H, seed: 5, low: -4, high: 4)
        let cPrev = tensor(randomFloats(B * H, seed: 6)), dH = tensor(randomFloats(B * H, seed: 7))
        var outputs: [[Float]] = []
        for threads in [1, 3] {
            let pool = ThreadPool(threads: threads)
            let gates = tensor(pre), c = Tensor(zeros: [B, H]), h = Tensor(zeros: [B, H])
            let dGates = Tensor(zeros: [B, 4 * H]), dCPrev = Tensor(zeros: [B, H])
            LSTMCell.forward(gates: gates.base, cPrev: cPrev.base, c: c.base, h: h.base, batch: B, hidden: H,
                             pool: pool)
            LSTMCell.backward(gates: gates.base, cPrev: cPrev.base, c: c.base, dH: dH.base, dC: nil,
                              dGates: dGates.base, dCPrev: dCPrev.base, batch: B, hidden: H, pool: pool)
            outputs.append(h.scalars + c.scalars + dGates.scalars + dCPrev.scalars)
        }
        expectIdentical(outputs[0], outputs[1], "1 vs 3 threads")
    }
}
