// Tokenizes text, builds a vocabulary from a corpus, keeps it in a store and reads it back: Quill as a library.
// Run: cd examples/library-usage && swift run library-usage [corpus]
import Foundation
import Quill

let corpus = CommandLine.arguments.dropFirst().first ?? "../../corpora/default/train.txt"

// 1. Tokens keep every byte: detokenizing is concatenation.
let tokenizer = try Tokenizer(TokenizerSettings(level: .word, normalization: .nfc, caseFold: false, locale: "fr"))
let text = "L'homme qu'il aime est au café 👍🏽."
let tokens = try tokenizer.tokenize(text)
print(tokens.map { $0.debugDescription }.joined(separator: " "))
precondition(Tokenizer.detokenize(tokens) == text)

// 2. A vocabulary from a file, streamed in constant memory.
var builder = VocabularyBuilder(settings: TokenizerSettings(level: .word))
try builder.addTokens(of: TextReader(path: corpus))
let vocabulary = builder.build(minCount: 2, maxSize: 5_000)
print("\(builder.totalTokens) tokens, \(builder.distinctTokens) distinct, kept \(vocabulary.count)")

// 3. Into a store and back: the fingerprint proves it is the same vocabulary.
let path = FileManager.default.temporaryDirectory.appendingPathComponent("library-usage-\(getpid()).sqlite").path
defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
let store = try Store(path: path)
try store.saveVocabulary(vocabulary, name: "example")
let loaded = try store.vocabulary(named: "example")
precondition(loaded.fingerprint == vocabulary.fingerprint)
let ids = try Tokenizer(loaded.settings).ids(of: "The old fisherman smiled.", in: loaded)
print("ids:", ids, "fingerprint:", loaded.fingerprint.prefix(12))
