import CQuillKernels
import Foundation

/// An update rule over a ``ParameterSet``'s flat buffers, whose whole state is its step count and a few named
/// buffers laid out as the parameters (so saving and restoring it needs no knowledge of the rule).
///
/// ``update(_:pool:)`` reads `parameters.gradients` (never modifies them) and writes `parameters.values`.
public protocol Optimizer: AnyObject {
    /// The rate of the next ``update(_:pool:)`` (a schedule sets it per epoch).
    var learningRate: Float { get set }
    /// Updates taken; part of the state (Adam's bias correction, SGD's first momentum step read it).
    var step: Int { get set }
    /// The state besides ``step``: buffers of the parameters' flat layout, by a short stable name (`m`, `v`,
    /// `momentum`); empty for a rule without state. A checkpoint saves them as `optimizer.<name>`.
    var stateBuffers: [(name: String, buffer: AlignedBuffer)] { get }
    /// One update of `parameters.values` from `parameters.gradients`.
    func update(_ parameters: ParameterSet, pool: ThreadPool)
}

/// The update rules by name: the one spelling of an optimizer in options, presets, stored configurations and the CLI.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    /// Stochastic gradient descent; with momentum when it is not 0, Nesterov's when asked (PyTorch's `SGD`).
    case sgd
    /// Adam with bias correction (PyTorch's defaults); weight decay is added to the gradient (L2).
    case adam
    /// Adam with decoupled weight decay (Loshchilov & Hutter 2019, PyTorch's `AdamW`).
    case adamw

    /// The weight decay PyTorch uses when none is given: 0.01 for AdamW, 0 otherwise.
    public var defaultWeightDecay: Float { self == .adamw ? 0.01 : 0 }

    /// An optimizer of this kind for `parameters`; `momentum` and `nesterov` apply to SGD only.
    public func make(for parameters: ParameterSet, learningRate: Float, momentum: Float = 0, nesterov: Bool = false,
                     weightDecay: Float? = nil) -> any Optimizer {
        let decay = weightDecay ?? defaultWeightDecay
        return switch self {
        case .sgd: SGD(for: parameters, learningRate: learningRate, momentum: momentum, weightDecay: decay,
                       nesterov: nesterov)
        case .adam: Adam(for: parameters, learningRate: learningRate, weightDecay: decay)
        case .adamw: Adam.adamW(for: parameters, learningRate: learningRate, weightDecay: decay)
        }
    }
}

/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, as `torch.optim.SGD`.
///
/// One loop over the flat buffers of a ``ParameterSet``: `g += wd·p`; with momentum `μ`, `buf = g` on the first
/// step and `buf = μ·buf + (1 − dampening)·g` after, then `g = g + μ·buf` (Nesterov) or `g = buf`; `p −= lr·g`.
/// The gradients are not modified.
public final class SGD: Optimizer, @unchecked Sendable {
    public var learningRate: Float
    public let momentum: Float
    public let dampening: Float
    public let weightDecay: Float
    public let nesterov: Bool
    /// The momentum buffer (same layout as the parameters); empty without momentum.
    public let momentumBuffer: AlignedBuffer
    /// The number of steps taken (state for a checkpoint; the first step initialises the momentum buffer).
    public var step: Int = 0

    /// An optimizer for `parameters`; defaults as PyTorch's (no momentum, no dampening, no decay).
    public init(for parameters: ParameterSet, learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs momentum and no dampening")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        momentumBuffer = AlignedBuffer(count: momentum != 0 ? parameters.flatCount : 0)
    }

    /// `momentum` when there is momentum.
    public var stateBuffers: [(name: String, buffer: AlignedBuffer)] {
        momentum != 0 ? [("momentum", momentumBuffer)] : []
    }

    /// One update of `parameters.values` from `parameters.gradients`.
    public func update(_ parameters: ParameterSet, pool: ThreadPool = .shared) {
        let p = parameters.values.base, g = parameters.gradients.base
        let buffer: UnsafeMutablePointer<Float>? = momentum != 0 ? momentumBuffer.base : nil
        precondition(buffer == nil || momentumBuffer.count == parameters.flatCount, "optimizer made for another set")
        let first: Int32 = step == 0 ? 1 : 0
        let (lr, mu, damp, wd, nest) = (learningRate, momentum, dampening, weightDecay, Int32(nesterov ? 1 : 0))
        ChunkedLoops.forEach(count: parameters.flatCount, chunk: ChunkedLoops.elementsPerChunk, pool: pool) { r in
            quill_sgd_step(p + r.lowerBound, g + r.lowerBound, buffer.map { $0 + r.lowerBound }, Int64(r.count),
                           lr, mu, damp, wd, nest, first)
        }
        step += 1
    }
}

/// Adam (Kingma & Ba 2015) and AdamW (decoupled weight decay: Loshchilov & Hutter 2019), as `torch.optim.Adam` /
/// `torch.optim.AdamW` with their defaults: β1 0.9, β2 0.999, ε 1e-8; weight decay 0 for Adam, 0.01 for AdamW.
///
/// Per element, at step `t` (counted from 1): `decoupled ? p *= 1 − lr·wd : g += wd·p`;
/// `m = m + (1−β1)(g − m)`; `v = β2·v + (1−β2)·g²`; `p −= lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + ε)`.
public final class Adam: Optimizer, @unchecked Sendable {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let weightDecay: Float
    /// AdamW when true: the decay multiplies the parameters instead of adding to the gradient.
    public let decoupledWeightDecay: Bool
    /// First moments (same layout as the parameters).
    public let m: AlignedBuffer
    /// Second moments (same layout as the parameters).
    public let v: AlignedBuffer
    /// The number of steps taken (state for a checkpoint, with ``m`` and ``v``).
    public var step: Int = 0

    /// Adam (or AdamW with `decoupledWeightDecay`) for `parameters`.
    public init(for parameters: ParameterSet, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        m = AlignedBuffer(count: parameters.flatCount)
        v = AlignedBuffer(count: parameters.flatCount)
    }

    /// AdamW with PyTorch's defaults (weight decay 0.01).
    public static func adamW(for parameters: ParameterSet, learningRate: Float = 1e-3, beta1: Float = 0.9,
                             beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.01) -> Adam {
        Adam(for: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
             weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    /// The moments `m` and `v`.
    public var stateBuffers: [(name: String, buffer: AlignedBuffer)] { [("m", m), ("v", v)] }

    /// One update of `parameters.values` from `parameters.gradients` (which are not modified).
    public func update(_ parameters: ParameterSet, pool: ThreadPool = .shared) {
        precondition(m.count == parameters.flatCount, "optimizer made for another parameter set")
        step += 1
        let t = Double(step)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let bc2Sqrt = Float((1 - pow(Double(beta2), t)).squareRoot())
        let p = parameters.values.base, g = parameters.gradients.base, mb = m.base, vb = v.base
        let (lr, b1, b2, eps, wd) = (learningRate, beta1, beta2, epsilon, weightDecay)
        let decoupled: Int32 = decoupledWeightDecay ? 1 : 0
        ChunkedLoops.forEach(count: parameters.flatCount, chunk: ChunkedLoops.elementsPerChunk, pool: pool) { r in
            let o = r.lowerBound
            quill_adam_step(p + o, g + o, mb + o, vb + o, Int64(r.count), lr, b1, b2, eps, wd, decoupled, stepSize,
                            bc2Sqrt)
        }
    }

    /// Reference of one step over `n` floats, in `Double`, for tests: returns the new (p, m, v).
    public static func referenceStep(p: [Float], g: [Float], m: [Float], v: [Float], step t: Int,
                                     learningRate lr: Double, beta1: Double = 0.9, beta2: Double = 0.999,
                                     epsilon: Double = 1e-8, weightDecay wd: Double = 0, decoupled: Bool = false)
        -> (p: [Float], m: [Float], v: [Float]) {
        var (np, nm, nv) = (p, m, v)
        for i in p.indices {
            var pi = Double(p[i]), gi = Double(g[i])
            if decoupled { pi *= 1 - lr * wd } else { gi += wd * Double(p[i]) }
            let mi = beta1 * Double(m[i]) + (1 - beta1) * gi
            let vi = beta2 * Double(v[i]) + (1 - beta2) * gi * gi
            let mHat = mi / (1 - pow(beta1, Double(t))), vHat = vi / (1 - pow(beta2, Double(t)))
            pi -= lr * mHat / (vHat.squareRoot() + epsilon)
            (np[i], nm[i], nv[i]) = (Float(pi), Float(mi), Float(vi))
        }
        return (np, nm, nv)
    }
}
