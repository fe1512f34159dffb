import Foundation
import Testing
@testable import QuillTensor

@Suite struct GRUCellTests {
    static let shapes: [(batch: Int, hidden: Int)] = [(1, 1), (1, 7), (3, 16), (2, 17), (1, 1003)]

    /// The cell in Double (PyTorch's formulation, blocks r, z, n): returns h'.
    static func forwardDouble(_ gx: [Double], _ gh: [Double], _ hPrev: [Double], batch: Int,
                              hidden H: Int) -> [Double] {
        var h = [Double](repeating: 0, count: batch * H)
        for b in 0..<batch {
            for j in 0..<H {
                let row = b * 3 * H
                let r = sigmoidD(gx[row + j] + gh[row + j])
                let z = sigmoidD(gx[row + H + j] + gh[row + H + j])
                let n = tanh(gx[row + 2 * H + j] + r * gh[row + 2 * H + j])
                h[b * H + j] = (1 - z) * n + z * hPrev[b * H + j]
            }
        }
        return h
    }

    @Test func gateOrderIsPyTorchs() {
        #expect(GRUCell.Gate.allCases.map(\.block) == [0, 1, 2])
    }

    @Test(arguments: 0..<shapes.count)
    func forwardAndBackwardMatchReference(shapeIndex: Int) {
        let (B, H) = Self.shapes[shapeIndex]
        let gxValues = randomFloats(B * 3 * H, seed: 1, low: -3, high: 3)
        let gh = tensor(randomFloats(B * 3 * H, seed: 2, low: -3, high: 3))
        let hPrev = tensor(randomFloats(B * H, seed: 3))
        let gx = tensor(gxValues), gxRef = tensor(gxValues)
        let h = Tensor(zeros: [B, H]), hRef = Tensor(zeros: [B, H])
        GRUCell.forward(gx: gx.base, gh: gh.base, hPrev: hPrev.base, h: h.base, batch: B, hidden: H)
        GRUCell.forwardReference(gx: gxRef.base, gh: gh.base, hPrev: hPrev.base, h: hRef.base, batch: B, hidden: H)
        // n depends on r, so approximation errors compound a little: 1e-5 like the other outputs.
        expectClose(gx.scalars, gxRef.scalars, relative: 1e-5, absolute: 1e-6, "activations")
        expectClose(h.scalars, hRef.scalars, relative: 1e-5, absolute: 1e-6, "h")

        let dH = tensor(randomFloats(B * H, seed: 4))
        let dGx = Tensor(zeros: [B, 3 * H]), dGh = Tensor(zeros: [B, 3 * H]), dHPrev = Tensor(zeros: [B, H])
        let dGxRef = Tensor(zeros: [B, 3 * H]), dGhRef = Tensor(zeros: [B, 3 * H]), dHPrevRef = Tensor(zeros: [B, H])
        GRUCell.backward(gx: gx.base, gh: gh.base, hPrev: hPrev.base, dH: dH.base, dGx: dGx.base, dGh: dGh.base,
                         dHPrev: dHPrev.base, batch: B, hidden: H)
        GRUCell.backwardReference(gx: gx.base, gh: gh.base, hPrev: hPrev.base, dH: dH.base, dGx: dGxRef.base,
                                  dGh: dGhRef.base, dHPrev: dHPrevRef.base, batch: B, hidden: H)
        expectClose(dGx.scalars, dGxRef.scalars, relative: 1e-5, absolute: 1e-6, "dGx")
        expectClose(dGh.scalars, dGhRef.scalars, relative: 1e-5, absolute: 1e-6, "dGh")
        expectClose(dHPrev.scalars, dHPrevRef.scalars, relative: 1e-5, absolute: 1e-6, "dHPrev")
    }

    @Test(arguments: [(1, 1), (2, 7), (3, 17)])
    func backwardMatchesFiniteDifferencesInDouble(batch B: Int, hidden H: Int) {
        let gxValues = randomFloats(B * 3 * H, seed: 21, low: -2, high: 2)
        let ghValues = randomFloats(B * 3 * H, seed: 22, low: -2, high: 2)
        let hValues = randomFloats(B * H, seed: 23)
        let w = randomFloats(B * H, seed: 24)
        func loss(_ gx: [Double], _ gh: [Double], _ hp: [Double]) -> Double {
            zip(Self.forwardDouble(gx, gh, hp, batch: B, hidden: H), w).reduce(0) { $0 + $1.0 * Double($1.1) }
        }
        let gx = tensor(gxValues), gh = tensor(ghValues), hPrev = tensor(hValues), h = Tensor(zeros: [B, H])
        GRUCell.forward(gx: gx.base, gh: gh.base, hPrev: hPrev.base, h: h.base, batch: B, hidden: H)
        let dGx = Tensor(zeros: [B, 3 * H]), dGh = Tensor(zeros: [B, 3 * H]), dHPrev = Tensor(zeros: [B, H])
        let dH = tensor(w)
        GRUCell.backward(gx: gx.base, gh: gh.base, hPrev: hPrev.base, dH: dH.base, dGx: dGx.base, dGh: dGh.base,
                         dHPrev: dHPrev.base, batch: B, hidden: H)
        let (x, hh, hp) = (gxValues.map(Double.init), ghValues.map(Double.init), hValues.map(Double.init))
        expectGradient(dGx.scalars, of: { loss($0, hh, hp) }, at: x, "dGx")
        expectGradient(dGh.scalars, of: { loss(x, $0, hp) }, at: hh, "dGh")
        // With gh held fixed, hPrev reaches h' only through z ⊙ hPrev: the direct path dHPrev reports.
        expectGradient(dHPrev.scalars, of: { loss(x, hh, $0) }, at: hp, "dHPrev (initial state, direct path)")
    }

    @Test func resultIsTheSameForOneAndThreeThreads() {
        let (B, H) = (64, 300)
        let gxValues = randomFloats(B * 3 * H, seed: 5, low: -3, high: 3)
        let gh = tensor(randomFloats(B * 3 * H, seed: 6)), hPrev = tensor(randomFloats(B * H, seed: 7))
        let dH = tensor(randomFloats(B * H, seed: 8))
        var outputs: [[Float]] = []
        for threads in [1, 3] {
            let pool = ThreadPool(threads: threads)
            let gx = tensor(gxValues), h = Tensor(zeros: [B, H])
            let dGx = Tensor(zeros: [B, 3 * H]), dGh = Tensor(zeros: [B, 3 * H]), dHPrev = Tensor(zeros: [B, H])
            GRUCell.forward(gx: gx.base, gh: gh.base, hPrev: hPrev.base, h: h.base, batch: B, hidden: H, pool: pool)
            GRUCell.backward(gx: gx.base, gh: gh.base, hPrev: hPrev.base, dH: dH.base, dGx: dGx.base, dGh: dGh.base,
                             dHPrev: dHPrev.base, batch: B, hidden: H, pool: pool)
            outputs.append(h.scalars + dGx.scalars + dGh.scalars + dHPrev.scalars)
        }
        expectIdentical(outputs[0], outputs[1], "1 vs 3 threads")
    }
}
