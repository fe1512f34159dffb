import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Quill
import QuillServer
import QuillTestSupport
import Testing

/// `quill serve`'s application on a free loopback port, spoken to over real HTTP.
@Suite struct ServerTests {
    /// A store with a random word model `m` over a small vocabulary, and a tiny translation model `de-en` trained
    /// for an epoch on a few sentence pairs.
    static func store(in directory: URL) throws -> Store {
        let store = try languageModelStore(in: directory)
        // The demo's model (scripts/demo.sh) by name, over the embedded corpus's vocabulary, random weights.
        let (demo, _) = try store.buildVocabulary(
            corpus: TestSupport.packageRoot.appendingPathComponent("corpora/default/train.txt").path, name: "default")
        let lstm = try LanguageModel(.init(kind: .lstm, vocabulary: demo.count, embedding: 8, hidden: 8, layers: 1))
        var rng = RNG(seed: 5)
        lstm.parameters.initialize(.uniform(scale: 0.1), rng: &rng)
        try store.saveLanguageModel(lstm, name: "default-lstm", vocabulary: "default")
        // A sequence autoencoder `ae`: the German side on both sides, one vocabulary.
        let lines = directory.appendingPathComponent("train.de").path
        var autoencoder = TranslationTraining(source: lines, target: lines, name: "ae")
        autoencoder.jointVocabulary = true
        autoencoder.attention = false
        (autoencoder.embedding, autoencoder.hidden, autoencoder.layers, autoencoder.batch, autoencoder.epochs) =
            (8, 8, 1, 8, 1)
        _ = try autoencoder.run(in: store)
        return store
    }

    static func languageModelStore(in directory: URL) throws -> Store {
        let corpus = directory.appendingPathComponent("corpus.txt")
        try "the cat sat on the mat\nthe cat ate the rat\n".write(to: corpus, atomically: true, encoding: .utf8)
        let store = try Store(path: directory.appendingPathComponent("s.sqlite").path)
        let (vocabulary, _) = try store.buildVocabulary(corpus: corpus.path, name: "v")
        let model = try LanguageModel(.init(kind: .gru, vocabulary: vocabulary.count, embedding: 8, hidden: 8,
                                            layers: 1))
        var rng = RNG(seed: 3)
        model.parameters.initialize(.uniform(scale: 0.5), rng: &rng)
        try store.saveLanguageModel(model, name: "m", vocabulary: "v")

        let german = ["ein", "hund", "rennt", "die", "katze", "schläft"], english = ["a", "dog", "runs", "the", "cat",
                                                                                  "sleeps"]
        var source = "", target = ""
        for i in 0..<24 {
            let picks = (0..<(2 + i % 3)).map { ($0 * 5 + i * 3) % german.count }
            source += picks.map { german[$0] }.joined(separator: " ") + "\n"
            target += picks.map { english[$0] }.joined(separator: " ") + "\n"
        }
        let s = directory.appendingPathComponent("train.de").path, t = directory.appendingPathComponent("train.en").path
        try source.write(toFile: s, atomically: true, encoding: .utf8)
        try target.write(toFile: t, atomically: true, encoding: .utf8)
        var training = TranslationTraining(source: s, target: t, name: "de-en")
        (training.embedding, training.hidden, training.layers, training.batch, training.epochs) = (8, 8, 1, 8, 1)
        _ = try training.run(in: store)
        return store
    }

    struct Reply {
        var status: Int
        var body: Data
        var allowOrigin: String?
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    /// A running server: its port, its models, and requests to it.
    struct Client: Sendable {
        var port: Int
        var served: ServedModels
        var request: @Sendable (_ method: String, _ path: String, _ body: Data?, _ headers: [String: String])
            async throws -> Reply

        func post(_ path: String, _ body: [String: Any]) async throws -> Reply {
            try await request("POST", path, ServerTests.json(body), [:])
        }
    }

    /// Runs `body` against a server of `models` (with `settings`), then stops it.
    static func withServer(models: [String], options: ServedModels.Options = .init(),
                           settings: QuillServer.Settings = .init(),
                           _ body: @Sendable (_ request: @Sendable (String, String, Data?, [String: String]) async throws -> Reply) async throws -> Void)
        async throws {
        try await withClient(models: models, options: options, settings: settings) { try await body($0.request) }
    }

    /// Runs `body` with a client of a server of `models` (with `settings`), then stops it.
    static func withClient(models: [String], options: ServedModels.Options = .init(),
                           settings: QuillServer.Settings = .init(), _ body: @Sendable (Client) async throws -> Void)
        async throws {
        let directory = try TemporaryDirectory(prefix: "quill-serve")
        defer { withExtendedLifetime(directory) {} }
        let served = try ServedModels(store: try store(in: directory.url), models: models, options: options)
        var settings = settings
        settings.port = 0
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let app = QuillServer.application(models: served, settings: settings) { port in listening.yield(port) }
        let server = Task { try await app.run() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        try await body(Client(port: port, served: served) { method, path, payload, headers in
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.httpBody = payload
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = response as! HTTPURLResponse
            return Reply(status: http.statusCode, body: data,
                         allowOrigin: http.value(forHTTPHeaderField: "Access-Control-Allow-Origin"))
        })
    }

    static func json(_ object: [String: Any]) -> Data { try! JSONSerialization.data(withJSONObject: object) }

    /// JSON with its keys sorted, to compare two encodings of one value.
    static func canonical(_ data: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: data),
              let sorted = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "" }
        return String(decoding: sorted, as: UTF8.self)
    }

    @Test func healthAndModels() async throws {
        try await Self.withServer(models: ["m"]) { request in
            let health = try await request("GET", "/healthz", nil, [:])
            #expect(health.status == 200 && health.json["status"] as? String == "ok")
            let list = try await request("GET", "/v1/models", nil, [:])
            let models = try #require(list.json["models"] as? [[String: Any]])
            #expect(models.count == 1 && models[0]["name"] as? String == "m"
                && models[0]["kind"] as? String == "language-model" && models[0]["vocabulary"] as? String == "v")
        }
    }

    /// The server's suggestions are the library's for the same text and weights, with or without a session, and a
    /// session is kept.
    @Test(arguments: [Stepper.Precision.float32, .int8])
    func suggestionsAreTheLibrarysOwn(precision: Stepper.Precision) async throws {
        let library = try ModelRequestTests.Library()
        let (model, vocabulary) = try withExtendedLifetime(library) { try library.store.loadStreamLanguageModel(named: "m") }
        let completer = try Autocompleter(model: model, vocabulary: vocabulary, precision: precision)
        completer.k = 3
        let reference = Self.canonical(try JSONEncoder().encode(try completer.suggestions(for: "the cat s")))
        var options = ServedModels.Options()
        options.precision = precision
        try await Self.withServer(models: ["m"], options: options) { request in
            for session in [nil, "typing-1", "typing-1"] as [String?] {
                var body: [String: Any] = ["text": "the cat s", "k": 3]
                if let session { body["session"] = session }
                let reply = try await request("POST", "/v1/suggest", Self.json(body), [:])
                #expect(reply.status == 200)
                #expect(Self.canonical(reply.body) == reference)
            }
            let health = try await request("GET", "/healthz", nil, [:])
            #expect(health.json["sessions"] as? Int == 1)
        }
    }

    /// A translation is the library's, attention included; two lines or a bad beam are refused.
    @Test func translationsAreTheLibrarysOwn() async throws {
        let library = try ModelRequestTests.Library()
        let system = try withExtendedLifetime(library) { try TranslationSystem(store: library.store, model: "de-en") }
        var options = Translator.Options(beam: 3, nbest: 2)
        options.attention = true
        let reference = Self.canonical(try JSONEncoder().encode(try system.translate(["ein hund rennt"],
                                                                                     options: options)[0]))
        try await Self.withServer(models: ["m", "de-en"]) { request in
            let reply = try await request("POST", "/v1/translate", Self.json(["model": "de-en", "text": "ein hund rennt",
                                                                              "beam": 3, "nbest": 2,
                                                                              "attention": true]), [:])
            #expect(reply.status == 200 && Self.canonical(reply.body) == reference)
            let first = try await request("POST", "/v1/translate", Self.json(["text": "ein hund rennt", "beam": 3,
                                                                              "nbest": 2, "attention": true]), [:])
            #expect(Self.canonical(first.body) == reference)  // the first translation model served
            let twoLines = try await request("POST", "/v1/translate", Self.json(["text": "ein\nhund"]), [:])
            let badBeam = try await request("POST", "/v1/translate", Self.json(["text": "ein", "beam": 0]), [:])
            let badNBest = try await request("POST", "/v1/translate", Self.json(["text": "ein", "nbest": 9]), [:])
            let wrongKind = try await request("POST", "/v1/suggest", Self.json(["text": "a", "model": "de-en"]), [:])
            #expect((twoLines.status, badBeam.status, badNBest.status, wrongKind.status) == (400, 400, 400, 400))
            let models = try #require(try await request("GET", "/v1/models", nil, [:]).json["models"] as? [[String: Any]])
            #expect(models.map { $0["kind"] as? String } == ["language-model", "translation"])
            #expect(models[1]["targetVocabulary"] as? String == "de-en.target")
        }
    }

    /// The client's mistakes get a 4xx and a JSON error naming them; the server goes on serving.
    @Test func badRequestsGetClearErrors() async throws {
        try await Self.withServer(models: ["m"]) { request in
            let cases: [(Data, Int, String)] = [
                (Data("{not json".utf8), 400, "not valid"),
                (Self.json(["k": 3]), 400, "text"),
                (Self.json(["text": "the", "model": "nope"]), 404, "no model 'nope'"),
                (Self.json(["text": "the", "k": 0]), 400, "k must be"),
                (Self.json(["text": "the", "session": "a b"]), 400, "session must be"),
                (Data(#"{"text": "\#(String(repeating: "a", count: 70_000))"}"#.utf8), 400, "limit"),
                (Data(repeating: 32, count: (1 << 20) + 100), 413, "over the server's limit"),
            ]
            for (payload, status, words) in cases {
                let reply = try await request("POST", "/v1/suggest", payload, [:])
                #expect(reply.status == status)
                let message = (reply.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains(words), "\(message)")
            }
            let translate = try await request("POST", "/v1/translate", Self.json(["text": "the cat"]), [:])
            let health = try await request("GET", "/healthz", nil, [:])
            #expect(translate.status == 404 && health.status == 200)
        }
    }

    /// An n-gram model alone is not served, and the error says so before the server starts.
    @Test func anNGramModelIsRefusedAtStart() throws {
        try withTemporaryDirectory { directory in
            let store = try Self.store(in: directory)
            _ = try store.trainNGramModel(corpus: directory.appendingPathComponent("corpus.txt").path, vocabulary: "v",
                                          order: 2, model: "ng")
            #expect(throws: NotServable(model: "ng", kind: Store.ngramKind)) {
                try ServedModels(store: store, models: ["m", "ng"])
            }
        }
    }

    /// Every operation of `/openapi.json` has an example request; each, sent as it is, gets a 200 whose body the
    /// operation's schema accepts.
    @Test func everyExampleOfTheDocumentWorks() async throws {
        try await Self.withServer(models: ["default-lstm", "de-en", "ae"]) { request in
            let reply = try await request("GET", "/openapi.json", nil, [:])
            let document = try #require(try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            #expect(Set(paths.keys) == ["/healthz", "/readyz", "/v1/models", "/v1/suggest", "/v1/next", "/v1/score",
                                        "/v1/generate", "/v1/translate", "/v1/embed", "/v1/anomaly"])
            for (path, operations) in paths.sorted(by: { $0.key < $1.key }) {
                for (method, operation) in operations {
                    let operation = try #require(operation as? [String: Any])
                    var body: Data?
                    if let content = (operation["requestBody"] as? [String: Any])?["content"] as? [String: Any] {
                        let example = try #require((content["application/json"] as? [String: Any])?["example"],
                                                   "\(method) \(path) has no example")
                        body = try JSONSerialization.data(withJSONObject: example)
                    }
                    let reply = try await request(method.uppercased(), path, body, [:])
                    #expect(reply.status == 200, "\(method) \(path): \(String(decoding: reply.body, as: UTF8.self))")
                    let responses = try #require(operation["responses"] as? [String: Any])
                    let ok = try #require(responses["200"] as? [String: Any])
                    let schema = try #require(((ok["content"] as? [String: Any])?["application/json"]
                        as? [String: Any])?["schema"])
                    let value = try JSONSerialization.jsonObject(with: reply.body)
                    let problems = SchemaCheck(document: document).problems(of: value, against: schema, at: path)
                    #expect(problems.isEmpty, "\(method) \(path): \(problems)")
                }
            }
        }
    }

    /// The check above can fail: it finds a missing field, a wrong type, a value outside an enum, an unexpected key.
    @Test func theSchemaCheckFindsWhatIsWrong() throws {
        let body = Data(OpenAPIDocument.json.utf8)
        let document = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let check = SchemaCheck(document: document)
        let suggestions: [String: Any] = ["text": "a", "continuation": "", "suggestions": [["token": " b",
                                                                                          "completion": "b",
                                                                                          "probability": "high"]]]
        #expect(check.problems(of: suggestions, against: ["$ref": "#/components/schemas/Suggestions"], at: "$")
            == ["$: no prefix", "$.suggestions[0].probability: not a number"])
        let model: [String: Any] = ["name": "m", "kind": "ngram", "storedKind": "kn", "vocabulary": "v",
                                    "vocabularySize": 2.5]
        #expect(Set(check.problems(of: model, against: ["$ref": "#/components/schemas/ServedModel"], at: "$"))
            == ["$.kind: ngram is not one of [\"language-model\", \"translation\"]", "$.vocabularySize: not an integer"])
        #expect(check.problems(of: ["text": "a", "beam": 2, "temperature": 1], against: [
            "$ref": "#/components/schemas/TranslateRequest"], at: "$") == ["$: unexpected temperature"])
    }

    /// `/metrics` counts requests by endpoint and status, with latency histograms, in Prometheus's text format.
    @Test func metricsCountRequests() async throws {
        try await Self.withServer(models: ["m"]) { request in
            for _ in 0..<3 { _ = try await request("POST", "/v1/suggest", Self.json(["text": "the cat"]), [:]) }
            _ = try await request("POST", "/v1/suggest", Self.json(["text": "the", "k": 99]), [:])
            let reply = try await request("GET", "/metrics", nil, [:])
            let text = String(decoding: reply.body, as: UTF8.self)
            let lines = text.split(separator: "\n").filter { $0.hasPrefix("hb_requests{") && $0.contains("/v1/suggest") }
            #expect(reply.status == 200)
            #expect(lines.contains { $0.contains("\"200\"") && Double($0.split(separator: " ").last!)! >= 3 }, "\(lines)")
            #expect(lines.contains { $0.contains("\"400\"") }, "\(lines)")
            let durations = text.split(separator: "\n").filter {
                $0.hasPrefix("http_server_request_duration_count{") && $0.contains("/v1/suggest") && $0.contains("\"200\"")
            }
            #expect(durations.count == 1 && Double(durations[0].split(separator: " ").last!)! >= 3, "\(durations)")
        }
    }

    /// CORS is off unless an origin is allowed; then preflights and requests carry it.
    @Test func browsersFromOtherOriginsOnlyWhenAllowed() async throws {
        let origin = ["Origin": "https://example.org"]
        try await Self.withServer(models: ["m"]) { request in
            let reply = try await request("GET", "/v1/models", nil, origin)
            #expect(reply.status == 200 && reply.allowOrigin == nil)
        }
        var settings = QuillServer.Settings()
        settings.allowedOrigin = "https://example.org"
        try await Self.withServer(models: ["m"], settings: settings) { request in
            let plain = try await request("GET", "/v1/models", nil, origin)
            let preflight = try await request("OPTIONS", "/v1/suggest", nil, origin.merging([
                "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"]) { a, _ in a })
            #expect(plain.status == 200 && plain.allowOrigin == "https://example.org")
            #expect(preflight.status < 300 && preflight.allowOrigin == "https://example.org")
        }
    }

    @Test func aTokenKeepsOthersOut() async throws {
        var settings = QuillServer.Settings()
        settings.token = "s3cret"
        try await Self.withServer(models: ["m"], settings: settings) { request in
            let body = Self.json(["text": "the"])
            let none = try await request("POST", "/v1/suggest", body, [:])
            let wrong = try await request("POST", "/v1/suggest", body, ["Authorization": "Bearer wrong"])
            let right = try await request("POST", "/v1/suggest", body, ["Authorization": "Bearer s3cret"])
            let health = try await request("GET", "/healthz", nil, [:])
            #expect((none.status, wrong.status, right.status, health.status) == (401, 401, 200, 200))
        }
        #expect(QuillServer.Settings.isLoopback("127.0.0.1") && !QuillServer.Settings.isLoopback("0.0.0.0"))
    }
}

/// The part of JSON Schema the document uses: `$ref` into the document, `type`, `properties`, `required`,
/// `additionalProperties: false`, `items`, `enum`. Returns what does not match, with where.
struct SchemaCheck {
    let document: [String: Any]

    func problems(of value: Any, against schema: Any, at place: String) -> [String] {
        guard var schema = schema as? [String: Any] else { return ["\(place): the schema is not an object"] }
        if let reference = schema["$ref"] as? String {
            var target: Any? = document
            for part in reference.dropFirst(2).split(separator: "/") { target = (target as? [String: Any])?[String(part)] }
            guard let resolved = target as? [String: Any] else { return ["\(place): no \(reference)"] }
            schema = resolved
        }
        var found: [String] = []
        if let allowed = schema["enum"] as? [String], !allowed.contains(value as? String ?? "\u{0}") {
            found.append("\(place): \(value) is not one of \(allowed)")
        }
        switch schema["type"] as? String {
        case "object":
            guard let object = value as? [String: Any] else { return ["\(place): not an object"] }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                found.append("\(place): no \(key)")
            }
            for (key, item) in object {
                if let property = properties[key] {
                    found += problems(of: item, against: property, at: "\(place).\(key)")
                } else if schema["additionalProperties"] as? Bool == false {
                    found.append("\(place): unexpected \(key)")
                }
            }
        case "array":
            guard let array = value as? [Any] else { return ["\(place): not an array"] }
            if let items = schema["items"] {
                for (i, item) in array.enumerated() { found += problems(of: item, against: items, at: "\(place)[\(i)]") }
            }
        case "string": if !(value is String) { found.append("\(place): not a string") }
        case "boolean": if !(value is Bool) { found.append("\(place): not a boolean") }
        case "integer": if (value as? NSNumber).map({ $0.doubleValue == $0.doubleValue.rounded() }) != true {
            found.append("\(place): not an integer")
        }
        case "number": if !(value is NSNumber) { found.append("\(place): not a number") }
        default: break
        }
        return found
    }
}
