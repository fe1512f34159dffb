/// Cuts an id stream into `B` parallel streams and walks them in windows of `T` steps, for truncated BPTT.
///
/// As `batchify` and `get_batch` of pytorch/examples word_language_model:
/// - the stream of `N` ids is cut into `B` streams of equal length `L = N / B` (the remainder is dropped); stream `b`
///   holds ids `[b·L, (b+1)·L)`;
/// - window `w` starts at step `w·T` of every stream and has `t_w = min(T, L − 1 − w·T)` steps, so the last window is
///   shorter when `L − 1` is not a multiple of `T`; there are `ceil((L − 1) / T)` windows per epoch;
/// - buffers are **time-major**, `[t_w, B]`: `inputs[t·B + b] = stream_b[w·T + t]` and
///   `targets[t·B + b] = stream_b[w·T + t + 1]` (targets are the inputs shifted by one step).
///
/// Window `w + 1` continues every stream where window `w` stopped, so the recurrent state at the end of one window is
/// the right initial state for the next (carried, and detached from the graph, by the training loop).
///
/// ``position`` is the index of the next window of the epoch; save it (or ``state``) with a checkpoint and restore it
/// with ``restore(_:)`` to resume at exactly the same window.
public struct Batcher: Sendable {
    /// `B`: parallel streams.
    public let batchSize: Int
    /// `T`: steps per (full) window.
    public let steps: Int
    /// `L`: ids per stream.
    public let streamLength: Int
    /// Windows per epoch: `ceil((L − 1) / T)`.
    public let windowCount: Int
    /// The index of the next window ``next(inputs:targets:)`` gives, in `0...windowCount`.
    public private(set) var position = 0
    /// The first `B·L` ids of the stream.
    private let data: [Int32]

    /// - Parameters:
    ///   - ids: the whole id stream, `N` ids.
    ///   - batchSize: `B`, the number of parallel streams.
    ///   - steps: `T`, the window length (BPTT length).
    /// - Throws: ``TrainError/corpusTooSmall(tokens:batchSize:)`` when `N < 2·B`, ``TrainError/invalidShape`` when
    ///   `B` or `T` is below 1.
    public init(ids: [Int32], batchSize: Int, steps: Int) throws {
        guard batchSize >= 1, steps >= 1 else { throw TrainError.invalidShape(batchSize: batchSize, steps: steps) }
        let length = ids.count / batchSize
        guard length >= 2 else { throw TrainError.corpusTooSmall(tokens: ids.count, batchSize: batchSize) }
        self.batchSize = batchSize
        self.steps = steps
        self.streamLength = length
        self.windowCount = (length - 1 + steps - 1) / steps
        self.data = Array(ids[0..<(batchSize * length)])
    }

    /// Ids per full window buffer: `T·B` (what the caller's buffers must hold).
    public var windowCapacity: Int { steps * batchSize }

    /// Ids of one epoch that are predicted (targets): `B·(L − 1)`.
    public var targetsPerEpoch: Int { batchSize * (streamLength - 1) }

    /// The number of steps `t_w` of window `w`.
    public func steps(ofWindow w: Int) -> Int {
        precondition(w >= 0 && w < windowCount, "window \(w) outside 0..<\(windowCount)")
        return min(steps, streamLength - 1 - w * steps)
    }

    /// The id at step `t` of stream `b`.
    public func id(stream b: Int, step t: Int) -> Int32 { data[b * streamLength + t] }

    /// Writes window `w` into time-major buffers of at least `t_w·B` ids each; allocates nothing.
    /// - Returns: `t_w`, the steps written.
    @discardableResult
    public func fill(window w: Int, inputs: UnsafeMutableBufferPointer<Int32>,
                     targets: UnsafeMutableBufferPointer<Int32>) -> Int {
        let t = steps(ofWindow: w)
        precondition(inputs.count >= t * batchSize && targets.count >= t * batchSize,
                     "buffers hold \(inputs.count) and \(targets.count) ids; window \(w) needs \(t * batchSize)")
        let start = w * steps
        data.withUnsafeBufferPointer { d in
            for b in 0..<batchSize {
                let stream = b * streamLength + start
                for s in 0..<t {
                    inputs[s * batchSize + b] = d[stream + s]
                    targets[s * batchSize + b] = d[stream + s + 1]
                }
            }
        }
        return t
    }

    /// Writes the window at ``position`` into the buffers and advances; `nil` when the epoch is done.
    /// - Returns: `t_w`, the steps of the window written, or `nil` at the end of the epoch (call ``startEpoch()``).
    public mutating func next(inputs: UnsafeMutableBufferPointer<Int32>,
                              targets: UnsafeMutableBufferPointer<Int32>) -> Int? {
        guard position < windowCount else { return nil }
        let t = fill(window: position, inputs: inputs, targets: targets)
        position += 1
        return t
    }

    /// ``next(inputs:targets:)`` into arrays of at least ``windowCapacity`` ids (they are not resized).
    public mutating func next(inputs: inout [Int32], targets: inout [Int32]) -> Int? {
        inputs.withUnsafeMutableBufferPointer { x in
            targets.withUnsafeMutableBufferPointer { y in next(inputs: x, targets: y) }
        }
    }

    /// Whether every window of the epoch has been given.
    public var isEpochDone: Bool { position == windowCount }

    /// Rewinds to the first window (the start of a new epoch).
    public mutating func startEpoch() { position = 0 }

    /// Moves to window `position` (`windowCount` means the epoch is done).
    /// - Throws: ``TrainError/invalidPosition(position:windowCount:)``.
    public mutating func seek(to position: Int) throws {
        guard position >= 0 && position <= windowCount else {
            throw TrainError.invalidPosition(position: position, windowCount: windowCount)
        }
        self.position = position
    }

    /// What a checkpoint saves: the position and the shape it belongs to.
    public struct State: Codable, Equatable, Sendable {
        public var position: Int
        public var batchSize: Int
        public var steps: Int
        public var streamLength: Int

        public init(position: Int, batchSize: Int, steps: Int, streamLength: Int) {
            self.position = position
            self.batchSize = batchSize
            self.steps = steps
            self.streamLength = streamLength
        }

        var shape: String { "B=\(batchSize), T=\(steps), L=\(streamLength)" }
    }

    public var state: State {
        State(position: position, batchSize: batchSize, steps: steps, streamLength: streamLength)
    }

    /// Restores a saved position, after checking it was saved for the same shape.
    /// - Throws: ``TrainError/batcherMismatch(saved:current:)`` or ``TrainError/invalidPosition(position:windowCount:)``.
    public mutating func restore(_ saved: State) throws {
        let current = state
        guard saved.batchSize == batchSize, saved.steps == steps, saved.streamLength == streamLength else {
            throw TrainError.batcherMismatch(saved: saved.shape, current: current.shape)
        }
        try seek(to: saved.position)
    }
}
