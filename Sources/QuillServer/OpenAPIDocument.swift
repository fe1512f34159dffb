/// The OpenAPI 3.1 description of `quill serve`'s API, served at `/openapi.json`. Every operation carries an example
/// request; `ServerTests.everyExampleOfTheDocumentWorks` replays each against a server of the demo's model
/// (`default-lstm`, scripts/demo.sh), a translation model and a sequence autoencoder, and checks each response against
/// its schema.
public enum OpenAPIDocument {
    public static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Quill",
    "version": "1",
    "description": "Suggestions while typing, next tokens, scores, streamed generation, translation, line embeddings and anomaly scores from models stored by Quill (docs/serve.md). Requests that name no model get the first served model of the kind they need."
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
    "/v1/next": {
      "post": {
        "operationId": "nextTokens",
        "summary": "The most likely next tokens after a text, with their probabilities (quill predict --task next); stepped together with other clients' requests.",
        "requestBody": {
          "required": true,
          "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/NextRequest"},
            "example": {"model": "default-lstm", "text": "The old fisherman", "k": 5}
          }}
        },
        "responses": {
          "200": {"description": "The next tokens (as quill predict --task next prints them).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NextTokens"}}}},
          "400": {"$ref": "#/components/responses/Invalid"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/v1/score": {
      "post": {
        "operationId": "score",
        "summary": "Each line's log-probability and perplexity, its line break included (quill predict --task score).",
        "requestBody": {
          "required": true,
          "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ScoreRequest"},
            "example": {"lines": ["The old fisherman went down to the sea.", "sea the to down went"]}
          }}
        },
        "responses": {
          "200": {"description": "One score per line, in order.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scores"}}}},
          "400": {"$ref": "#/components/responses/Invalid"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/v1/generate": {
      "post": {
        "operationId": "generate",
        "summary": "A continuation of a prompt (quill generate). With \"stream\": true, server-sent events: `event: token` with a GeneratedToken per token, then `event: done` with the Generation; a client that disconnects stops the generation within a token.",
        "requestBody": {
          "required": true,
          "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/GenerateRequest"},
            "example": {"prompt": "The old fisherman", "maxTokens": 12, "temperature": 0.8, "topP": 0.95, "seed": 7}
          }}
        },
        "responses": {
          "200": {"description": "The generation; a text/event-stream when streamed.", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Generation"}},
            "text/event-stream": {"schema": {"type": "string", "description": "Events `token` (data: GeneratedToken) and a last `done` (data: Generation)."}}
          }},
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
    },
    "/v1/embed": {
      "post": {
        "operationId": "embed",
        "summary": "Each line's vector from an encoder-decoder's encoder (quill embed); meant for a sequence autoencoder.",
        "requestBody": {
          "required": true,
          "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/LinesRequest"},
            "example": {"lines": ["a dog runs", "the cat sleeps"]}
          }}
        },
        "responses": {
          "200": {"description": "One vector per line, numbered from 1.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Embeddings"}}}},
          "400": {"$ref": "#/components/responses/Invalid"},
          "404": {"$ref": "#/components/responses/NotFound"}
        }
      }
    },
    "/v1/anomaly": {
      "post": {
        "operationId": "anomaly",
        "summary": "How badly a sequence autoencoder reproduces each line (quill anomaly): mean nats per token, high for lines unlike its training text. Without a model, the first served model whose vocabularies are one.",
        "requestBody": {
          "required": true,
          "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/LinesRequest"},
            "example": {"lines": ["a dog runs", "runs runs a a the"]}
          }}
        },
        "responses": {
          "200": {"description": "One score per line, in order.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Anomalies"}}}},
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
        "type": "object", "required": ["status", "models", "sessions", "generations"],
        "properties": {"status": {"type": "string"}, "models": {"type": "integer"}, "sessions": {"type": "integer"}, "generations": {"type": "integer", "description": "Generations being stepped now."}}
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
          "targetVocabularySize": {"type": "integer"},
          "reconstructs": {"type": "boolean", "description": "A translation model whose two vocabularies are one (a sequence autoencoder): it serves /v1/anomaly."},
          "mixedWith": {"type": "string", "description": "The n-gram model mixed into a language model's suggestions and next tokens (--mix)."}
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
      "NextRequest": {
        "type": "object", "required": ["text"], "additionalProperties": false,
        "properties": {
          "model": {"type": "string"},
          "text": {"type": "string", "description": "One line (at most 64 KiB)."},
          "k": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}
        }
      },
      "NextTokens": {
        "type": "object", "required": ["tokens", "prefix", "suggestions"],
        "properties": {
          "tokens": {"type": "integer", "description": "Tokens of the text read."},
          "unknown": {"type": "integer", "description": "Of them, outside the vocabulary (left out when 0)."},
          "truncated": {"type": "boolean", "description": "The text was cut to its last tokens (left out when false)."},
          "prefix": {"type": "string"},
          "suggestions": {"type": "array", "items": {"$ref": "#/components/schemas/Suggestion"}}
        }
      },
      "ScoreRequest": {
        "type": "object", "required": ["lines"], "additionalProperties": false,
        "properties": {
          "model": {"type": "string"},
          "lines": {"type": "array", "minItems": 1, "maxItems": 256, "items": {"type": "string"}}
        }
      },
      "Score": {
        "type": "object", "required": ["tokens", "logProbability", "perplexity"],
        "properties": {
          "tokens": {"type": "integer", "description": "Tokens scored, the line break included."},
          "unknown": {"type": "integer"},
          "truncated": {"type": "boolean"},
          "logProbability": {"type": "number", "description": "Natural log."},
          "perplexity": {"type": "number"}
        }
      },
      "Scores": {
        "type": "object", "required": ["scores"],
        "properties": {"scores": {"type": "array", "items": {"$ref": "#/components/schemas/Score"}}}
      },
      "GenerateRequest": {
        "type": "object", "required": ["prompt"], "additionalProperties": false,
        "properties": {
          "model": {"type": "string"},
          "prompt": {"type": "string", "description": "One line (at most 64 KiB)."},
          "maxTokens": {"type": "integer", "minimum": 1, "maximum": 1024, "default": 20},
          "temperature": {"type": "number", "minimum": 0, "default": 0, "description": "0: the most likely continuation (greedy, or a beam search when beam > 1); above 0: sampled."},
          "topK": {"type": "integer", "minimum": 1},
          "topP": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 1},
          "beam": {"type": "integer", "minimum": 1, "maximum": 16, "default": 1, "description": "A streamed beam search sends its tokens together at its end."},
          "seed": {"type": "integer", "minimum": 0, "default": 1},
          "stream": {"type": "boolean", "default": false}
        }
      },
      "Generation": {
        "type": "object", "required": ["prompt", "text", "generated", "logProbability"],
        "properties": {
          "prompt": {"type": "string"},
          "text": {"type": "string", "description": "The continuation only."},
          "generated": {"type": "integer", "description": "Tokens generated."},
          "logProbability": {"type": "number"}
        }
      },
      "GeneratedToken": {
        "type": "object", "required": ["index", "text"],
        "properties": {
          "index": {"type": "integer"},
          "text": {"type": "string", "description": "The token with its space; the texts concatenated are the Generation's text."},
          "logProbability": {"type": "number", "description": "Absent from a beam search's tokens."}
        }
      },
      "LinesRequest": {
        "type": "object", "required": ["lines"], "additionalProperties": false,
        "properties": {
          "model": {"type": "string", "description": "A served translation model (for /v1/anomaly, one whose vocabularies are one)."},
          "lines": {"type": "array", "minItems": 1, "maxItems": 256, "items": {"type": "string"}}
        }
      },
      "Embeddings": {
        "type": "object", "required": ["embeddings"],
        "properties": {"embeddings": {"type": "array", "items": {
          "type": "object", "required": ["line", "vector"],
          "properties": {"line": {"type": "integer"}, "vector": {"type": "array", "items": {"type": "number"}}}
        }}}
      },
      "Anomalies": {
        "type": "object", "required": ["anomalies"],
        "properties": {"anomalies": {"type": "array", "items": {
          "type": "object", "required": ["line", "text", "score", "tokens"],
          "properties": {"line": {"type": "integer"}, "text": {"type": "string"}, "score": {"type": "number", "description": "Mean nats per token of reproducing the line."}, "tokens": {"type": "integer"}}
        }}}
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

