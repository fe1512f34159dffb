import FuzzSupport
import QuillText

/// The vocabulary file importer (`VocabularyFile.read`, what `quill vocab import` calls) on any text: it throws a
/// `TextError` or gives a vocabulary that
/// - writes back to a file that reads as the same vocabulary (the export–import round trip), and
/// - makes a `TextEncoder` (or is refused with a `TextError`, as a malformed BPE vocabulary is) that encodes text to
///   ids inside the vocabulary and decodes them again.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let vocabulary: Vocabulary
    do {
        vocabulary = try VocabularyFile.read(text, file: "fuzz").vocabulary
    } catch is TextError {
        return 0
    } catch {
        require(false, "an error that is not a TextError: \(error)")
        return 0
    }
    do {
        let again = try VocabularyFile.read(VocabularyFile.write(vocabulary, name: "again"), file: "again").vocabulary
        require(again == vocabulary && again.tokens == vocabulary.tokens && again.merges == vocabulary.merges,
                "the written vocabulary reads back differently")
    } catch {
        require(false, "the written vocabulary does not read back: \(error)")
    }
    let encoder: TextEncoder
    do {
        encoder = try TextEncoder(vocabulary)
    } catch is TextError {
        return 0
    } catch {
        require(false, "an error that is not a TextError: \(error)")
        return 0
    }
    do {
        let ids = try encoder.ids(of: sample)
        require(ids.allSatisfy { $0 >= 0 && $0 < vocabulary.count }, "ids out of range: \(ids)")
        _ = encoder.text(of: ids)
        _ = try encoder.lineIDs(of: "the cat")
    } catch {
        require(false, "encoding valid text threw \(error)")
    }
    return 0
}

private let sample = "The cat sat on the mat. L'homme qu'il aimait.\nStraße 東京 👩‍👩‍👧\n\n  end \r\n"
