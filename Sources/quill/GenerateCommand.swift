import ArgumentParser
import Foundation
import Quill

/// `quill generate`: continues a prompt with a stored language model.
struct GenerateCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with a stored language model and print the completion.",
        discussion: """
            Samples token by token from softmax(logits / temperature) until a line break or --max-tokens tokens; \
            --temperature 0 takes the most likely token each time. The same --seed gives the same completion. \
            Prints the prompt followed by the completion.

            Examples:
              quill generate --model tiny --prompt "The harbour"
              quill generate --model tiny --prompt "Dear Lily," --temperature 0 --max-tokens 30
            """)

    @Option(help: "The stored model.")
    var model: String

    @Option(help: "The text to continue.")
    var prompt: String

    @Option(help: "Generate at most this many tokens.")
    var maxTokens = 20

    @Option(help: "Sampling temperature; 0 for greedy.")
    var temperature = 0.8

    @Option(help: "Seed of the sampling.")
    var seed: UInt64 = 1

    @OptionGroup
    var store: StoreOptions

    func validate() throws {
        if maxTokens < 0 { throw ValidationError("--max-tokens must not be negative (got \(maxTokens))") }
        if !(temperature >= 0) || !temperature.isFinite {
            throw ValidationError("--temperature must be 0 or positive (got \(temperature))")
        }
    }

    func run(store: Store) throws {
        let (model, vocabulary) = try store.loadLanguageModel(named: self.model)
        let completion = try model.complete(prompt, vocabulary: vocabulary, maxTokens: maxTokens,
                                            temperature: temperature, seed: seed)
        print(prompt + completion)
    }
}
