import Foundation
import Synchronization

/// Deliberate crashes for fault-injection tests: with `QUILL_CRASH_AT=POINT:N` in the environment, the process kills
/// itself with `SIGKILL` the `N`th time it reaches the named point, so a test can stop it at a moment an outside
/// `kill -9` would rarely hit (inside a write transaction, between two tensors). Without the variable a point costs one
/// comparison. `scripts/fault-injection.py` uses it; nothing else should.
///
/// Points: `checkpoint-tensors` and `model-tensors` (inside the transaction that saves a checkpoint or a model, half its
/// tensors written), `vocabulary-tokens` (inside the transaction that saves a vocabulary, its tokens written).
enum CrashPoint {
    private static let target: (name: Substring, count: Int)? = {
        guard let value = ProcessInfo.processInfo.environment["QUILL_CRASH_AT"],
              let colon = value.lastIndex(of: ":"), let count = Int(value[value.index(after: colon)...]), count >= 1
        else { return nil }
        return (value[..<colon], count)
    }()
    private static let reached = Mutex<[String: Int]>([:])

    /// Kills the process if this is the asked-for time `name` is reached.
    static func reach(_ name: String) {
        guard let target, target.name == name else { return }
        let times = reached.withLock { counts in
            counts[name, default: 0] += 1
            return counts[name]!
        }
        if times == target.count { kill(getpid(), SIGKILL) }
    }
}
