import Foundation
import Testing
@testable import QuillTensor
import CQuillKernels

@Suite struct ActivationTests {
    typealias Kernel = (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

    /// Inputs over [-spread, spread] plus values where approximations break: 0, tiny, branch points, large.
    static func inputs(_ n: Int, spread: Float, seed: UInt64) -> [Float] {
        var xs = randomFloats(n, seed: seed, low: -spread, high: spread)
        let specials: [Float] = [0, 1e-30, -1e-7, 1e-3, 0.624, 0.626, -0.625, 9, -9, 30, -30, 100, -100]
        for (i, s) in specials.enumerated() where i < n { xs[i] = s }
        return xs
    }

    func check(_ fast: Kernel, _ reference: Kernel, spread: Float, relative: Double, absolute: Double = 0,
               sourceLocation: SourceLocation = #_sourceLocation) {
        for n in awkwardSizes {
            let x = tensor(Self.inputs(n, spread: spread, seed: UInt64(n)))
            let y = Tensor(zeros: [n]), r = Tensor(zeros: [n])
            fast(x.base, y.base, n)
            reference(x.base, r.base, n)
            expectClose(y.scalars, r.scalars, relative: relative, absolute: absolute, "n = \(n)",
                        sourceLocation: sourceLocation)
            fast(x.base, x.base, n)   // in place
            expectIdentical(x.scalars, y.scalars, "in place, n = \(n)", sourceLocation: sourceLocation)
        }
    }

    @Test func expApproximationIsWithin2e7Relative() {
        let xs = stride(from: -87.0, through: 88.0, by: 0.0137).map { Float($0) } + [0, 1e-8, -1e-8]
        let x = tensor(xs), y = Tensor(zeros: [xs.count])
        quill_exp_forward(x.base, y.base, Int64(xs.count))
        let worst = zip(xs, y.scalars).map { abs(Double($1) - exp(Double($0))) / exp(Double($0)) }.max()!
        #expect(worst < 2e-7)
        let edges = tensor([-200, -87.5, 100, 1000]), out = Tensor(zeros: [4])
        quill_exp_forward(edges.base, out.base, 4)
        #expect(out.scalars[0] == 0 && out.scalars[1] == 0)
        #expect(out.scalars[2].isFinite && out.scalars[3].isFinite)
    }

    @Test func tanhMatchesReferenceWithin1e6Relative() {
        check({ Tanh.forward($0, $1, count: $2) }, { Tanh.forwardReference($0, $1, count: $2) }, spread: 6,
              relative: 1e-6, absolute: 1e-37)
    }

    @Test func sigmoidMatchesReferenceWithin1e6Relative() {
        check({ Sigmoid.forward($0, $1, count: $2) }, { Sigmoid.forwardReference($0, $1, count: $2) }, spread: 20,
              relative: 1e-6, absolute: 1e-37)
    }

    @Test func reluMatchesReferenceExactly() {
        check({ ReLU.forward($0, $1, count: $2) }, { ReLU.forwardReference($0, $1, count: $2) }, spread: 3,
              relative: 0)
    }

    @Test(arguments: ["tanh", "sigmoid", "relu"])
    func backwardMatchesReferenceAndFiniteDifferences(_ name: String) {
        for n in awkwardSizes {
            let xs = randomFloats(n, seed: 99 + UInt64(n), low: -3, high: 3).map { abs($0) < 1e-2 ? 0.5 : $0 }
            let dys = randomFloats(n, seed: 7 + UInt64(n))
            let x = tensor(xs), y = Tensor(zeros: [n]), dy = tensor(dys)
            let dx = Tensor(zeros: [n]), dxRef = Tensor(zeros: [n])
            let f: (Double) -> Double
            switch name {
            case "tanh":
                Tanh.forward(x.base, y.base, count: n)
                Tanh.backward(output: y.base, dOutput: dy.base, dInput: dx.base, count: n)
                Tanh.backwardReference(output: y.base, dOutput: dy.base, dInput: dxRef.base, count: n)
                f = { Foundation.tanh($0) }
            case "sigmoid":
                Sigmoid.forward(x.base, y.base, count: n)
                Sigmoid.backward(output: y.base, dOutput: dy.base, dInput: dx.base, count: n)
                Sigmoid.backwardReference(output: y.base, dOutput: dy.base, dInput: dxRef.base, count: n)
                f = sigmoidD
            default:
                ReLU.forward(x.base, y.base, count: n)
                ReLU.backward(output: y.base, dOutput: dy.base, dInput: dx.base, count: n)
                ReLU.backwardReference(output: y.base, dOutput: dy.base, dInput: dxRef.base, count: n)
                f = { max($0, 0) }
            }
            expectClose(dx.scalars, dxRef.scalars, relative: 1e-6, absolute: 1e-7, "\(name) vs reference")
            // L = Σ dy ⊙ f(x): ∂L/∂x = dx.
            expectGradient(dx.scalars, of: { x in zip(x, dys).reduce(0) { $0 + Double($1.1) * f($1.0) } },
                           at: xs.map(Double.init), "\(name) n = \(n)")
        }
    }
}
