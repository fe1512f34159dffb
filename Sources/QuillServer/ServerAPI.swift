import Foundation
import Quill

// The bodies of `quill serve`'s JSON API that the library has no type for: the requests, and the list of models.
// Responses are otherwise the library's own types (`Suggestions`, `TranslationSystem.Translation`), encoded as the
// CLI's JSON Lines print them. docs/serve.md describes every endpoint.

/// `POST /v1/suggest`: suggestions for a text being typed.
public struct SuggestRequest: Codable, Sendable, Equatable {
    /// A served language model; the first one served when left out.
    public var model: String?
    /// The whole text typed so far.
    public var text: String
    /// Suggestions wanted, 1…50 (default 5).
    public var k: Int?
    /// Whether to search the ghost continuation (default true); a client sending every keystroke can leave it out
    /// while keys come fast and ask again when typing pauses, as `quill complete` does.
    public var continuation: Bool?
    /// A client-chosen id (1…64 letters, digits, `-` or `_`): requests with the same id reuse the recurrent state of
    /// the text sent before, so a keystroke inside a word steps nothing.
    public var session: String?

    public init(model: String? = nil, text: String, k: Int? = nil, continuation: Bool? = nil, session: String? = nil) {
        self.model = model
        self.text = text
        self.k = k
        self.continuation = continuation
        self.session = session
    }
}

/// `POST /v1/translate`: one sentence translated.
public struct TranslateRequest: Codable, Sendable, Equatable {
    /// A served translation model; the first one served when left out.
    public var model: String?
    /// One sentence, without a line break.
    public var text: String
    /// Beam width, 1…64 (default 5).
    public var beam: Int?
    /// Translations returned, best first, 1…beam (default 1).
    public var nbest: Int?
    /// Whether each translation carries its attention matrix (target tokens × source tokens; default false).
    public var attention: Bool?

    public init(model: String? = nil, text: String, beam: Int? = nil, nbest: Int? = nil, attention: Bool? = nil) {
        self.model = model
        self.text = text
        self.beam = beam
        self.nbest = nbest
        self.attention = attention
    }
}

/// One served model, as `GET /v1/models` lists it.
public struct ServedModel: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Serves `/v1/suggest`.
        case languageModel = "language-model"
        /// Serves `/v1/translate`.
        case translation
    }

    public var name: String
    public var kind: Kind
    /// The store's kind of the model (e.g. `lstm-lm`, `gcnn-lm`, `seq2seq`).
    public var storedKind: String
    /// Its (source) vocabulary's name and entries.
    public var vocabulary: String
    public var vocabularySize: Int
    /// A translation model's target vocabulary.
    public var targetVocabulary: String?
    public var targetVocabularySize: Int?
    /// A translation model whose two vocabularies are one (a sequence autoencoder): it serves `/v1/anomaly`.
    public var reconstructs: Bool?
    /// The n-gram model mixed into a language model's suggestions and next tokens (`--mix`).
    public var mixedWith: String?

    public init(name: String, kind: Kind, storedKind: String, vocabulary: String, vocabularySize: Int,
                targetVocabulary: String? = nil, targetVocabularySize: Int? = nil, reconstructs: Bool? = nil,
                mixedWith: String? = nil) {
        self.name = name
        self.kind = kind
        self.storedKind = storedKind
        self.vocabulary = vocabulary
        self.vocabularySize = vocabularySize
        self.targetVocabulary = targetVocabulary
        self.targetVocabularySize = targetVocabularySize
        self.reconstructs = reconstructs
        self.mixedWith = mixedWith
    }
}

/// `GET /v1/models`.
public struct ServedModelList: Codable, Sendable, Equatable {
    public var models: [ServedModel]
}

/// `GET /healthz` and `GET /readyz`.
public struct Health: Codable, Sendable, Equatable {
    public var status: String
    public var models: Int
    /// Typing sessions held.
    public var sessions: Int
    /// Generations being stepped now.
    public var generations: Int
}

/// `POST /v1/next`: the most likely next tokens after a text (the distribution's head).
public struct NextRequest: Codable, Sendable, Equatable {
    public var model: String?
    /// The text; the tokens are those after it, as `quill predict --task next` gives them.
    public var text: String
    /// Tokens wanted, 1…50 (default 10).
    public var k: Int?

    public init(model: String? = nil, text: String, k: Int? = nil) {
        self.model = model
        self.text = text
        self.k = k
    }
}

/// `POST /v1/score`: the log-probability of each line under a language model (as `quill predict --task score`).
public struct ScoreRequest: Codable, Sendable, Equatable {
    public var model: String?
    /// 1…256 lines, each without a line break.
    public var lines: [String]

    public init(model: String? = nil, lines: [String]) {
        self.model = model
        self.lines = lines
    }
}

/// The answer of `/v1/score`: one ``Predictor/Prediction`` (`tokens`, `logProbability`, `perplexity`) per line.
public struct Scores: Codable, Sendable, Equatable {
    public var scores: [Predictor.Prediction]
    public init(scores: [Predictor.Prediction]) { self.scores = scores }
}

/// `POST /v1/generate`: a continuation of a prompt (``Generation``), streamed token by token with `"stream": true`.
/// The decoding options mean what they mean everywhere (``DecodingOptions``).
public struct GenerateRequest: Codable, Sendable, Equatable {
    public var model: String?
    public var prompt: String
    /// Tokens generated at most, 1…1024 (default 20).
    public var maxTokens: Int?
    /// 0 (default): the most likely continuation (greedy, or a beam search when `beam` > 1); above 0: sampled.
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    /// Beam width at temperature 0, 1…16 (default 1). A beam's best continuation is only known at its end, so a
    /// streamed beam search sends its tokens together at the end.
    public var beam: Int?
    public var seed: UInt64?
    /// Send server-sent events (`text/event-stream`): a `token` event per token, then a `done` event with the
    /// ``Generation``. A client that goes away stops the generation within a token.
    public var stream: Bool?

    public init(model: String? = nil, prompt: String, maxTokens: Int? = nil, temperature: Double? = nil,
                topK: Int? = nil, topP: Double? = nil, beam: Int? = nil, seed: UInt64? = nil, stream: Bool? = nil) {
        self.model = model
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.beam = beam
        self.seed = seed
        self.stream = stream
    }

    /// The library's options for the request, defaults filled in.
    var decoding: DecodingOptions {
        DecodingOptions(temperature: temperature ?? 0, topK: topK, topP: topP ?? 1, beamWidth: beam ?? 1,
                        seed: seed ?? 1, maxTokens: maxTokens ?? 20)
    }
}

/// What a generation produces: a `token` per token, then `done` with the whole ``Generation``.
public enum GenerationEvent: Sendable, Equatable {
    case token(GeneratedToken)
    case done(Generation)
}

/// One `token` event of a streamed generation.
public struct GeneratedToken: Codable, Sendable, Equatable {
    /// 0 for the first token generated.
    public var index: Int
    /// The token's text (with the space before it, as the tokenizer keeps it): the events' texts concatenated are
    /// the generation's `text`.
    public var text: String
    /// The model's log-probability of the token; absent from a beam search's tokens (its `done` event carries the
    /// whole continuation's).
    public var logProbability: Double?
}

/// `POST /v1/embed` and `POST /v1/anomaly`: lines for a sequence autoencoder (`quill embed`, `quill anomaly`).
public struct LinesRequest: Codable, Sendable, Equatable {
    public var model: String?
    /// 1…256 lines, each without a line break.
    public var lines: [String]

    public init(model: String? = nil, lines: [String]) {
        self.model = model
        self.lines = lines
    }
}

/// The answer of `/v1/embed`: each line's vector, numbered from 1 (``SequenceAutoencoder/Embedding``).
public struct Embeddings: Codable, Sendable, Equatable {
    public var embeddings: [SequenceAutoencoder.Embedding]
    public init(embeddings: [SequenceAutoencoder.Embedding]) { self.embeddings = embeddings }
}

/// The answer of `/v1/anomaly`: each line's reconstruction loss (``SequenceAutoencoder/Anomaly``).
public struct Anomalies: Codable, Sendable, Equatable {
    public var anomalies: [SequenceAutoencoder.Anomaly]
    public init(anomalies: [SequenceAutoencoder.Anomaly]) { self.anomalies = anomalies }
}
