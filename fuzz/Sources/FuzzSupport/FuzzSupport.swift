#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops the run when a property the code promises does not hold: the fuzzer keeps the input as a crash.
///
/// Unlike `precondition`, it says what was expected, and it stays in every optimization mode.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if condition() { return }
    fatalError("property violated: \(message())", file: file, line: line)
}

/// A scratch file for harnesses whose code under test reads files, on a RAM-backed file system when there is one
/// (`/dev/shm`), so that writing it once per input costs microseconds, not a disk flush. Removed when the process
/// exits normally; after a crash or a hang scripts/fuzz.sh removes it (its name carries the process id).
public struct ScratchFile: Sendable {
    public let path: String
    /// Files beside `path` that the code under test may leave (SQLite's `-wal` and `-shm`), removed before each input.
    let companions: [String]

    /// A path unique to this process (libFuzzer's `-jobs` runs several at once), ending in `name`.
    public init(_ name: String, companions suffixes: [String] = []) {
        var st = stat()
        let directory = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp"
        let path = "\(directory)/quill-fuzz-\(getpid())-\(name)"
        let companions = suffixes.map { path + $0 }
        if scratchPaths.isEmpty { atexit { for path in scratchPaths { unlink(path) } } }
        scratchPaths.append(contentsOf: [path] + companions)
        self.path = path
        self.companions = companions
    }

    /// Replaces the file's contents with `bytes` and removes its companions.
    public func replace(with bytes: UnsafeRawBufferPointer) {
        for companion in companions { unlink(companion) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        require(fd >= 0, "cannot create \(path)")
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            require(n > 0, "cannot write \(path)")
            done += n
        }
        close(fd)
    }
}

/// Every scratch file of the process; a harness runs on one thread.
nonisolated(unsafe) private var scratchPaths: [String] = []
