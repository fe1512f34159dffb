import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The controlling terminal in raw mode for the REPL: standard input unbuffered and unechoed, keys read with a
/// timeout, output written in one `write(2)` per redraw.
///
/// The settings from before raw mode are kept in a global and restored on every way out: a normal return
/// (``restore()``), a terminating signal (SIGTERM, SIGHUP, SIGQUIT, SIGINT sent by `kill`) and a crash (SIGSEGV,
/// SIGBUS, SIGILL, SIGTRAP — Swift's traps — and SIGABRT): each handler restores the terminal, then dies of the same
/// signal with its default action, so the shell sees the usual status. SIGWINCH only sets ``resized``.
enum Terminal {
    /// The terminal settings before ``enterRawMode()``; read by signal handlers, so set before they are installed.
    ///
    /// On the heap, not in a global `termios`: Swift 6.3 emits a zero-initialized global of an imported C struct
    /// without its interior padding (57 bytes for Glibc's 60-byte `termios`), so storing a whole `termios` there
    /// wrote past its end (AddressSanitizer: global-buffer-overflow; see docs/reliability.md).
    nonisolated(unsafe) private static let original: UnsafeMutablePointer<termios> = {
        let settings = UnsafeMutablePointer<termios>.allocate(capacity: 1)
        settings.initialize(to: termios())
        return settings
    }()
    private static let isRaw = Atomic<Bool>(false)
    private static let resizedFlag = Atomic<Bool>(false)

    /// Bracketed paste on: the terminal marks pasted text so that a pasted line break does not commit the line.
    private static let enterSequence = "\u{1B}[?2004h"
    private static let leaveSequence = "\u{1B}[?2004l\u{1B}[?25h"

    /// Whether both standard input and standard output are terminals.
    static var isInteractive: Bool { isatty(0) != 0 && isatty(1) != 0 }

    /// Switches standard input to raw mode: no echo, no line buffering, no signals from Ctrl-C / Ctrl-Z / Ctrl-\
    /// (they arrive as keys), no flow control, CR not turned into LF. Output processing stays on.
    static func enterRawMode() throws {
        var settings = termios()
        guard tcgetattr(0, &settings) == 0 else {
            throw CLIError("cannot read the terminal settings: \(String(cString: strerror(errno)))")
        }
        original.pointee = settings
        installSignalHandlers()
        var raw = settings
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL | INLCR | IGNCR | ISTRIP | BRKINT)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(0, TCSADRAIN, &raw) == 0 else {
            throw CLIError("cannot set the terminal to raw mode: \(String(cString: strerror(errno)))")
        }
        isRaw.store(true, ordering: .sequentiallyConsistent)
        write(enterSequence)
    }

    /// Restores the settings from before raw mode (and turns bracketed paste off); does nothing when not in raw mode.
    static func restore() {
        guard isRaw.exchange(false, ordering: .sequentiallyConsistent) else { return }
        write(leaveSequence)
        tcsetattr(0, TCSADRAIN, original)
    }

    /// Ctrl-Z: restores the terminal, stops the process as the shell expects, and takes raw mode again on `fg`.
    static func suspend() throws {
        restore()
        raise(SIGTSTP)
        try enterRawMode()
    }

    /// Whether the window was resized since the last call (SIGWINCH).
    static func takeResized() -> Bool { resizedFlag.exchange(false, ordering: .relaxed) }

    /// Columns and rows of the terminal on standard output (80 × 24 when unknown).
    static func size() -> (columns: Int, rows: Int) {
        var size = winsize()
        #if canImport(Glibc)
        let status = ioctl(1, UInt(TIOCGWINSZ), &size)
        #else
        let status = ioctl(1, TIOCGWINSZ, &size)
        #endif
        guard status == 0 else { return (80, 24) }
        return (size.ws_col > 0 ? Int(size.ws_col) : 80, size.ws_row > 0 ? Int(size.ws_row) : 24)
    }

    /// Writes all of `text` to standard output: one `write(2)` unless the terminal takes it in parts.
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { systemWrite(1, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }

    /// Waits up to `timeout` milliseconds (-1: for ever) for input on standard input and reads what is there.
    ///
    /// - Returns: the bytes, `[]` when the time ran out or a signal (a resize) interrupted the wait, nil at end of
    ///   input.
    static func read(timeout: Int32) -> [UInt8]? {
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeout)
        guard ready > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { systemRead(0, $0.baseAddress!, $0.count) }
        if n < 0 { return errno == EINTR || errno == EAGAIN ? [] : nil }
        return n == 0 ? nil : Array(buffer[..<n])
    }

    private static func installSignalHandlers() {
        let fatal = [SIGTERM, SIGHUP, SIGQUIT, SIGINT, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT]
        var set = sigset_t()
        sigemptyset(&set)
        for number in fatal + [SIGWINCH] { sigaddset(&set, number) }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for number in fatal {
            signal(number) { number in
                // Only async-signal-safe calls: write, tcsetattr, signal, raise.
                if Terminal.isRaw.exchange(false, ordering: .sequentiallyConsistent) {
                    let leave = "\u{1B}[?2004l\u{1B}[?25h\r\n"
                    _ = leave.utf8.withContiguousStorageIfAvailable { systemWrite(1, $0.baseAddress!, $0.count) }
                    tcsetattr(0, TCSANOW, Terminal.original)
                }
                signal(number, SIG_DFL)
                raise(number)
            }
        }
        signal(SIGWINCH) { _ in Terminal.resizedFlag.store(true, ordering: .relaxed) }
    }
}

/// `write(2)` and `read(2)`, named apart from ``Terminal/write(_:)`` and ``Terminal/read(timeout:)``.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }
private func systemRead(_ fd: Int32, _ bytes: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, bytes, count) }
