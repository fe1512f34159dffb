import CSQLite
import Foundation
import Testing
@testable import QuillStore

/// Read-only, read-write and creating opens: only a creating open makes a store, a read-only one writes nothing,
/// and a write that fails because of the directory says so.
@Suite struct OpenModeTests {
    @Test(arguments: [Store.OpenMode.readOnly, .readWrite])
    func anEmptyFileIsNotMadeIntoAStore(mode: Store.OpenMode) throws {
        try withTemporaryPath { temporary throws in
            #expect(FileManager.default.createFile(atPath: temporary.path, contents: Data()))
            let error = #expect(throws: StoreError.self) { try Store(path: temporary.path, mode: mode) }
            #expect(error == .emptyStore(path: temporary.path))
            #expect(error?.description.contains("empty file") == true)
            #expect(try temporary.contents().isEmpty)
            for suffix in ["-wal", "-shm", "-journal"] {
                #expect(!FileManager.default.fileExists(atPath: temporary.path + suffix), "\(suffix)")
            }
        }
    }

    @Test func aReadOnlyStoreReadsAndRefusesWrites() throws {
        try withTemporaryPath { temporary in
            try saveSampleModel(in: Store(path: temporary.path))
            let store = try Store(path: temporary.path, mode: .readOnly)
            #expect(store.mode == .readOnly)
            #expect(try store.vocabulary(named: "v") == makeVocabulary())
            #expect(try store.tensors(ofModel: store.model(named: "m").id).count == 2)
            #expect(try store.check().isSound)
            let error = #expect(throws: StoreError.self) { try store.deleteModel(named: "m") }
            #expect(sqliteCode(error).map { $0 & 0xFF } == SQLITE_READONLY)
        }
    }

    @Test func aReadOnlyOpenOfAnOlderStoreMigratesItFirst() throws {
        try withTemporaryPath { temporary in
            _ = try Store(path: temporary.path, create: true, migrations: Array(Schema.migrations.prefix(3)))
            let store = try Store(path: temporary.path, mode: .readOnly)
            #expect(try store.schemaVersion() == Store.currentSchemaVersion)
            #expect(try store.vocabularies().isEmpty)
        }
    }

    @Test func aFailedWriteBlamesAnUnwritableDirectory() {
        let path = "/srv/stores/quill.sqlite"
        for code in [SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_IOERR, SQLITE_READONLY | (6 << 8)] {
            let error = StoreError.sqliteFailure(code: code, message: "unable to open database file", sql: nil,
                                                 path: path, isWritable: { $0 != "/srv/stores" })
            #expect(error == .directoryNotWritable(path: path, directory: "/srv/stores"))
            #expect(error.description.contains("directory /srv/stores is not writable")
                && error.description.contains("chmod u+w /srv/stores"))
            let writable = StoreError.sqliteFailure(code: code, message: "m", sql: nil, path: path,
                                                    isWritable: { _ in true })
            #expect(writable == StoreError.sqlite(code: code, message: "m", sql: nil, path: path))
        }
        // Other failures are not the directory's.
        let busy = StoreError.sqliteFailure(code: SQLITE_BUSY, message: "m", sql: nil, path: path,
                                            isWritable: { _ in false })
        #expect(busy == StoreError.sqlite(code: SQLITE_BUSY, message: "m", sql: nil, path: path))
    }

    /// A real read-only directory. Root writes through permission bits, but not into an immutable directory
    /// (`chattr +i`, ext4 and most local file systems); where that is unavailable the test does nothing (the
    /// injected version above still runs).
    @Test func aStoreInAReadOnlyDirectory() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("quill-readonly-dir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/quill.sqlite"
        try saveSampleModel(in: Store(path: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: directory)
        let immutable = geteuid() == 0 ? chattr("+i", directory) : true
        defer {
            if geteuid() == 0 { _ = chattr("-i", directory) }
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
        }
        guard immutable, !FileManager.default.createFile(atPath: directory + "/probe", contents: nil) else {
            return  // no way to make a directory read-only here
        }
        // Reading works.
        let reader = try Store(path: path, mode: .readOnly)
        #expect(try reader.models().map(\.name) == ["m"])
        #expect(try reader.vocabulary(named: "v") == makeVocabulary())
        // Writing names the directory.
        let error = #expect(throws: StoreError.self) {
            try Store(path: path, mode: .readWrite).deleteModel(named: "m")
        }
        #expect(error == .directoryNotWritable(path: path, directory: directory))
    }

    private func chattr(_ flag: String, _ path: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        process.arguments = [flag, path]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
