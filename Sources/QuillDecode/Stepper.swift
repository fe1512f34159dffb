import Foundation
import QuillNN
import QuillTensor

/// Steps a language model one token at a time for inference: next-token log-probabilities of one or many streams,
/// each stream carrying its own recurrent state, so a caller (an autocompleter, a beam search, a batch predictor)
/// steps only the tokens that are new.
///
///     let stepper = try Stepper(model: model)
///     var state = stepper.initialState()
///     let logProbabilities = stepper.step(token: id, state: &state)   // [V]
public final class Stepper {
    /// How the weights are held for stepping.
    public enum Precision: String, Sendable, CaseIterable {
        /// The model's own 32-bit weights: exactly the model's probabilities.
        case float32
        /// 8-bit weights with a scale per output row: a quarter of the memory traffic of a step.
        case int8
    }

    /// The recurrent state of one stream: `[layers][hidden]` hidden states, and cell states for an LSTM.
    public struct State: Equatable, Sendable {
        public var hidden: [Float]
        /// Empty but for an LSTM.
        public var cell: [Float]

        public init(hidden: [Float], cell: [Float]) {
            self.hidden = hidden
            self.cell = cell
        }
    }

    public let model: LanguageModel
    public let precision: Precision
    public var vocabularySize: Int { model.configuration.vocabulary }
    private let pool: ThreadPool

    /// - Throws: never for `.float32`; reserved for precisions a model cannot be converted to.
    public init(model: LanguageModel, precision: Precision = .float32, pool: ThreadPool = .shared) throws {
        self.model = model
        self.precision = precision
        self.pool = pool
    }

    /// The state before any token: zeros.
    public func initialState() -> State {
        let c = model.configuration
        let count = c.layers * c.hidden
        return State(hidden: [Float](repeating: 0, count: count),
                     cell: c.kind == .lstm ? [Float](repeating: 0, count: count) : [])
    }

    /// Steps one stream by `token` and returns the log-probabilities of its next token, `[V]`.
    public func step(token: Int32, state: inout State) -> [Float] {
        var states = [state]
        var logProbabilities: [Float] = []
        step(tokens: [token], states: &states, logProbabilities: &logProbabilities)
        state = states[0]
        return logProbabilities
    }

    /// Steps each stream `i` by `tokens[i]`, updating `states[i]`, and writes the log-probabilities of each stream's
    /// next token into `logProbabilities` as `[n][V]` (resized as needed).
    public func step(tokens: [Int32], states: inout [State], logProbabilities: inout [Float]) {
        precondition(tokens.count == states.count, "one token per stream")
        let n = tokens.count, c = model.configuration, H = c.hidden, L = c.layers, V = c.vocabulary
        guard n > 0 else {
            logProbabilities = []
            return
        }
        let wasTraining = model.isTraining
        model.isTraining = false
        defer { model.isTraining = wasTraining }
        // The model's state layout is [L][B][H]; a stream's is [L][H].
        var h0 = [Float](repeating: 0, count: L * n * H)
        var c0 = c.kind == .lstm ? h0 : []
        for (b, state) in states.enumerated() {
            for l in 0..<L {
                for j in 0..<H {
                    h0[(l * n + b) * H + j] = state.hidden[l * H + j]
                    if c.kind == .lstm { c0[(l * n + b) * H + j] = state.cell[l * H + j] }
                }
            }
        }
        _ = model.forward(inputs: tokens, targets: tokens, steps: 1, batch: n, h0: h0,
                          c0: c.kind == .lstm ? c0 : nil, pool: pool)
        let h = model.finalHidden, cell = model.finalCell
        for b in 0..<n {
            for l in 0..<L {
                for j in 0..<H {
                    states[b].hidden[l * H + j] = h[(l * n + b) * H + j]
                    if c.kind == .lstm { states[b].cell[l * H + j] = cell[(l * n + b) * H + j] }
                }
            }
        }
        if logProbabilities.count != n * V { logProbabilities = [Float](repeating: 0, count: n * V) }
        let logits = model.logits
        logProbabilities.withUnsafeMutableBufferPointer { out in
            for b in 0..<n {
                let row = b * V
                var top = -Float.infinity
                for v in 0..<V { top = max(top, logits[row + v]) }
                var sum = 0.0
                for v in 0..<V { sum += Double(expf(logits[row + v] - top)) }
                let logSum = top + Float(log(sum))
                for v in 0..<V { out[row + v] = logits[row + v] - logSum }
            }
        }
    }
}
