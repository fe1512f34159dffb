import CQuillKernels
import Foundation
import Testing
@testable import QuillTensor

/// Every SIMD compilation of the element-wise kernels this CPU can run (portable, AVX2+FMA, AVX-512 on x86-64)
/// against the references — the default paths only exercise the best one.
@Suite struct SIMDPathTests {
    static var paths: [Int32] {
        #if arch(x86_64)
        return Array(0...max(0, min(2, quill_cpu_path())))
        #else
        return [quill_cpu_path()]
        #endif
    }

    @Test(arguments: paths)
    func activationsOnEveryPath(path: Int32) {
        for n in awkwardSizes {
            let x = tensor(ActivationTests.inputs(n, spread: 10, seed: UInt64(n)))
            let y = Tensor(zeros: [n]), r = Tensor(zeros: [n])
            quill_tanh_forward_on_path(path, x.base, y.base, Int64(n))
            Tanh.forwardReference(x.base, r.base, count: n)
            expectClose(y.scalars, r.scalars, relative: 1e-6, absolute: 1e-37, "tanh path \(path) n \(n)")
            quill_sigmoid_forward_on_path(path, x.base, y.base, Int64(n))
            Sigmoid.forwardReference(x.base, r.base, count: n)
            expectClose(y.scalars, r.scalars, relative: 1e-6, absolute: 1e-37, "sigmoid path \(path) n \(n)")
            quill_exp_forward_on_path(path, x.base, y.base, Int64(n))
            let inRange = x.scalars.indices.filter { abs(x.scalars[$0]) <= 87 }   // the documented range
            expectClose(inRange.map { y.scalars[$0] }, inRange.map { Float(exp(Double(x.scalars[$0]))) },
                        relative: 2e-7, "exp path \(path)")
        }
    }

    @Test(arguments: paths)
    func recurrentCellsOnEveryPath(path: Int32) {
        for (B, H) in [(1, 1), (2, 17), (3, 40)] {
            let pre = randomFloats(B * 4 * H, seed: 1, low: -4, high: 4)
            let cPrev = tensor(randomFloats(B * H, seed: 2)), dH = tensor(randomFloats(B * H, seed: 3))
            let dC = tensor(randomFloats(B * H, seed: 4))
            let g = tensor(pre), gRef = tensor(pre)
            let c = Tensor(zeros: [B, H]), h = Tensor(zeros: [B, H]), cRef = Tensor(zeros: [B, H])
            let hRef = Tensor(zeros: [B, H])
            quill_lstm_forward_on_path(path, g.base, cPrev.base, c.base, h.base, Int64(B), Int64(H))
            LSTMCell.forwardReference(gates: gRef.base, cPrev: cPrev.base, c: cRef.base, h: hRef.base, batch: B,
                                      hidden: H)
            expectClose(h.scalars, hRef.scalars, relative: 1e-5, absolute: 1e-6, "LSTM h path \(path)")
            let dG = Tensor(zeros: [B, 4 * H]), dCP = Tensor(zeros: [B, H])
            let dGRef = Tensor(zeros: [B, 4 * H]), dCPRef = Tensor(zeros: [B, H])
            quill_lstm_backward_on_path(path, g.base, cPrev.base, c.base, dH.base, dC.base, dG.base, dCP.base,
                                        Int64(B), Int64(H))
            LSTMCell.backwardReference(gates: g.base, cPrev: cPrev.base, c: c.base, dH: dH.base, dC: dC.base,
                                       dGates: dGRef.base, dCPrev: dCPRef.base, batch: B, hidden: H)
            expectClose(dG.scalars, dGRef.scalars, relative: 1e-5, absolute: 1e-6, "LSTM dGates path \(path)")
            expectClose(dCP.scalars, dCPRef.scalars, relative: 1e-5, absolute: 1e-6, "LSTM dCPrev path \(path)")

            let gxValues = randomFloats(B * 3 * H, seed: 5, low: -3, high: 3)
            let gh = tensor(randomFloats(B * 3 * H, seed: 6, low: -3, high: 3))
            let gx = tensor(gxValues), gxRef = tensor(gxValues)
            quill_gru_forward_on_path(path, gx.base, gh.base, cPrev.base, h.base, Int64(B), Int64(H))
            GRUCell.forwardReference(gx: gxRef.base, gh: gh.base, hPrev: cPrev.base, h: hRef.base, batch: B,
                                     hidden: H)
            expectClose(h.scalars, hRef.scalars, relative: 1e-5, absolute: 1e-6, "GRU h path \(path)")
            let dGx = Tensor(zeros: [B, 3 * H]), dGh = Tensor(zeros: [B, 3 * H])
            let dGxRef = Tensor(zeros: [B, 3 * H]), dGhRef = Tensor(zeros: [B, 3 * H])
            quill_gru_backward_on_path(path, gx.base, gh.base, cPrev.base, dH.base, dGx.base, dGh.base, dCP.base,
                                       Int64(B), Int64(H))
            GRUCell.backwardReference(gx: gx.base, gh: gh.base, hPrev: cPrev.base, dH: dH.base, dGx: dGxRef.base,
                                      dGh: dGhRef.base, dHPrev: dCPRef.base, batch: B, hidden: H)
            expectClose(dGx.scalars, dGxRef.scalars, relative: 1e-5, absolute: 1e-6, "GRU dGx path \(path)")
            expectClose(dGh.scalars, dGhRef.scalars, relative: 1e-5, absolute: 1e-6, "GRU dGh path \(path)")
        }
    }

    @Test(arguments: paths)
    func lossNormAndAdamOnEveryPath(path: Int32) {
        let (N, V) = (5, 1003)
        let logits = tensor(randomFloats(N * V, seed: 7, low: -6, high: 6))
        let targets: [Int32] = [0, 1002, -1, 17, 500]
        let d = Tensor(zeros: [N, V]), dRef = Tensor(zeros: [N, V])
        let sum = quill_softmax_cross_entropy_on_path(path, logits.base, targets, -1, 0.25, d.base, Int64(N),
                                                      Int64(V))
        let expected = SoftmaxCrossEntropy.reference(logits: logits.base, targets: targets, rows: N, vocabulary: V,
                                                     dLogits: dRef.base)
        #expect(abs(sum / 4 - expected.loss) < 1e-5 * expected.loss)
        expectClose(d.scalars, dRef.scalars, relative: 1e-5, absolute: 1e-8, "dLogits path \(path)")

        let g = tensor(randomFloats(1003, seed: 8))
        let norm = quill_sum_squares_on_path(path, g.base, 1003).squareRoot()
        #expect(abs(Float(norm) - GradientClipping.globalNormReference(UnsafeBufferPointer(g.buffer))) < 1e-5)

        let p0 = randomFloats(1003, seed: 9), grads = randomFloats(1003, seed: 10)
        let p = tensor(p0), m = Tensor(zeros: [1003]), v = Tensor(zeros: [1003]), gt = tensor(grads)
        quill_adam_step_on_path(path, p.base, gt.base, m.base, v.base, 1003, 0.01, 0.9, 0.999, 1e-8, 0.1,
                                1, Float(0.01 / (1 - 0.9)), Float((1 - 0.999).squareRoot()))
        let expectedP = Adam.referenceStep(p: p0, g: grads, m: [Float](repeating: 0, count: 1003),
                                           v: [Float](repeating: 0, count: 1003), step: 1, learningRate: 0.01,
                                           weightDecay: 0.1, decoupled: true).p
        expectClose(p.scalars, expectedP, relative: 1e-5, absolute: 1e-6, "Adam path \(path)")
    }
}
