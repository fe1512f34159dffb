import QuillTensor

/// `L` recurrent layers stacked: layer 0 reads the input `[T][B][D]`, layer `l > 0` reads the outputs of `l − 1`.
///
/// States are `[L][B][H]` as PyTorch's `h0`/`c0`. Parameters `<prefix>.<l>.{weightIH, weightHH, biasIH, biasHH}`.
public final class RecurrentStack {
    public let kind: CellKind
    public let layers: [RecurrentLayer]
    public let inputSize: Int, hiddenSize: Int
    private var dBetween = Scratch(), finalH = Scratch(), finalC = Scratch(), dH0 = Scratch(), dC0 = Scratch()
    private var droppedOutputs = Scratch()
    private var masks: UnsafePointer<Float>?
    private var steps = 0, batch = 0

    /// The parameter layout of `count` layers under `prefix`.
    public static func layout(prefix: String, kind: CellKind, inputSize: Int, hiddenSize: Int, count: Int)
        -> ParameterLayout {
        (0..<count).flatMap { l in
            RecurrentLayer.layout(prefix: prefix, index: l, kind: kind, inputSize: l == 0 ? inputSize : hiddenSize,
                                  hiddenSize: hiddenSize)
        }
    }

    /// Binds `count` layers under `prefix` in `parameters`.
    public init(_ parameters: ParameterSet, prefix: String, kind: CellKind, inputSize: Int, hiddenSize: Int,
                count: Int) throws {
        precondition(count >= 1, "a recurrent stack needs at least one layer")
        self.kind = kind
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        layers = try (0..<count).map { l in
            try RecurrentLayer(parameters, prefix: prefix, index: l, kind: kind,
                               inputSize: l == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize)
        }
    }

    /// The outputs of the top layer `[T][B][H]` after forward.
    public var output: UnsafeMutablePointer<Float> { layers[layers.count - 1].output }
    /// The arithmetic of every layer's products (``RecurrentLayer/precision``).
    public var precision: Precision {
        get { layers[0].precision }
        set { for layer in layers { layer.precision = newValue } }
    }
    /// The final hidden states `[L][B][H]` after forward.
    public var finalHidden: UnsafeMutablePointer<Float> { finalH.buffer.base }
    /// The final cell states `[L][B][H]` after forward (LSTM only).
    public var finalCell: UnsafeMutablePointer<Float> { finalC.buffer.base }
    /// The gradient of `h0` `[L][B][H]` after backward.
    public var dInitialHidden: UnsafeMutablePointer<Float> { dH0.buffer.base }
    /// The gradient of `c0` `[L][B][H]` after backward (LSTM only).
    public var dInitialCell: UnsafeMutablePointer<Float> { dC0.buffer.base }

    /// Runs all layers; `h0`, `c0` are `[L][B][H]` or nil for zeros. `input` must stay valid until backward.
    /// - Parameter dropoutMasks: `[L−1][T][B][H]` masks (see `Dropout`) applied to the outputs of layers `0…L−2`
    ///   before the layer above reads them (Zaremba et al. 2014's dropout between layers, never on the recurrent
    ///   connections), or nil for none; must stay valid until backward.
    public func forward(_ input: UnsafePointer<Float>, steps T: Int, batch B: Int, h0: UnsafePointer<Float>?,
                        c0: UnsafePointer<Float>?, dropoutMasks: UnsafePointer<Float>? = nil,
                        pool: ThreadPool = .shared) {
        forward(steps: T, batch: B, h0: h0, c0: c0, dropoutMasks: dropoutMasks, pool: pool) { h0, c0 in
            layers[0].forward(input, steps: T, batch: B, h0: h0, c0: c0, pool: pool)
        }
    }

    /// Runs all layers on the rows `table[ids[n]]` (an embedding lookup) without gathering them; see
    /// ``RecurrentLayer/forward(tokens:table:vocabulary:steps:batch:h0:c0:pool:)``. Backward's `dInput` is then the
    /// table's gradient `[V][D]`, accumulated into. `ids` and `table` must stay valid until backward.
    public func forward(tokens ids: UnsafePointer<Int32>, table: UnsafePointer<Float>, vocabulary V: Int,
                        steps T: Int, batch B: Int, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                        dropoutMasks: UnsafePointer<Float>? = nil, pool: ThreadPool = .shared) {
        forward(steps: T, batch: B, h0: h0, c0: c0, dropoutMasks: dropoutMasks, pool: pool) { h0, c0 in
            layers[0].forward(tokens: ids, table: table, vocabulary: V, steps: T, batch: B, h0: h0, c0: c0,
                              pool: pool)
        }
    }

    private func forward(steps T: Int, batch B: Int, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                         dropoutMasks: UnsafePointer<Float>?, pool: ThreadPool,
                         first: (UnsafePointer<Float>?, UnsafePointer<Float>?) -> Void) {
        steps = T
        batch = B
        masks = dropoutMasks
        let H = hiddenSize, L = layers.count, N = T * B
        let fh = finalH.pointer(L * B * H), fc = finalC.pointer(L * B * H)
        let dropped = dropoutMasks == nil ? nil : droppedOutputs.pointer((L - 1) * N * H)
        var x: UnsafePointer<Float>? = nil  // the input of layer l > 0
        for (l, layer) in layers.enumerated() {
            if l == 0 {
                first(h0, c0)
            } else {
                layer.forward(x!, steps: T, batch: B, h0: h0.map { $0 + l * B * H }, c0: c0.map { $0 + l * B * H },
                              pool: pool)
            }
            fh.advanced(by: l * B * H).update(from: layer.finalHidden, count: B * H)
            if layer.cell.hasCellState { fc.advanced(by: l * B * H).update(from: layer.finalCell, count: B * H) }
            x = UnsafePointer(layer.output)
            if let dropoutMasks, let dropped, l < L - 1 {
                let y = dropped + l * N * H
                Dropout.forward(x!, mask: dropoutMasks + l * N * H, y, count: N * H, pool: pool)
                x = UnsafePointer(y)
            }
        }
    }

    /// Backpropagates through all layers and steps; see ``RecurrentLayer/backward(dOutput:dFinalHidden:dFinalCell:dInput:pool:)``.
    /// - Parameters: `dOutput` `[T][B][H]` of the top layer; `dFinalHidden`, `dFinalCell` `[L][B][H]` or nil;
    ///   `dInput` `[T][B][D]` written, or nil (after a forward from tokens: the table's gradient `[V][D]`,
    ///   accumulated into).
    public func backward(dOutput: UnsafePointer<Float>, dFinalHidden: UnsafePointer<Float>? = nil,
                         dFinalCell: UnsafePointer<Float>? = nil, dInput: UnsafeMutablePointer<Float>?,
                         pool: ThreadPool = .shared) {
        let T = steps, B = batch, H = hiddenSize, L = layers.count
        let dh0 = dH0.pointer(L * B * H), dc0 = dC0.pointer(L * B * H)
        // Two halves: the gradient flowing into layer l's output, and the one layer l writes for layer l − 1.
        let between = dBetween.pointer(2 * T * B * H)
        var dOut = dOutput
        for l in stride(from: L - 1, through: 0, by: -1) {
            let layer = layers[l]
            let dIn = l == 0 ? dInput : between + (l % 2) * T * B * H
            layer.backward(dOutput: dOut, dFinalHidden: dFinalHidden.map { $0 + l * B * H },
                           dFinalCell: dFinalCell.map { $0 + l * B * H }, dInput: dIn, pool: pool)
            dh0.advanced(by: l * B * H).update(from: layer.dInitialHidden, count: B * H)
            if layer.cell.hasCellState { dc0.advanced(by: l * B * H).update(from: layer.dInitialCell, count: B * H) }
            if let dIn {
                if l > 0, let masks {
                    Dropout.backward(dOutput: dIn, mask: masks + (l - 1) * T * B * H, dInput: dIn, count: T * B * H,
                                     pool: pool)
                }
                dOut = UnsafePointer(dIn)
            }
        }
    }
}

// MARK: - One step at a time

extension RecurrentStack {
    /// Starts a sequence run one step at a time through all layers (see
    /// ``RecurrentLayer/beginSteps(capacity:batch:h0:c0:pool:)``); `h0`, `c0` are `[L][B][H]` or nil for zeros. No
    /// dropout between layers on this path.
    public func beginSteps(capacity: Int, batch B: Int, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?,
                           pool: ThreadPool = .shared) {
        let H = hiddenSize, L = layers.count
        steps = 0
        batch = B
        masks = nil
        _ = finalH.pointer(L * B * H)
        _ = finalC.pointer(L * B * H)
        for (l, layer) in layers.enumerated() {
            layer.beginSteps(capacity: capacity, batch: B, h0: h0.map { $0 + l * B * H },
                             c0: c0.map { $0 + l * B * H }, pool: pool)
        }
    }

    /// Runs one step of every layer on `x` `[B][D]` and returns the top layer's hidden state `[B][H]`; the states of
    /// all layers after it are in ``finalHidden`` and ``finalCell`` `[L][B][H]`.
    @discardableResult
    public func step(_ x: UnsafePointer<Float>, pool: ThreadPool = .shared) -> UnsafeMutablePointer<Float> {
        let B = batch, H = hiddenSize
        var input = x
        for (l, layer) in layers.enumerated() {
            let h = layer.step(input, pool: pool)
            finalH.buffer.base.advanced(by: l * B * H).update(from: h, count: B * H)
            if layer.cell.hasCellState {
                finalC.buffer.base.advanced(by: l * B * H).update(from: layer.finalCell, count: B * H)
            }
            input = UnsafePointer(h)
        }
        steps += 1
        return layers[layers.count - 1].output + (steps - 1) * B * H
    }

    /// Starts stepping back from the last step run; `dFinalHidden`, `dFinalCell` are `[L][B][H]` or nil.
    public func beginBackwardSteps(dFinalHidden: UnsafePointer<Float>?, dFinalCell: UnsafePointer<Float>?,
                                   pool: ThreadPool = .shared) {
        let B = batch, H = hiddenSize
        _ = dBetween.pointer(2 * B * H)
        for (l, layer) in layers.enumerated() {
            layer.beginBackwardSteps(dFinalHidden: dFinalHidden.map { $0 + l * B * H },
                                     dFinalCell: dFinalCell.map { $0 + l * B * H }, pool: pool)
        }
    }

    /// Steps back through the latest step not yet stepped back, top layer first: `dOutput` `[B][H]` is the gradient
    /// of the top layer's output at that step; WRITES `dInput` `[B][D]` (nil to skip). After step 0 the parameter
    /// gradients are ADDED and ``dInitialHidden`` / ``dInitialCell`` hold the initial states' gradients.
    public func backwardStep(dOutput: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>?,
                             pool: ThreadPool = .shared) {
        let B = batch, H = hiddenSize, L = layers.count
        let between = dBetween.buffer.base
        var dOut = dOutput
        for l in stride(from: L - 1, through: 0, by: -1) {
            let dIn = l == 0 ? dInput : between + (l % 2) * B * H
            layers[l].backwardStep(dOutput: dOut, dInput: dIn, pool: pool)
            if let dIn { dOut = UnsafePointer(dIn) }
        }
        guard isBackAtStart else { return }
        let dh0 = dH0.pointer(L * B * H), dc0 = dC0.pointer(L * B * H)
        for (l, layer) in layers.enumerated() {
            dh0.advanced(by: l * B * H).update(from: layer.dInitialHidden, count: B * H)
            if layer.cell.hasCellState { dc0.advanced(by: l * B * H).update(from: layer.dInitialCell, count: B * H) }
        }
    }

    /// Whether the layers have stepped back through step 0.
    private var isBackAtStart: Bool { layers.allSatisfy(\.isBackAtStart) }
}
