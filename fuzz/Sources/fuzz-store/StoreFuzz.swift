import FuzzSupport
import QuillStore

/// Opening a store on any file (what every `quill` command does first), then reading what the store lists: it must
/// throw a `StoreError` (not a Quill store, a newer schema, a corrupt vocabulary, SQLite's own complaints) or work,
/// never crash. Opening migrates an old store in place, so the migrations run on damaged files too.
///
/// The bytes go to a file on `/dev/shm`, as the store opens a path (SQLite's `-wal` and `-shm` files beside it are
/// removed before each input, or one input's log would be replayed into the next).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    scratch.replace(with: UnsafeRawBufferPointer(start: data, count: size))
    do {
        let store = try Store(path: scratch.path, create: false)
        _ = try store.info()
        for record in try store.vocabularies() { _ = try store.vocabulary(id: record.id) }
        _ = try store.models()
        _ = try store.runs()
    } catch is StoreError {
        return 0
    } catch {
        require(false, "an error that is not a StoreError: \(error)")
    }
    return 0
}

private let scratch = ScratchFile("store.sqlite", companions: ["-wal", "-shm", "-journal"])
