import ArgumentParser
import Quill

/// `quill store info`: what the store is and holds.
struct StoreInfoCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show the store: path, schema version and migrations, the Quill releases that wrote it, journal "
            + "mode, SQLite and ICU versions, size and counts.",
        discussion: """
            --format jsonl prints one JSON object with the same fields, for scripts.

            Examples:
              quill store info
              quill store info --store runs/quill.sqlite --format jsonl
            """)

    @Option(help: "text: aligned fields; jsonl: one JSON object.")
    var format: ReportFormat = .text

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let info = try store.info()
        switch format {
        case .text:
            let migrations = info.migrations.map { "\($0.version) \($0.name) (\(displayTime($0.appliedAt)))" }
            var rows = [
                ["path:", info.path],
                ["schema version:", "\(info.schemaVersion) (this quill knows up to \(Store.currentSchemaVersion))"],
            ]
            rows += migrations.enumerated().map { [$0.offset == 0 ? "migrations:" : "", $0.element] }
            let writers = info.writers.map { "\($0.version) (\(displayTime($0.recordedAt)))" }
            rows += (writers.isEmpty ? ["none recorded (made before quill 0.19.0)"] : writers).enumerated().map {
                [$0.offset == 0 ? "made by quill:" : "", $0.element]
            }
            rows += [["this quill:", QuillVersion.current]]
            rows += [
                ["journal mode:", info.journalMode],
                ["SQLite:", info.sqliteVersion],
                ["ICU:", icuVersion],
                ["file size:", "\(formatBytes(Int(info.fileBytes))) (\(info.fileBytes) bytes)"],
                ["vocabularies:", String(info.vocabularies)],
                ["models:", String(info.models)],
                ["runs:", String(info.runs)],
                ["checkpoints:", String(info.checkpoints)],
                ["tensors:", "\(info.tensors) (\(formatBytes(Int(info.tensorBytes))))"],
            ]
            print(table(rows))
        case .jsonl:
            var object = try jsonObject(info)
            object["icuVersion"] = icuVersion
            object["supportedSchemaVersion"] = Store.currentSchemaVersion
            object["quillVersion"] = QuillVersion.current
            print(try jsonLine(object))
        }
    }
}
