import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress bar on standard error for long-running commands: done / total, rate and time left.
///
/// It draws only when standard error is a terminal (so logs and pipes stay clean) and the work has lasted a second
/// (so quick commands never flash a bar), redraws at most ten times a second however often ``update(_:of:)`` is
/// called, and ``finish()`` erases it. Sizes are in bytes; with no total
/// (standard input) it shows what was done and the rate.
///
///     let counts = try ProgressBar(label: "counting").showing { bar in
///         … bar.update(reader.bytesRead, of: reader.totalBytes) …
///     }
final class ProgressBar {
    let label: String
    /// Whether anything is drawn: standard error is a terminal.
    let isEnabled: Bool
    private let start: TimeInterval
    private var lastDraw: TimeInterval = 0
    private var drawn = false
    private static let interval: TimeInterval = 0.1
    private static let delay: TimeInterval = 1

    init(label: String, enabled: Bool = isatty(2) != 0) {
        self.label = label
        isEnabled = enabled
        start = ProgressBar.now()
    }

    /// Records progress: `completed` of `total` bytes (`nil` when unknown).
    func update(_ completed: Int, of total: Int?) {
        redraw { elapsed in
            ProgressBar.render(label: label, completed: completed, total: total.flatMap { $0 > 0 ? $0 : nil },
                               elapsed: elapsed, width: ProgressBar.terminalWidth())
        }
    }

    /// Redraws with the line `render` makes from the seconds elapsed, when a redraw is due: on a terminal, after the
    /// first second, at most every 0.1 s. Any progress (bytes, training windows) is shown through this.
    func redraw(_ render: (TimeInterval) -> String) {
        guard isEnabled else { return }
        let now = ProgressBar.now()
        guard now - start >= ProgressBar.delay, now - lastDraw >= ProgressBar.interval else { return }
        lastDraw = now
        draw(render(now - start))
    }

    /// Runs `body` with the bar and erases the bar when it returns or throws (so an error message starts clean).
    func showing<T>(_ body: (ProgressBar) throws -> T) rethrows -> T {
        defer { finish() }
        return try body(self)
    }

    /// Erases the bar, leaving the cursor at the start of an empty line.
    func finish() {
        guard isEnabled, drawn else { return }
        draw("")
        drawn = false
    }

    private func draw(_ line: String) {
        // Carriage return, the line, erase to the end of the line.
        let bytes = Array(("\r" + line + "\u{1B}[K").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress!, $0.count) }
        drawn = true
    }

    /// The bar's text for a terminal `width` columns wide:
    /// `label [########·········]  45%  12.3/27.4 MB  8.1 MB/s  ETA 0:02`.
    static func render(label: String, completed: Int, total: Int?, elapsed: TimeInterval, width: Int) -> String {
        let rate = elapsed > 0 ? Double(completed) / elapsed : 0
        let rateText = String(format: "%.1f MB/s", rate / 1e6)
        guard let total else {
            return "\(label)  \(formatBytes(completed))  \(rateText)"
        }
        let fraction = min(1, Double(completed) / Double(total))
        let eta = rate > 0 ? Double(total - completed) / rate : nil
        let tail = String(format: " %3.0f%%  %.1f/%.1f MB  ", fraction * 100, Double(completed) / 1e6,
                          Double(total) / 1e6) + rateText + "  ETA " + (eta.map(formatDuration) ?? "--:--")
        let room = width - label.count - tail.count - 4
        guard room >= 10 else { return label + tail }
        let cells = min(room, 40)
        let full = Int(fraction * Double(cells))
        return label + " [" + String(repeating: "#", count: full) + String(repeating: "·", count: cells - full) + "]"
            + tail
    }

    /// `m:ss`, or `h:mm:ss` from an hour on.
    static func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) }
        return String(format: "%d:%02d", s / 60, s % 60)
    }

    private static func terminalWidth() -> Int {
        var size = winsize()
        #if canImport(Glibc)
        let status = ioctl(2, UInt(TIOCGWINSZ), &size)
        #else
        let status = ioctl(2, TIOCGWINSZ, &size)
        #endif
        return status == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    private static func now() -> TimeInterval { ProcessInfo.processInfo.systemUptime }
}
