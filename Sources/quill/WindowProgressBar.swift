import Foundation
import Quill
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line training progress bar on standard error: epoch, window/windows, loss, perplexity, tokens/s and ETA.
///
/// As ``ProgressBar``, it draws only on a terminal, after the first second, at most ten times a second, and
/// ``finish()`` erases it (so the per-epoch summary lines stay clean).
final class WindowProgressBar {
    let isEnabled: Bool
    private var start: TimeInterval?
    private var lastDraw: TimeInterval = 0
    private var drawn = false

    init(enabled: Bool = isatty(2) != 0) { isEnabled = enabled }

    func update(_ progress: LanguageModelTraining.Progress) {
        guard isEnabled else { return }
        let now = ProcessInfo.processInfo.systemUptime
        if start == nil { start = now }
        guard now - start! >= 1, now - lastDraw >= 0.1 else { return }
        lastDraw = now
        draw(WindowProgressBar.render(progress))
    }

    func finish() {
        guard isEnabled, drawn else { return }
        draw("")
        drawn = false
    }

    /// `epoch 2  [####······]  120/300  loss 5.123  ppl 167.9  8,100 tok/s  ETA 0:12`.
    static func render(_ p: LanguageModelTraining.Progress) -> String {
        let fraction = p.windows > 0 ? min(1, Double(p.window) / Double(p.windows)) : 0
        let cells = 20
        let full = Int(fraction * Double(cells))
        let eta = fraction > 0 ? p.seconds * (1 - fraction) / fraction : nil
        return "epoch \(p.epoch) [" + String(repeating: "#", count: full) + String(repeating: "·", count: cells - full)
            + "] \(p.window)/\(p.windows)  loss " + String(format: "%.3f  ppl %.1f  %.0f tok/s  ETA ", p.loss,
                                                         exp(p.loss), p.tokensPerSecond)
            + (eta.map(ProgressBar.formatDuration) ?? "--:--")
    }

    private func draw(_ line: String) {
        let bytes = Array(("\r" + line + "\u{1B}[K").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) }
        drawn = true
    }
}
