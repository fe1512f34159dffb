import ArgumentParser
import Foundation
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM during long work: the first asks the work to stop at its next safe point (training
/// writes a checkpoint first); a second one exits at once, as a user pressing Ctrl-C twice expects.
enum StopSignals {
    /// The first stop signal received, or 0.
    private static let received = Atomic<Int32>(0)

    /// Routes SIGINT and SIGTERM to ``requested``, unblocking them first: a parent may have started this process
    /// with them blocked (blocked signals are inherited), and then a stop would wait forever.
    static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for number in [SIGINT, SIGTERM] {
            signal(number) { number in
                // Only async-signal-safe work here: an atomic exchange and `_exit`.
                if StopSignals.received.exchange(number, ordering: .relaxed) != 0 { _exit(128 + number) }
            }
        }
    }

    /// The signal that asked to stop, if one did.
    static var requested: Int32? {
        let number = received.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// The shell's exit status for a process stopped by `signal`: 128 + its number (130 for Ctrl-C).
    static func exitCode(for signal: Int32) -> ExitCode { ExitCode(128 + signal) }
}
