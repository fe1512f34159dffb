import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Quill
import QuillServer
import QuillTestSupport
import Testing

/// The requests that step a language model (`next`, `score`, `generate`) and the autoencoder's (`embed`, `anomaly`):
/// each answer is the library's own, whether a request is stepped alone or with other clients'.
/// One test at a time: two of them watch timings (a stream noticed gone, a body timed out) that a generation running
/// beside them on the same cores would blur.
@Suite(.serialized) struct ModelRequestTests {
    typealias Client = ServerTests.Client

    /// The library's side of the comparisons: the test store's models, loaded as the CLI loads them.
    final class Library: @unchecked Sendable {
        let store: Store
        private let directory: TemporaryDirectory
        init() throws {
            directory = try TemporaryDirectory(prefix: "quill-serve-lib")
            store = try ServerTests.store(in: directory.url)
        }

        func predictor(_ task: Predictor.Task, k: Int = 10, model: String = "default-lstm") throws -> Predictor {
            let (lm, vocabulary) = try store.loadStreamLanguageModel(named: model)
            return try Predictor(model: lm, vocabulary: vocabulary, options: .init(task: task, suggestions: k))
        }

        func generation(_ prompt: String, _ options: DecodingOptions) throws -> Generation {
            let (lm, vocabulary) = try store.loadStreamLanguageModel(named: "default-lstm")
            return try lm.generate(prompt, vocabulary: vocabulary, options: options)
        }
    }

    static func encoded(_ value: some Encodable) throws -> String {
        ServerTests.canonical(try JSONEncoder().encode(value))
    }

    static let texts = ["The old fisherman", "Dear Lily,", "It was", "She looked at the", "and then", "\"Come",
                        "The sea was calm and", "He said"]

    @Test func nextTokensAndScoresAreThePredictorsOwn() async throws {
        let library = try Library()
        let next = try library.predictor(.next, k: 4), score = try library.predictor(.score)
        let texts = Array(Self.texts.prefix(3)), lines = Array(Self.texts.prefix(4))
        let nextTokens = try texts.map { try Self.encoded(next.predict([(1, $0)])[0]) }
        let scores = try Self.encoded(Scores(scores: score.predict(lines.enumerated().map {
            ($0.offset + 1, $0.element) })))
        try await ServerTests.withClient(models: ["default-lstm"]) { client in
            for (text, expected) in zip(texts, nextTokens) {
                let reply = try await client.post("/v1/next", ["text": text, "k": 4])
                #expect(reply.status == 200)
                #expect(ServerTests.canonical(reply.body) == expected)
            }
            let reply = try await client.post("/v1/score", ["lines": lines])
            #expect(ServerTests.canonical(reply.body) == scores)
            let empty = try await client.post("/v1/score", ["lines": [String]()])
            let broken = try await client.post("/v1/next", ["text": "two\nlines"])
            let many = try await client.post("/v1/score", ["lines": Array(repeating: "a", count: 257)])
            #expect((empty.status, broken.status, many.status) == (400, 400, 400))
        }
    }

    /// Requests that arrive together are stepped together (one batched step reads the weights once for all), and
    /// each answer is still the one it gets alone. With `maxBatch` 1 each is stepped alone.
    @Test(arguments: [64, 1])
    func concurrentRequestsAreSteppedTogether(maxBatch: Int) async throws {
        let library = try Library()
        let next = try library.predictor(.next, k: 3)
        let expected = try Self.texts.map { try next.predict([(1, $0)])[0] }
        var options = ServedModels.Options()
        options.maxBatch = maxBatch
        try await ServerTests.withClient(models: ["default-lstm"], options: options) { client in
            for _ in 0..<3 {
                let replies = try await withThrowingTaskGroup(of: (Int, Data).self) { group in
                    for (i, text) in Self.texts.enumerated() {
                        group.addTask { (i, try await client.post("/v1/next", ["text": text, "k": 3]).body) }
                    }
                    return try await group.reduce(into: [Int: Data]()) { $0[$1.0] = $1.1 }
                }
                for (i, prediction) in expected.enumerated() {
                    let served = try JSONDecoder().decode(Predictor.Prediction.self, from: replies[i]!)
                    guard case let .suggestions(_, got) = served.outcome,
                          case let .suggestions(_, want) = prediction.outcome else {
                        Issue.record("not suggestions: \(served)")
                        continue
                    }
                    #expect(got.map(\.token) == want.map(\.token))
                    for (a, b) in zip(got, want) { #expect(abs(a.probability - b.probability) < 1e-6) }
                }
            }
            if maxBatch == 1 {
                #expect(client.served.largestBatch == 1)
            } else {
                #expect(client.served.largestBatch > 1, "concurrent requests were never stepped together")
            }
        }
    }

    /// A generation is `quill generate`'s: greedy, sampled with a seed, and a beam search; streamed, its token events
    /// add up to the same text, ended by a `done` event carrying the generation.
    @Test func generationsAreTheLibrarysOwn() async throws {
        let library = try Library()
        try await ServerTests.withClient(models: ["default-lstm"]) { client in
            let cases: [[String: Any]] = [["maxTokens": 12], ["maxTokens": 12, "temperature": 0.9, "seed": 7],
                                          ["maxTokens": 12, "temperature": 1.2, "topK": 20, "topP": 0.9, "seed": 3],
                                          ["maxTokens": 6, "beam": 3]]
            for parameters in cases {
                let decoding = DecodingOptions(temperature: parameters["temperature"] as? Double ?? 0,
                                               topK: parameters["topK"] as? Int,
                                               topP: parameters["topP"] as? Double ?? 1,
                                               beamWidth: parameters["beam"] as? Int ?? 1,
                                               seed: UInt64(parameters["seed"] as? Int ?? 1),
                                               maxTokens: parameters["maxTokens"] as! Int)
                let expected = try library.generation("The old fisherman", decoding)
                var body = parameters
                body["prompt"] = "The old fisherman"
                let reply = try await client.post("/v1/generate", body)
                #expect(reply.status == 200)
                let served = try JSONDecoder().decode(Generation.self, from: reply.body)
                #expect(served.text == expected.text && served.generated == expected.generated, "\(parameters)")
                #expect(abs(served.logProbability - expected.logProbability) < 1e-6)

                body["stream"] = true
                let streamed = try await client.post("/v1/generate", body)
                let events = Self.events(streamed.body)
                #expect(events.last?.name == "done")
                let tokens = try events.dropLast().map { try JSONDecoder().decode(GeneratedToken.self, from: $0.data) }
                #expect(tokens.map(\.text).joined() == expected.text && tokens.count == expected.generated)
                #expect(tokens.map(\.index) == Array(0..<tokens.count))
                let done = try JSONDecoder().decode(Generation.self, from: try #require(events.last).data)
                #expect(done == served)
            }
            for bad in [["prompt": "a", "maxTokens": 0], ["prompt": "a", "temperature": -1],
                        ["prompt": "a", "topP": 0], ["prompt": "a", "beam": 99], ["prompt": "a\nb"]] as [[String: Any]] {
                #expect(try await client.post("/v1/generate", bad).status == 400, "\(bad)")
            }
        }
    }

    /// Generations of different clients are stepped together and each is the one it would be alone.
    @Test func concurrentGenerationsAreSteppedTogether() async throws {
        let library = try Library()
        let seeds = Array(1...8)
        let expected = try seeds.map {
            try library.generation(Self.texts[$0 % Self.texts.count],
                                   DecodingOptions(temperature: 0.8, seed: UInt64($0), maxTokens: 16))
        }
        try await ServerTests.withClient(models: ["default-lstm"]) { client in
            let served = try await withThrowingTaskGroup(of: (Int, Generation).self) { group in
                for (i, seed) in seeds.enumerated() {
                    group.addTask {
                        let reply = try await client.post("/v1/generate", [
                            "prompt": Self.texts[seed % Self.texts.count], "temperature": 0.8, "seed": seed,
                            "maxTokens": 16])
                        return (i, try JSONDecoder().decode(Generation.self, from: reply.body))
                    }
                }
                return try await group.reduce(into: [Int: Generation]()) { $0[$1.0] = $1.1 }
            }
            for (i, generation) in expected.enumerated() {
                #expect(served[i]?.text == generation.text, "seed \(seeds[i])")
            }
            #expect(client.served.largestBatch > 1, "concurrent generations were never stepped together")
            #expect(client.served.generatedTokens == expected.map(\.generated).reduce(0, +))
        }
    }

    /// A streaming client that goes away stops its generation: the worker drops it before its next step, long
    /// before its token budget.
    @Test func aClientThatGoesAwayStopsItsGeneration() async throws {
        // A budget no run reaches in a test's time: only the client's going can end the generation. (Other suites'
        // synchronous work can hold Swift's cooperative threads, where the server notices the closed connection,
        // for seconds; the model thread meanwhile goes on.)
        var options = ServedModels.Options()
        options.limits.generatedTokens = 1_000_000
        try await ServerTests.withClient(models: ["default-lstm"], options: options) { client in
            // Greedy from this model never ends a line, so only the budget or the client ends it.
            let probe = try await client.post("/v1/generate", ["prompt": "The", "maxTokens": 300])
            try #require(try JSONDecoder().decode(Generation.self, from: probe.body).generated == 300)
            let before = client.served.generatedTokens
            let connection = try RawConnection(port: client.port)
            let body = #"{"prompt": "The", "maxTokens": 1000000, "stream": true}"#
            try connection.send("POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(connection.receive(timeout: 60, until: "event: token").contains("event: token"))
            connection.close()
            let deadline = Date().addingTimeInterval(60)
            while client.served.liveGenerations > 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(client.served.liveGenerations == 0)
            #expect(client.served.abandonedGenerations == 1)
            #expect(client.served.generatedTokens - before < 1_000_000, "the generation ran to its end")
        }
    }

    /// A client that sends its body slowly gets 408 after the deadline and holds nothing meanwhile: others are
    /// served at once.
    @Test func aSlowClientHoldsNothing() async throws {
        var settings = QuillServer.Settings()
        settings.bodyDeadline = 2
        try await ServerTests.withClient(models: ["default-lstm"], settings: settings) { client in
            let slow = try RawConnection(port: client.port)
            try slow.send("POST /v1/next HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: 100\r\n\r\n{\"text\":")
            // Served while the slow body is still awaited (no timing asserted: the tests run side by side).
            let other = try await client.post("/v1/next", ["text": "The old"])
            #expect(other.status == 200 && slow.receive(timeout: 0.01).isEmpty)
            let answer = slow.receive(timeout: 60)  // generous: other suites can hold the cooperative threads
            #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
            #expect(answer.contains("did not arrive within"))
        }
    }

    /// `/v1/embed` and `/v1/anomaly` answer as `quill embed` and `quill anomaly`; a translation model that does
    /// not reconstruct its input is refused by `/v1/anomaly`.
    @Test func embeddingsAndAnomaliesAreTheLibrarysOwn() async throws {
        let library = try Library()
        let autoencoder = try SequenceAutoencoder(try library.store.loadTranslationModel(named: "ae"),
                                                  requireReconstruction: true)
        let lines = ["ein hund rennt", "katze katze die"]
        let embeddings = try Self.encoded(Embeddings(embeddings: try autoencoder.embed(lines)))
        let anomalies = try Self.encoded(Anomalies(anomalies: try autoencoder.anomalies(lines)))
        try await ServerTests.withClient(models: ["default-lstm", "de-en", "ae"]) { client in
            let embed = try await client.post("/v1/embed", ["model": "ae", "lines": lines])
            #expect(embed.status == 200 && ServerTests.canonical(embed.body) == embeddings)
            let anomaly = try await client.post("/v1/anomaly", ["lines": lines])  // the first autoencoder: ae
            #expect(anomaly.status == 200 && ServerTests.canonical(anomaly.body) == anomalies)
            let translator = try await client.post("/v1/anomaly", ["model": "de-en", "lines": lines])
            #expect(translator.status == 400)
            let models = try #require(try await client.request("GET", "/v1/models", nil, [:]).json["models"]
                as? [[String: Any]])
            #expect(models.map { $0["reconstructs"] as? Bool } == [nil, false, true])
        }
    }

    /// `--mix`: the n-gram model is mixed into the suggestions of every session, as `quill complete --mix` mixes it.
    @Test func theNGramMixtureReachesEverySession() async throws {
        let library = try Library()
        _ = try library.store.trainNGramModel(corpus: TestSupport.packageRoot
            .appendingPathComponent("corpora/default/train.txt").path, vocabulary: "default", order: 3, model: "kn3")
        let (lm, vocabulary) = try library.store.loadStreamLanguageModel(named: "default-lstm")
        let completer = try Autocompleter(model: lm, vocabulary: vocabulary)
        completer.ngram = NGramMixture(model: try library.store.ngramModel(named: "kn3", for: "default-lstm",
                                                                         vocabulary: vocabulary), weight: 0.3)
        completer.k = 3
        let expected = try Self.encoded(try completer.suggestions(for: "The old fisherman w"))
        var options = ServedModels.Options()
        options.mix = ("kn3", 0.3)
        let served = try ServedModels(store: library.store, models: ["default-lstm"], options: options)
        #expect(served.list[0].mixedWith == "kn3")
        for session in [nil, "s1"] as [String?] {
            let suggestions = try await served.suggest(SuggestRequest(text: "The old fisherman w", k: 3,
                                                                      session: session))
            #expect(try Self.encoded(suggestions) == expected)
        }
        options.mix = ("no-such-model", 0.3)
        #expect(throws: (any Error).self) {
            try ServedModels(store: library.store, models: ["default-lstm"], options: options)
        }
    }

    /// The events of a `text/event-stream` body.
    static func events(_ body: Data) -> [(name: String, data: Data)] {
        String(decoding: body, as: UTF8.self).components(separatedBy: "\n\n").compactMap { block in
            let fields = block.split(separator: "\n")
            guard let name = fields.first(where: { $0.hasPrefix("event: ") })?.dropFirst(7),
                  let data = fields.first(where: { $0.hasPrefix("data: ") })?.dropFirst(6) else { return nil }
            return (String(name), Data(data.utf8))
        }
    }
}
