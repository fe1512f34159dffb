import ArgumentParser
import Foundation
import Quill

/// `quill generate`: continues a prompt with a stored language model.
struct GenerateCommand: StoreBackedCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with a stored language model and print the completion.",
        discussion: """
            Reads the prompt as the start of a line and continues it until a line break or --max-tokens tokens: \
            samples token by token from softmax(log p / temperature) (cut by --top-k and --top-p), or with \
            --temperature 0 takes the most likely token each time (a beam search with --beam above 1). The same \
            --seed gives the same completion. Prints the prompt followed by the completion. Defaults: \
            --temperature 0.8, --max-tokens 20, --beam 1, --top-p 1, no --top-k, --seed 1.

            Examples:
              quill generate --model tiny --prompt "The harbour"
              quill generate --model tiny --prompt "Dear Lily," --temperature 0 --max-tokens 30
            """)

    @Option(help: "The stored model.", completion: StoreNameCompletion.models)
    var model: String

    @Option(help: "The text to continue.")
    var prompt: String

    @Option(help: ArgumentHelp("text: the prompt and its continuation; jsonl: one JSON object (prompt, text, "
            + "generated, logProbability)."))
    var format: ReportFormat = .text

    @OptionGroup(title: "Decoding")
    var decoding: DecodingArguments

    /// `generate` samples by default, as a text generator does; `--temperature 0` is greedy.
    static let defaults = DecodingOptions(temperature: 0.8, maxTokens: 20)

    @OptionGroup
    var store: StoreOptions

    func run(store: Store) throws {
        let (model, vocabulary) = try store.loadStreamLanguageModel(named: self.model)
        let generation = try model.generate(prompt, vocabulary: vocabulary,
                                            options: decoding.options(defaults: Self.defaults))
        switch format {
        case .text: print(prompt + generation.text)
        case .jsonl: print(try jsonLine(generation))
        }
    }
}
