import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import Quill

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
        router.get("healthz") { _, _ in
            try json(Health(status: "ok", models: models.list.count, sessions: models.sessionCount))
        }
        router.get("readyz") { _, _ in
            try json(Health(status: "ready", models: models.list.count, sessions: models.sessionCount))
        }
        router.get("v1/models") { _, _ in try json(ServedModelList(models: models.list)) }
        router.get("/") { _, _ in content(ByteBuffer(string: WebPage.html), type: "text/html") }
        router.get("metrics") { _, _ in
            content(ByteBuffer(bytes: registry.emitToBuffer()), type: "text/plain; version=0.0.4")
        }
        router.get("openapi.json") { _, _ in content(ByteBuffer(string: OpenAPIDocument.json), type: "application/json") }
        router.post("v1/suggest") { request, context in
            let body = try await request.decode(as: SuggestRequest.self, context: context)
            return try json(try await models.suggest(body))
        }
        router.post("v1/translate") { request, context in
            let body = try await request.decode(as: TranslateRequest.self, context: context)
            return try json(try await models.translate(body))
        }
        var configuration = ApplicationConfiguration(address: .hostname(settings.host, port: settings.port),
                                                     serverName: "quill")
        configuration.reuseAddress = true
        var logger = Logger(label: "quill.serve")
        logger.logLevel = .warning
        return Application(router: router, configuration: configuration, onServerRunning: { channel in
            await onListening(channel.localAddress?.port ?? settings.port)
        }, logger: logger)
    }

    /// A JSON response, encoded as the CLI's JSON Lines are.
    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return content(ByteBuffer(bytes: try encoder.encode(value)), type: "application/json")
    }

    /// A 200 response of UTF-8 text of a media type.
    static func content(_ body: ByteBuffer, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: "\(type); charset=utf-8"], body: ResponseBody(byteBuffer: body))
    }
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
