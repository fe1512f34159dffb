import QuillTensor

// Letters: `T` steps, `B` batch, `D` input width, `H` hidden per direction. Layout: time-major `[T][B][…]`.

/// A bidirectional recurrent layer (Schuster & Paliwal 1997): one ``RecurrentLayer`` reads the sequence forward, a
/// second reads it in reverse time, and their outputs are concatenated `[T][B][2H]` (forward half first), as PyTorch's
/// `bidirectional=True`.
///
/// Parameters: the forward direction's `<prefix>.<k>.{weightIH, weightHH, biasIH, biasHH}` and the reverse one's
/// `<prefix>.<k>.reverse.{weightIH, weightHH, biasIH, biasHH}` (PyTorch's `…_l<k>` and `…_l<k>_reverse`, mapped by
/// `QuillFormats.PyTorchNames`). States are `[2][B][H]` (forward, then reverse), PyTorch's `h_n` of one layer.
///
/// Padded batches: with `lengths` (row `b` holds `lengths[b]` steps in `1...T`, the rest padding), the reverse
/// direction reads each row backwards from its own last step, outputs past a row's length are zero, the final states
/// are those after `lengths[b]` steps in each direction, and padding receives no gradient — PyTorch's packed
/// sequences. Padded steps are still computed (their results are discarded): a batch of similar lengths wastes
/// little. Stacking: a caller feeds one layer's `[T][B][2H]` output to the next (`inputSize` `2H`).
public final class BidirectionalLayer {
    public let forwardLayer: RecurrentLayer, reverseLayer: RecurrentLayer
    public let inputSize: Int, hiddenSize: Int
    private var reversedInput = Scratch(), out = Scratch(), finalH = Scratch(), finalC = Scratch()
    private var dForward = Scratch(), dReverse = Scratch(), dReversedInput = Scratch()
    private var dH0 = Scratch(), dC0 = Scratch()
    private var rowLengths = [Int32]()
    private var steps = 0, batch = 0, padded = false

    /// The parameters of both directions of layer `index` under `prefix`.
    public static func layout(prefix: String, index: Int, kind: CellKind, inputSize: Int, hiddenSize: Int)
        -> ParameterLayout {
        RecurrentLayer.layout(prefix: prefix, index: index, kind: kind, inputSize: inputSize, hiddenSize: hiddenSize)
            + RecurrentLayer.layout(prefix: prefix, index: index, kind: kind, inputSize: inputSize,
                                    hiddenSize: hiddenSize, reverse: true)
    }

    /// Binds both directions of layer `index` under `prefix` in `parameters`.
    public init(_ parameters: ParameterSet, prefix: String, index: Int, kind: CellKind, inputSize: Int,
                hiddenSize: Int) throws {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        forwardLayer = try RecurrentLayer(parameters, prefix: prefix, index: index, kind: kind, inputSize: inputSize,
                                          hiddenSize: hiddenSize)
        reverseLayer = try RecurrentLayer(parameters, prefix: prefix, index: index, kind: kind, inputSize: inputSize,
                                          hiddenSize: hiddenSize, reverse: true)
    }

    public var kind: CellKind { forwardLayer.kind }
    /// The outputs `[T][B][2H]` of the last forward.
    public var output: UnsafeMutablePointer<Float> { out.buffer.base }
    /// The final hidden states `[2][B][H]` of the last forward.
    public var finalHidden: UnsafeMutablePointer<Float> { finalH.buffer.base }
    /// The final cell states `[2][B][H]` of the last forward (LSTM only).
    public var finalCell: UnsafeMutablePointer<Float> { finalC.buffer.base }
    /// The gradient of `h0` `[2][B][H]` after backward.
    public var dInitialHidden: UnsafeMutablePointer<Float> { dH0.buffer.base }
    /// The gradient of `c0` `[2][B][H]` after backward (LSTM only).
    public var dInitialCell: UnsafeMutablePointer<Float> { dC0.buffer.base }

    /// The row of step `t` of row `b` in the reversed sequence: `len − 1 − t`, or nil past the row's length.
    @inline(__always)
    private func mirrored(_ t: Int, _ b: Int) -> Int? {
        let length = Int(rowLengths[b])
        return t < length ? length - 1 - t : nil
    }

    /// Runs both directions over `T` steps.
    /// - Parameters:
    ///   - input: `[T][B][D]`; must stay valid and unchanged until backward.
    ///   - lengths: `[B]` steps per row in `1...T`, nil for all `T`.
    ///   - h0, c0: `[2][B][H]` initial states (forward, reverse), nil for zeros (`c0`: LSTM only).
    public func forward(_ input: UnsafePointer<Float>, steps T: Int, batch B: Int,
                        lengths: UnsafePointer<Int32>? = nil, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                        pool: ThreadPool = .shared) {
        let D = inputSize, H = hiddenSize
        steps = T
        batch = B
        padded = lengths != nil
        rowLengths = (0..<B).map { b in
            let length = lengths?[b] ?? Int32(T)
            precondition(length >= 1 && Int(length) <= T, "row \(b) has length \(length), not in 1...\(T)")
            return length
        }
        let xr = reversedInput.pointer(T * B * D)
        for t in 0..<T {
            for b in 0..<B {
                let row = xr + (t * B + b) * D
                if let s = mirrored(t, b) { row.update(from: input + (s * B + b) * D, count: D) }
                else { row.update(repeating: 0, count: D) }
            }
        }
        forwardLayer.forward(input, steps: T, batch: B, h0: h0, c0: c0, pool: pool)
        reverseLayer.forward(xr, steps: T, batch: B, h0: h0.map { $0 + B * H }, c0: c0.map { $0 + B * H },
                             pool: pool)
        let y = out.pointer(T * B * 2 * H), fo = forwardLayer.output, ro = reverseLayer.output
        for t in 0..<T {
            for b in 0..<B {
                let row = y + (t * B + b) * 2 * H
                if let s = mirrored(t, b) {
                    row.update(from: fo + (t * B + b) * H, count: H)
                    (row + H).update(from: ro + (s * B + b) * H, count: H)
                } else {
                    row.update(repeating: 0, count: 2 * H)
                }
            }
        }
        let hasCell = forwardLayer.cell.hasCellState
        let fh = finalH.pointer(2 * B * H), fc = finalC.pointer(hasCell ? 2 * B * H : 0)
        for (d, layer) in [forwardLayer, reverseLayer].enumerated() {
            for b in 0..<B {
                let state = (Int(rowLengths[b]) * B + b) * H
                (fh + (d * B + b) * H).update(from: layer.hiddenStates + state, count: H)
                if hasCell { (fc + (d * B + b) * H).update(from: layer.cellStates + state, count: H) }
            }
        }
    }

    /// Backpropagates through both directions: ADDS the parameter gradients, WRITES `dInput`, and leaves the initial
    /// states' gradients in ``dInitialHidden`` / ``dInitialCell``.
    /// - Parameters:
    ///   - dOutput: `[T][B][2H]` the gradient of the outputs (entries past a row's length are ignored).
    ///   - dFinalHidden, dFinalCell: `[2][B][H]` extra gradients of the final states, nil for none.
    ///   - dInput: `[T][B][D]` receives the gradient of the input (zero past a row's length), nil to skip it.
    public func backward(dOutput: UnsafePointer<Float>, dFinalHidden: UnsafePointer<Float>? = nil,
                         dFinalCell: UnsafePointer<Float>? = nil, dInput: UnsafeMutablePointer<Float>?,
                         pool: ThreadPool = .shared) {
        let T = steps, B = batch, D = inputSize, H = hiddenSize
        let df = dForward.pointer(T * B * H), dr = dReverse.pointer(T * B * H)
        for t in 0..<T {
            for b in 0..<B {
                let f = df + (t * B + b) * H, r = dr + (t * B + b) * H
                if let s = mirrored(t, b) {
                    f.update(from: dOutput + (t * B + b) * 2 * H, count: H)
                    r.update(from: dOutput + (s * B + b) * 2 * H + H, count: H)
                } else {
                    f.update(repeating: 0, count: H)
                    r.update(repeating: 0, count: H)
                }
            }
        }
        let dxr = dInput == nil ? nil : dReversedInput.pointer(T * B * D)
        rowLengths.withUnsafeBufferPointer { lengths in
            let l = padded ? lengths.baseAddress : nil
            forwardLayer.backward(dOutput: df, dFinalHidden: dFinalHidden, dFinalCell: dFinalCell, lengths: l,
                                  dInput: dInput, pool: pool)
            reverseLayer.backward(dOutput: dr, dFinalHidden: dFinalHidden.map { $0 + B * H },
                                  dFinalCell: dFinalCell.map { $0 + B * H }, lengths: l, dInput: dxr, pool: pool)
        }
        if let dInput, let dxr {
            for t in 0..<T {
                for b in 0..<B {
                    let row = dInput + (t * B + b) * D
                    if let s = mirrored(t, b) {
                        let from = dxr + (s * B + b) * D
                        for j in 0..<D { row[j] += from[j] }
                    } else {
                        row.update(repeating: 0, count: D)
                    }
                }
            }
        }
        let hasCell = forwardLayer.cell.hasCellState
        let dh0 = dH0.pointer(2 * B * H), dc0 = dC0.pointer(hasCell ? 2 * B * H : 0)
        for (d, layer) in [forwardLayer, reverseLayer].enumerated() {
            (dh0 + d * B * H).update(from: layer.dInitialHidden, count: B * H)
            if hasCell { (dc0 + d * B * H).update(from: layer.dInitialCell, count: B * H) }
        }
    }
}
