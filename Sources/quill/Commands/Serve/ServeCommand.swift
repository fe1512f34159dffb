import ArgumentParser
import Dispatch
import Foundation
import Quill
import QuillServer

/// `quill serve`: the stored models over HTTP (docs/serve.md).
struct ServeCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve stored models over HTTP: suggestions while typing, translation (docs/serve.md).",
        discussion: """
            Loads each --model once (language models and translation models) and answers JSON requests: \
            POST /v1/suggest, /v1/next, /v1/score, /v1/generate (streamed as server-sent events with \
            "stream": true), /v1/translate, /v1/embed, /v1/anomaly; GET /v1/models, /healthz, /readyz, /metrics \
            (Prometheus), /openapi.json (the API), and a page to try the models at /. Requests of different clients \
            that step a language model are stepped together (up to --max-batch). Listens on 127.0.0.1 \
            unless --host says otherwise; any other address needs --token (clients send `Authorization: Bearer \
            TOKEN`) or --allow-anyone. Ctrl-C or SIGTERM stops it after the requests in flight.

            Examples:
              quill serve --model demo
              curl -s localhost:8080/v1/suggest -d '{"text": "the quick brown f", "k": 3}'
              quill serve --model de-en --host 0.0.0.0 --port 9000 --token "$(openssl rand -hex 16)"
            """)

    @Option(name: .customLong("model"), help: ArgumentHelp("A stored model to serve (repeat for more); requests "
        + "that name none get the first of their kind.", valueName: "name"))
    var models: [String] = []

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(parsing: .number, help: "The port to listen on (0: any free port, printed at start).")
    var port = 8080

    @Option(help: ArgumentHelp("Require `Authorization: Bearer TOKEN` on every request but /healthz.",
                               valueName: "token"))
    var token: String?

    @Flag(help: "Listen on a non-loopback --host without a --token.")
    var allowAnyone = false

    @Option(help: ArgumentHelp("Let pages from this origin (e.g. https://example.org, or * for any) call the API "
        + "from a browser (CORS; off by default).", valueName: "origin"))
    var allowOrigin: String?

    @Option(parsing: .number, help: "Typing sessions kept at most (the least recently used goes first).")
    var maxSessions = 256

    @Option(help: "Weights the language models step with: float32 or int8.")
    var precision: SteppingPrecision = .float32

    @Option(parsing: .number, help: ArgumentHelp("Requests of different clients stepped together at most "
        + "(1: each alone).", valueName: "n"))
    var maxBatch = 64

    @OptionGroup(title: "Suggestions")
    var choice: SuggestionOptions

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if models.isEmpty { throw ValidationError("give at least one --model to serve") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0…65535 (got \(port))") }
        if maxSessions < 1 { throw ValidationError("--max-sessions must be at least 1 (got \(maxSessions))") }
        if !(1...1024).contains(maxBatch) { throw ValidationError("--max-batch must be 1…1024 (got \(maxBatch))") }
        if let token, token.isEmpty { throw ValidationError("--token must not be empty") }
        if !QuillServer.Settings.isLoopback(host), token == nil, !allowAnyone {
            throw ValidationError("--host \(host) lets other machines in: give --token (clients then send "
                + "`Authorization: Bearer TOKEN`), or --allow-anyone to serve without one")
        }
    }

    func run(store: Store) throws {
        var options = ServedModels.Options()
        options.limits.sessions = maxSessions
        options.precision = precision.precision
        options.maxBatch = maxBatch
        options.mix = choice.ngram.named
        options.documentCache = choice.noDocumentCache ? nil : .default
        options.repeatsPassedOver = choice.repeatSuggestions
        let served = try ServedModels(store: store, models: models, options: options)
        var settings = QuillServer.Settings()
        settings.host = host
        settings.port = port
        settings.token = token
        settings.allowedOrigin = allowOrigin
        let (host, names) = (host, served.list.map { "\($0.name) (\($0.kind.rawValue))" })
        let app = QuillServer.application(models: served, settings: settings) { port in
            note("listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port)/ — "
                + names.joined(separator: ", "))
        }
        let done = DispatchSemaphore(value: 0)
        let failure = ErrorBox()
        Task {
            do { try await app.runService() } catch { failure.error = error }
            done.signal()
        }
        done.wait()
        if let error = failure.error { throw CLIError("the server stopped: \(error)") }
    }
}

/// The server task's error, read after it ends.
private final class ErrorBox: @unchecked Sendable {
    var error: (any Error)?
}
