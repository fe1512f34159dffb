import Foundation
import Quill

extension ProgressBar {
    /// Shows a training window's progress: epoch, window/windows, loss, perplexity, tokens/s and ETA.
    func update(_ progress: LanguageModelTraining.Progress) {
        redraw { _ in ProgressBar.render(progress) }
    }

    /// `epoch 2/6 [####······] 120/300  loss 5.123  ppl 167.9  8100 tok/s  ETA 0:12`.
    static func render(_ p: LanguageModelTraining.Progress) -> String {
        let fraction = p.windows > 0 ? min(1, Double(p.window) / Double(p.windows)) : 0
        let cells = 20
        let full = Int(fraction * Double(cells))
        return "epoch \(p.epoch)/\(p.epochs) [" + String(repeating: "#", count: full) + String(repeating: "·", count: cells - full)
            + "] \(p.window)/\(p.windows)  loss " + String(format: "%.3f  ppl %.1f  %.0f tok/s  ETA ", p.loss,
                                                         exp(p.loss), p.tokensPerSecond)
            + (p.etaSeconds.map(ProgressBar.formatDuration) ?? "--:--")
    }
}
