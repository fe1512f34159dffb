import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import Quill
import Synchronization

/// `quill serve`: the HTTP application over ``ServedModels``. The `Quill` library has no networking; this module is
/// all of it (docs/serve.md).
public enum QuillServer {
    /// Where and for whom the server listens.
    public struct Settings: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port (reported to `onListening`).
        public var port = 8080
        /// When set, every request but `/healthz` must carry `Authorization: Bearer <token>` (else 401).
        public var token: String?
        /// Browsers let pages from this origin (or from any, `*`) call the API; nil (the default): no CORS headers,
        /// so only pages the server itself serves can.
        public var allowedOrigin: String?
        /// A request body must arrive within this many seconds (else 408).
        public var bodyDeadline: Double = 10
        /// A connection idle this long between requests is closed.
        public var idleTimeout: TimeAmount = .seconds(60)
        public init() {}

        /// Whether `host` is a loopback address, reachable from this machine only.
        public static func isLoopback(_ host: String) -> Bool {
            host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }
    }

    /// The application serving `models`; run it with `runService()` (SIGINT and SIGTERM shut it down gracefully:
    /// requests in flight finish). `onListening` is called with the bound port once it listens.
    public static func application(models: ServedModels, settings: Settings,
                                   onListening: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol {
        let router = Router(context: ServerContext.self)
        let registry = ServerMetrics.registry
        router.addMiddleware {
            MetricsMiddleware()
            if let origin = settings.allowedOrigin {
                CORSMiddleware<ServerContext>(allowOrigin: origin == "*" ? .all : .custom(origin))
            }
            ProblemMiddleware()
            if let token = settings.token { BearerTokenMiddleware(token: token) }
        }
        @Sendable func health(_ status: String) -> Health {
            Health(status: status, models: models.list.count, sessions: models.sessionCount,
                   generations: models.liveGenerations)
        }
        let deadline = settings.bodyDeadline
        /// A POST whose JSON body `handle` answers with a JSON value.
        func post<Body: Decodable & Sendable>(_ path: RouterPath, _ handle: @escaping @Sendable (Body) async throws
            -> some Encodable) {
            router.post(path) { request, context in
                try json(try await handle(try await receive(Body.self, from: request, context: context,
                                                            within: deadline)))
            }
        }
        router.get("healthz") { _, _ in try json(health("ok")) }
        router.get("readyz") { _, _ in try json(health("ready")) }
        router.get("v1/models") { _, _ in try json(ServedModelList(models: models.list)) }
        router.get("/") { _, _ in content(ByteBuffer(string: WebPage.html), type: "text/html") }
        router.get("metrics") { _, _ in
            content(ByteBuffer(bytes: registry.emitToBuffer()), type: "text/plain; version=0.0.4")
        }
        router.get("openapi.json") { _, _ in content(ByteBuffer(string: OpenAPIDocument.json), type: "application/json") }
        post("v1/suggest", models.suggest)
        post("v1/next", models.next)
        post("v1/score", models.score)
        router.post("v1/generate") { request, context in
            let generation = try await receive(GenerateRequest.self, from: request, context: context, within: deadline)
            let events = try await models.generate(generation)
            guard generation.stream == true else {
                for await case let .done(result) in events { return try json(result) }
                throw CancellationError()
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8",
                                                   .cacheControl: "no-cache"],
                            body: ResponseBody { writer in
                                // A write to a client that went away throws: leaving the loop ends the stream,
                                // which stops the generation before its next step.
                                for await event in events { try await writer.write(try serverSentEvent(event)) }
                                try await writer.finish(nil)
                            })
        }
        post("v1/translate", models.translate)
        post("v1/embed", models.embed)
        post("v1/anomaly", models.anomalies)
        var configuration = ApplicationConfiguration(address: .hostname(settings.host, port: settings.port),
                                                     serverName: "quill")
        configuration.reuseAddress = true
        var logger = Logger(label: "quill.serve")
        logger.logLevel = .warning
        return Application(router: router, server: .http1(configuration: .init(idleTimeout: settings.idleTimeout)),
                           configuration: configuration, onServerRunning: { channel in
            await onListening(channel.localAddress?.port ?? settings.port)
        }, logger: logger)
    }

    /// A request's JSON body, received within `seconds`: a client that sends its body too slowly gets 408 (and the
    /// connection is closed) rather than holding the request open. It never holds the models: they see only
    /// complete requests. The wait is a race, not a task group, which would wait for a body read that may never end.
    static func receive<T: Decodable & Sendable>(_ type: T.Type, from request: Request, context: ServerContext,
                                                 within seconds: Double) async throws -> T {
        let first = FirstOnly()
        let timer = TaskHandle()
        return try await withCheckedThrowingContinuation { continuation in
            let decoding = Task {
                do {
                    let body = try await request.decode(as: type, context: context)
                    if first.claim() { continuation.resume(returning: body) }
                } catch {
                    if first.claim() { continuation.resume(throwing: error) }
                }
                timer.cancel()  // else every request would leave a sleeping task behind for `seconds`
            }
            timer.set(Task {
                try? await Task.sleep(for: .seconds(seconds))
                guard first.claim() else { return }
                decoding.cancel()
                continuation.resume(throwing: HTTPError(.requestTimeout, headers: [.connection: "close"],
                                                        message: "the request body did not arrive within \(seconds) s"))
            })
        }
    }

    /// One server-sent event: `event: token` with a ``GeneratedToken``, or `event: done` with the ``Generation``.
    static func serverSentEvent(_ event: GenerationEvent) throws -> ByteBuffer {
        let (name, data): (String, Data)
        switch event {
        case let .token(token): (name, data) = ("token", try encoded(token))
        case let .done(generation): (name, data) = ("done", try encoded(generation))
        }
        return ByteBuffer(string: "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n")
    }

    /// A JSON response, encoded as the CLI's JSON Lines are.
    static func json(_ value: some Encodable) throws -> Response {
        content(ByteBuffer(bytes: try encoded(value)), type: "application/json")
    }

    /// JSON as the CLI's JSON Lines print it: keys sorted, slashes plain.
    static func encoded(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// A 200 response of UTF-8 text of a media type.
    static func content(_ body: ByteBuffer, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: "\(type); charset=utf-8"], body: ResponseBody(byteBuffer: body))
    }
}

/// A task set after the code that may cancel it was written (the body's reader cancels the timer started after it).
final class TaskHandle: Sendable {
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let cancelled = Atomic<Bool>(false)

    func set(_ task: Task<Void, Never>) {
        self.task.withLock { $0 = task }
        if cancelled.load(ordering: .acquiring) { task.cancel() }
    }

    func cancel() {
        cancelled.store(true, ordering: .releasing)
        task.withLock { $0?.cancel() }
    }
}

/// Lets one of several racing tasks through.
final class FirstOnly: Sendable {
    private let taken = Atomic<Bool>(false)
    func claim() -> Bool { !taken.exchange(true, ordering: .acquiringAndReleasing) }
}

/// Request counts and latency histograms (Hummingbird's `MetricsMiddleware` through swift-metrics) in Prometheus's
/// registry, which `/metrics` prints. The process's metrics system is bootstrapped once, on first use.
enum ServerMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Latency buckets from 100 µs to 10 s: a keystroke's suggestions take well under a millisecond.
        factory.defaultDurationHistogramBuckets = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000,
                                                   100_000, 250_000, 1_000_000, 10_000_000].map { .microseconds($0) }
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}

/// The request context: request bodies over 1 MiB are refused with 413 (the longest text a request may carry is
/// ``ServedModels/Limits/textBytes``).
struct ServerContext: RequestContext {
    static let maxBodyBytes = 1 << 20
    var coreContext: CoreRequestContextStorage
    init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
    var maxUploadSize: Int { Self.maxBodyBytes }
}

/// Turns every failure into a JSON error `{"error": {"message": …}}` with a 4xx status for the client's mistakes
/// (400 invalid, 404 unknown, 413 too large) and 500 for the server's, never a dropped connection.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = ServerContext

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as RequestProblem {
            throw HTTPError(problem.kind == .notFound ? .notFound : .badRequest, message: problem.message)
        } catch let error as any HTTPResponseError {
            guard error.status == .contentTooLarge else { throw error }
            throw HTTPError(.contentTooLarge, message: "the request body is over the server's limit of "
                + "\(context.maxUploadSize) bytes")
        } catch let error as TextError {
            throw HTTPError(.badRequest, message: "\(error)")
        } catch {
            context.logger.error("request \(request.uri.path) failed: \(error)")
            throw HTTPError(.internalServerError, message: "the server failed: \(error)")
        }
    }
}

/// Lets in only requests that carry the server's token (`--token`); `/healthz` stays open for probes.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = ServerContext
    let token: String

    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path == "/healthz" || request.headers[.authorization] == "Bearer \(token)" else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"],
                            message: "this server needs `Authorization: Bearer <token>` (the token of quill serve --token)")
        }
        return try await next(request, context)
    }
}
