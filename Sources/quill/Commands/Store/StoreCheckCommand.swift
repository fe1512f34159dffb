import ArgumentParser
import Quill

/// `quill store check`: SQLite's integrity check plus every checksum; says what is damaged.
struct StoreCheckCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the store: SQLite's integrity check, then every tensor's and vocabulary's checksum.",
        discussion: """
            Names each damaged vocabulary, model tensor and checkpoint tensor, and exits with status 1 if \
            anything is damaged (0 if the store is sound). Reads only. Tensors and vocabularies saved before \
            schema version 4 have no checksum and are counted as unverified. A damaged model is best retrained \
            or imported again; a damaged vocabulary built or imported again (under a new name if models use it); \
            else restore the file from a backup. --format jsonl prints one JSON object with the same fields.

            Examples:
              quill store check
              quill store check --store runs/quill.sqlite --format jsonl
            """)

    @Option(help: "text: a summary and a table of damage; jsonl: one JSON object.")
    var format: ReportFormat = .text

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let report = try store.check()
        switch format {
        case .text:
            print(table([
                ["store:", store.path],
                ["file:", (report.integrity == ["ok"] ? "ok" : "damaged") + " (PRAGMA integrity_check)"],
                ["checksums:", "\(report.verified) verified, \(report.damage.filter { $0.kind != "file" }.count) "
                    + "failed, \(report.unverified) unverified (saved before schema version 4)"],
            ]))
            if !report.damage.isEmpty {
                print()
                let rows = [["DAMAGED", "OWNER", "TENSOR", "PROBLEM"]] + report.damage.map {
                    [$0.kind, $0.owner, $0.tensor ?? "", $0.problem]
                }
                print(table(rows))
            }
        case .jsonl:
            var object = try jsonObject(report)
            object["sound"] = report.isSound
            print(try jsonLine(object))
        }
        if !report.isSound { throw ExitCode(1) }
    }
}
