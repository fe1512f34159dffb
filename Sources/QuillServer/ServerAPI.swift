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
}

/// `GET /v1/models`.
public struct ServedModelList: Codable, Sendable, Equatable {
    public var models: [ServedModel]
}

/// `GET /healthz` and `GET /readyz`.
public struct Health: Codable, Sendable, Equatable {
    public var status: String
    public var models: Int
    public var sessions: Int
}
