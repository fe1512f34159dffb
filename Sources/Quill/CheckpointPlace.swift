/// Where in a run a checkpoint was taken.
public struct CheckpointPlace: Equatable, Sendable, CustomStringConvertible {
    public var epoch: Int
    /// Windows done in the epoch, and the epoch's windows; equal at an epoch's end.
    public var window: Int
    public var windows: Int
    /// Optimizer steps since the start of the run.
    public var step: Int

    public init(epoch: Int, window: Int, windows: Int, step: Int) {
        self.epoch = epoch
        self.window = window
        self.windows = windows
        self.step = step
    }

    public var description: String {
        window >= windows ? "the end of epoch \(epoch), step \(step)"
            : "epoch \(epoch), window \(window) of \(windows), step \(step)"
    }
}
