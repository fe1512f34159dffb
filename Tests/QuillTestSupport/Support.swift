import Foundation

// Helpers shared by the test targets. This target depends on nothing but Foundation (see Package.swift), so it reports
// problems by throwing ``TestSupportError`` rather than through a test framework.

/// Paths, temporary directories and child processes for tests.
public enum TestSupport {
    /// The package root (the directory of Package.swift), found from this file's path:
    /// `<root>/Tests/QuillTestSupport/Support.swift`.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/corpora` beside the package root (PTB, WikiText-2, Tiny Shakespeare, …), or nil when absent:
    /// tests that need it are skipped then.
    public static var sharedCorpora: URL? {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/corpora")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { return nil }
        return url
    }

    /// `Tests/Fixtures` of this repository: reference data committed with the code (see its README.md).
    public static let fixtures: URL = packageRoot.appendingPathComponent("Tests/Fixtures")

    /// The committed fixture file `name` (e.g. `pytorch-lstm-lm.safetensors`).
    /// - Throws: ``TestSupportError`` when it is absent, so a test that needs it fails instead of skipping.
    public static func fixture(_ name: String) throws -> URL {
        let url = fixtures.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TestSupportError("the fixture \(url.path) is missing: it is committed with the repository "
                + "(Tests/Fixtures/README.md says how to regenerate it)")
        }
        return url
    }

    /// A built executable product of this package, e.g. `quill`.
    ///
    /// A test target that runs a product should depend on it (as `QuillCLITests` depends on `quill`), so that
    /// `swift test` builds it first.
    ///
    /// Looked for, in order: `$QUILL_TEST_PRODUCTS` (a directory), the directory of the running test bundle
    /// (SwiftPM puts executables and test bundles side by side in `.build/<triple>/<configuration>`), the directory
    /// of the test process's executable, then `.build/debug` and `.build/release` under ``packageRoot``.
    /// - Throws: ``TestSupportError`` listing where it looked and how to build the product.
    public static func executable(named name: String) throws -> URL {
        let candidates = productDirectories()
        for directory in candidates {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: url.path) {
                return url.standardizedFileURL
            }
        }
        throw TestSupportError("""
            the `\(name)` executable was not found; build it with `swift build --product \(name)`, or make the \
            test target depend on it. Looked in: \
            \(candidates.map(\.path).joined(separator: ", "))
            """)
    }

    /// Directories that may hold built products, most specific first, without duplicates.
    private static func productDirectories() -> [URL] {
        var directories: [URL] = []
        if let override = ProcessInfo.processInfo.environment["QUILL_TEST_PRODUCTS"], !override.isEmpty {
            directories.append(URL(fileURLWithPath: override))
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        if let executable = Bundle.main.executableURL {
            directories.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        if let first = ProcessInfo.processInfo.arguments.first, first.contains("/") {
            directories.append(URL(fileURLWithPath: first).resolvingSymlinksInPath().deletingLastPathComponent())
        }
        let build = packageRoot.appendingPathComponent(".build")
        directories.append(build.appendingPathComponent("debug"))
        directories.append(build.appendingPathComponent("release"))
        var seen = Set<String>()
        return directories.map(\.standardizedFileURL).filter { seen.insert($0.path).inserted }
    }

    /// Runs an executable to completion and captures what it wrote.
    ///
    /// Standard output and error go to files (not pipes), so a chatty process cannot fill a pipe and block; standard
    /// input is `stdin` (empty when nil, so a process reading it never waits on the terminal).
    /// - Parameters:
    ///   - environment: variables set on top of this process's environment.
    ///   - directory: the working directory (default: this process's).
    public static func run(_ executable: URL, _ arguments: [String], stdin: Data? = nil,
                           environment: [String: String] = [:], in directory: URL? = nil) throws -> ProcessResult {
        let scratch = try TemporaryDirectory(prefix: "quill-process")
        let input = scratch.url.appendingPathComponent("stdin")
        let output = scratch.url.appendingPathComponent("stdout")
        let error = scratch.url.appendingPathComponent("stderr")
        try (stdin ?? Data()).write(to: input)
        try Data().write(to: output)
        try Data().write(to: error)
        let inputHandle = try FileHandle(forReadingFrom: input)
        let outputHandle = try FileHandle(forWritingTo: output)
        let errorHandle = try FileHandle(forWritingTo: error)
        defer {
            try? inputHandle.close()
            try? outputHandle.close()
            try? errorHandle.close()
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = directory }
        process.standardInput = inputHandle
        process.standardOutput = outputHandle
        process.standardError = errorHandle
        do {
            try process.run()
        } catch {
            throw TestSupportError("cannot run \(executable.path): \(error)")
        }
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             exitedBySignal: process.terminationReason == .uncaughtSignal,
                             stdoutData: try Data(contentsOf: output), stderrData: try Data(contentsOf: error))
    }
}

/// What a finished child process left: its exit status and its output.
public struct ProcessResult: Sendable {
    /// The exit code, or the signal number when ``exitedBySignal``.
    public var status: Int32
    public var exitedBySignal: Bool
    public var stdoutData: Data
    public var stderrData: Data

    public var stdout: String { String(decoding: stdoutData, as: UTF8.self) }
    public var stderr: String { String(decoding: stderrData, as: UTF8.self) }
    /// Standard output split into lines, without the final empty one.
    public var stdoutLines: [String] {
        var lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
    /// Exit status 0.
    public var succeeded: Bool { status == 0 && !exitedBySignal }
}

/// A new, uniquely named directory under the system's temporary directory, removed with everything in it when the
/// object goes away.
public final class TemporaryDirectory: Sendable {
    public let url: URL
    public var path: String { url.path }

    public init(prefix: String = "quill-test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// A path inside the directory.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }
}

/// Runs `body` with a new temporary directory, removed afterwards (also when `body` throws).
public func withTemporaryDirectory<R>(prefix: String = "quill-test", _ body: (URL) throws -> R) throws -> R {
    let directory = try TemporaryDirectory(prefix: prefix)
    return try withExtendedLifetime(directory) { try body(directory.url) }
}

/// A test setup problem, with what to do about it.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
