import ArgumentParser
import Quill

extension BLEUTokenizer: ExpressibleByArgument {}

/// `quill translation score`: BLEU, chrF and chrF++ of hypotheses against references, as sacreBLEU's command line.
struct TranslationScoreCommand: ParsableCommand, LossyReading {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a system's translations against references: BLEU, chrF, chrF++ (sacreBLEU 2.6, exactly).",
        discussion: """
            Reads one hypothesis per line (from HYP, or standard input when it is absent or -) and one reference \
            per line from --reference, and prints one JSON object: the corpus scores sacreBLEU 2.6 gives with its \
            defaults (`sacrebleu REF -i HYP -m bleu chrf`, and chrF++ with `--chrf-word-order 2`), to every digit.

            Keys: bleu, precisions (percent, n = 1..4), bp, ratio, sys_len, ref_len, counts, totals, chrf, chrfpp, \
            signature {bleu, chrf, chrfpp} (sacreBLEU's signature strings), score_lines {bleu, chrf, chrfpp} (the \
            lines sacreBLEU's text output prints), chrf_stats, chrfpp_stats, segments.

            Lines are read as sacreBLEU reads them: trailing whitespace removed; files split at LF only, standard \
            input also at CR LF and CR. The files must have the same number of lines, and no reference line may be \
            empty (sacreBLEU refuses both); invalid UTF-8 is an error naming the file and line.

            --sentence-level prints one JSON object per pair instead (sentence BLEU with effective order, as \
            `sacrebleu -sl`, and sentence chrF and chrF++), then one object holding the sentence signatures.

            --tokenize and --lowercase apply to BLEU only, as sacreBLEU's do; --chrf-lowercase lower-cases chrF \
            and chrF++. The signatures record every choice.

            Examples:
              quill translation score --reference test.de output.de
              my-translator < test.en | quill translation score --reference test.de
              quill translation score --reference test.de --tokenize intl output.de
              quill translation score --reference test.de --lowercase --chrf-lowercase - < output.de
              quill translation score --reference test.de --sentence-level output.de
            """)

    @Option(help: ArgumentHelp("The reference translations, one per line (UTF-8).", valueName: "file"))
    var reference: String

    @Argument(help: ArgumentHelp("The hypotheses, one per line (UTF-8); - or none for standard input.",
                                 valueName: "hyp"))
    var hypotheses = "-"

    @Option(help: ArgumentHelp("BLEU's tokenizer: 13a (mteval-v13a, sacreBLEU's default) or intl (mteval-v14 "
            + "international).", valueName: "13a|intl"))
    var tokenize: BLEUTokenizer = .thirteenA

    @Flag(help: "Lower-case BLEU (sacreBLEU's --lowercase; chrF stays cased).")
    var lowercase = false

    @Flag(help: "Lower-case chrF and chrF++ (sacreBLEU's --chrf-lowercase).")
    var chrfLowercase = false

    @Flag(help: ArgumentHelp("One JSON object per pair (line, bleu, precisions, bp, sys_len, ref_len, counts, "
            + "totals, chrf, chrfpp): sentence BLEU with effective order, as `sacrebleu -sl`; then a last line with "
            + "the sentence signatures."))
    var sentenceLevel = false

    @Flag(help: "Replace invalid UTF-8 with U+FFFD instead of failing (sacreBLEU fails).")
    var lossy = false

    func validate() throws {
        if reference == "-" {
            throw ValidationError("--reference must be a file: the hypotheses are read from standard input")
        }
    }

    func run() throws {
        let referenceReader = try TextReader(path: reference, lossy: lossy)
        let references = TranslationScoring.lines(of: try referenceReader.readAll(), universalNewlines: false)
        let hypothesisReader = try TextReader(path: hypotheses, lossy: lossy)
        let lines = TranslationScoring.lines(of: try hypothesisReader.readAll(),
                                             universalNewlines: hypotheses == "-")
        let scoring = TranslationScoring(tokenizer: tokenize, lowercase: lowercase, chrfLowercase: chrfLowercase)
        let scores = try scoring.score(hypothesisLines: lines, hypothesisFile: hypothesisReader.name,
                                       referenceLines: references, referenceFile: referenceReader.name)
        guard sentenceLevel else {
            print(try jsonLine(scores))
            return
        }
        let output = OutputBuffer()
        for sentence in try scoring.sentenceScores(hypotheses: lines, references: references) {
            try output.write(try jsonLine(sentence) + "\n")
        }
        let signatures = scoring.sentenceSignatures
        try output.write(try jsonLine(["signature": ["bleu": signatures.bleu, "chrf": signatures.chrf,
                                                     "chrfpp": signatures.chrfPlusPlus]]) + "\n")
        try output.flush()
    }
}
