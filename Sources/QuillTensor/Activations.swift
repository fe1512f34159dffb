import CQuillKernels
import Foundation

// Element-wise activations, forward and backward, over `n` floats. Backward takes the forward *output* `y` (all
// three derivatives are functions of it) and writes — does not accumulate — `dInput`. Any input may be the same
// buffer as the output (in place). The fast paths are C (vectorized approximations of e^x and tanh with relative
// error below 1e-6, see docs/kernels.md); the references beside them use the Swift standard library.

/// tanh, forward and backward.
public enum Tanh {
    /// `y = tanh x` over `count` floats.
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                               pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: count, chunk: ChunkedLoops.elementsPerChunk, pool: pool) { r in
            quill_tanh_forward(x + r.lowerBound, y + r.lowerBound, Int64(r.count))
        }
    }

    /// `dInput = dOutput ⊙ (1 − y²)` from the forward output `y`.
    public static func backward(output y: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
                                dInput: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: count, chunk: ChunkedLoops.elementsPerChunk, pool: pool) { r in
            quill_tanh_backward(y + r.lowerBound, dOutput + r.lowerBound, dInput + r.lowerBound, Int64(r.count))
        }
    }

    /// Reference of ``forward(_:_:count:pool:)``.
    public static func forwardReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = Float(tanh(Double(x[i]))) }
    }

    /// Reference of ``backward(output:dOutput:dInput:count:pool:)``.
    public static func backwardReference(output y: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
                                         dInput: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dInput[i] = dOutput[i] * (1 - y[i] * y[i]) }
    }
}

/// The logistic sigmoid σ(x) = 1/(1+e⁻ˣ), forward and backward.
public enum Sigmoid {
    /// `y = σ(x)` over `count` floats.
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                               pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: count, chunk: ChunkedLoops.elementsPerChunk, pool: pool) { r in
            quill_sigmoid_forward(x + r.lowerBound, y + r.lowerBound, Int64(r.count))
        }
    }

    /// `dInput = dOutput ⊙ y ⊙ (1 − y)` from the forward output `y`.
    public static func backward(output y: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
                                dInput: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: count, chunk: ChunkedLoops.elementsPerChunk, pool: pool) { r in
            quill_sigmoid_backward(y + r.lowerBound, dOutput + r.lowerBound, dInput + r.lowerBound, Int64(r.count))
        }
    }

    /// Reference of ``forward(_:_:count:pool:)``.
    public static func forwardReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = Float(1 / (1 + exp(-Double(x[i])))) }
    }

    /// Reference of ``backward(output:dOutput:dInput:count:pool:)``.
    public static func backwardReference(output y: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
                                         dInput: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dInput[i] = dOutput[i] * y[i] * (1 - y[i]) }
    }
}

/// The rectifier max(x, 0), forward and backward.
public enum ReLU {
    /// `y = max(x, 0)` over `count` floats.
    public static func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int,
                               pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: count, chunk: ChunkedLoops.elementsPerChunk, pool: pool) { r in
            quill_relu_forward(x + r.lowerBound, y + r.lowerBound, Int64(r.count))
        }
    }

    /// `dInput = dOutput` where `y > 0`, else 0.
    public static func backward(output y: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
                                dInput: UnsafeMutablePointer<Float>, count: Int, pool: ThreadPool = .shared) {
        ChunkedLoops.forEach(count: count, chunk: ChunkedLoops.elementsPerChunk, pool: pool) { r in
            quill_relu_backward(y + r.lowerBound, dOutput + r.lowerBound, dInput + r.lowerBound, Int64(r.count))
        }
    }

    /// Reference of ``forward(_:_:count:pool:)``.
    public static func forwardReference(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = max(x[i], 0) }
    }

    /// Reference of ``backward(output:dOutput:dInput:count:pool:)``.
    public static func backwardReference(output y: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
                                         dInput: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { dInput[i] = y[i] > 0 ? dOutput[i] : 0 }
    }
}
