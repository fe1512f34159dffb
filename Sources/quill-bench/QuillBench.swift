import ArgumentParser

/// Benchmarks whose results are printed as JSON Lines, so runs can be compared over time and against peers.
@main
struct QuillBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quill-bench",
        abstract: "Quill's benchmarks (release build: swift run -c release quill-bench …). Prints JSON Lines.",
        subcommands: [TokenizeBench.self, StreamMemoryBench.self, GEMMBench.self, LSTMCellBench.self,
                      PTBQualityBench.self, CharQualityBench.self, TrainBench.self, StepBench.self, ScoreBench.self,
                      KeystrokeBench.self, Seq2SeqBench.self, AutoencoderBench.self, BPEBench.self, NGramBench.self,
                      GCNNBench.self, PeakBench.self])
}
