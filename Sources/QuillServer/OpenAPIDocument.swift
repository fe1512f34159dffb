/// The OpenAPI 3.1 description of `quill serve`'s API, served at `/openapi.json`. Every operation carries an example
/// request; `ServerTests.everyExampleOfTheDocumentWorks` replays each against a server of the demo's model
/// (`default-lstm`, scripts/demo.sh) and a translation model, and checks each response against its schema.
public enum OpenAPIDocument {
    public static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Quill",
    "version": "1",
    "description": "Suggestions while typing and translation from models stored by Quill (docs/serve.md)."
  },
  "paths": {
    "/healthz": {
      "get": {
        "operationId": "health",
        "summary": "Whether the server is up (open without the token).",
        "responses": {"200": {"description": "Up.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}
      }
    },
    "/readyz": {
      "get": {
        "operationId": "ready",
        "summary": "Whether the models are loaded and requests are served.",
        "responses": {"200": {"description": "Ready.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}
      }
    },
    "/v1/models": {
      "get": {
        "operationId": "listModels",
        "summary": "The models served, with their kinds and vocabularies.",
        "responses": {"200": {"description": "The models.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServedModelList"}}}}}
      }
    },
    "/v1/suggest": {
      "post": {
        "operationId": "suggest",
        "summary": "Suggestions for a text being typed: the next words, or the completions of the word being typed, and the ghost continuation.",
        "requestBody": {
          "required": true,
          "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/SuggestRequest"},
            "example": {"model": "default-lstm", "text": "The old fisherman", "k": 3, "session": "example"}
          }}
        },
        "responses": {
          "200": {"description": "The suggestions (as quill complete prints them).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Suggestions"}}}},
          "400": {"$ref": "#/components/responses/Invalid"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/v1/translate": {
      "post": {
        "operationId": "translate",
        "summary": "One sentence translated, n-best, with the attention matrix when asked.",
        "requestBody": {
          "required": true,
          "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/TranslateRequest"},
            "example": {"text": "ein hund rennt", "beam": 3, "nbest": 2, "attention": true}
          }}
        },
        "responses": {
          "200": {"description": "The translation (as quill translate --format jsonl prints it).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Translation"}}}},
          "400": {"$ref": "#/components/responses/Invalid"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    }
  },
  "components": {
    "responses": {
      "Invalid": {"description": "The request is not valid; the message says why.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "No such model is served.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}}}
      },
      "Health": {
        "type": "object", "required": ["status", "models", "sessions"],
        "properties": {"status": {"type": "string"}, "models": {"type": "integer"}, "sessions": {"type": "integer"}}
      },
      "ServedModelList": {
        "type": "object", "required": ["models"],
        "properties": {"models": {"type": "array", "items": {"$ref": "#/components/schemas/ServedModel"}}}
      },
      "ServedModel": {
        "type": "object", "required": ["name", "kind", "storedKind", "vocabulary", "vocabularySize"],
        "properties": {
          "name": {"type": "string"},
          "kind": {"type": "string", "enum": ["language-model", "translation"]},
          "storedKind": {"type": "string"},
          "vocabulary": {"type": "string"},
          "vocabularySize": {"type": "integer"},
          "targetVocabulary": {"type": "string"},
          "targetVocabularySize": {"type": "integer"}
        }
      },
      "SuggestRequest": {
        "type": "object", "required": ["text"], "additionalProperties": false,
        "properties": {
          "model": {"type": "string", "description": "A served language model; the first served when left out."},
          "text": {"type": "string", "description": "The whole text typed so far (at most 64 KiB)."},
          "k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 5},
          "continuation": {"type": "boolean", "default": true, "description": "Search the ghost continuation."},
          "session": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "Reuse the state of the text this session sent before."}
        }
      },
      "Suggestion": {
        "type": "object", "required": ["token", "completion", "probability"],
        "properties": {"token": {"type": "string"}, "completion": {"type": "string"}, "probability": {"type": "number"}}
      },
      "Suggestions": {
        "type": "object", "required": ["text", "prefix", "suggestions", "continuation"],
        "properties": {
          "text": {"type": "string"},
          "prefix": {"type": "string", "description": "The partial word being completed."},
          "suggestions": {"type": "array", "items": {"$ref": "#/components/schemas/Suggestion"}},
          "continuation": {"type": "string", "description": "Ghost text to append after the typed text."},
          "note": {"type": "string"}
        }
      },
      "TranslateRequest": {
        "type": "object", "required": ["text"], "additionalProperties": false,
        "properties": {
          "model": {"type": "string", "description": "A served translation model; the first served when left out."},
          "text": {"type": "string", "description": "One sentence, without a line break."},
          "beam": {"type": "integer", "minimum": 1, "maximum": 64, "default": 5},
          "nbest": {"type": "integer", "minimum": 1, "default": 1, "description": "At most beam."},
          "attention": {"type": "boolean", "default": false}
        }
      },
      "Candidate": {
        "type": "object", "required": ["text", "tokens", "logProbability", "score", "ended"],
        "properties": {
          "text": {"type": "string"},
          "tokens": {"type": "array", "items": {"type": "string"}},
          "logProbability": {"type": "number"},
          "score": {"type": "number"},
          "ended": {"type": "boolean"},
          "attention": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}, "description": "Target tokens × source tokens."}
        }
      },
      "Translation": {
        "type": "object", "required": ["line", "source", "sourceTokens", "translations"],
        "properties": {
          "line": {"type": "integer"},
          "source": {"type": "string"},
          "sourceTokens": {"type": "array", "items": {"type": "string"}},
          "translations": {"type": "array", "items": {"$ref": "#/components/schemas/Candidate"}}
        }
      }
    }
  }
}
"""#
}

