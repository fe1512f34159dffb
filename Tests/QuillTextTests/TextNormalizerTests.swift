import Testing
@testable import QuillText

@Suite struct TextNormalizerTests {
    @Test func nfcComposesAndNfkcFoldsCompatibilityForms() throws {
        let nfc = try TextNormalizer(normalization: .nfc, caseFold: false)
        let nfkc = try TextNormalizer(normalization: .nfkc, caseFold: false)
        let none = try TextNormalizer(normalization: .none, caseFold: false)
        let s = "e\u{301} ﬁ ① Ａ ㎏"
        #expect(try nfc.normalize(s) == "é ﬁ ① Ａ ㎏")
        #expect(try nfc.normalize(s).unicodeScalars.count == 9)
        #expect(try nfkc.normalize(s) == "é fi 1 A kg")
        #expect(try none.normalize(s).unicodeScalars.elementsEqual(s.unicodeScalars))
        #expect(none.isIdentity)
    }

    @Test func caseFoldingIsFullFolding() throws {
        let fold = try TextNormalizer(normalization: .nfc, caseFold: true)
        #expect(try fold.normalize("Straße ΣΑΣ ǅ HELLO") == "strasse σασ ǆ hello")
    }

    @Test(arguments: Normalization.allCases)
    func normalizationIsIdempotent(form: Normalization) throws {
        let n = try TextNormalizer(normalization: form, caseFold: true)
        for s in ["ΣΑΣ e\u{301}\u{327} Ǆ ﬀ İstanbul ẞ", "\u{1E9E}\u{0345}\u{0307}", "ᾼ ῼ ﬃ"] {
            let once = try n.normalize(s)
            #expect(try n.normalize(once).unicodeScalars.elementsEqual(once.unicodeScalars), "\(s)")
        }
    }
}

@Suite struct SegmenterTests {
    @Test func sentences() throws {
        let s = try Segmenter(.sentence, locale: "en")
        #expect(try s.segments(of: "Hello there. How are you? Fine!") == ["Hello there. ", "How are you? ", "Fine!"])
    }

    @Test func graphemesAndWordsCoverTheText() throws {
        let text = "Noël 👍🏽, 東京!"
        for kind in Segmenter.Kind.allCases {
            let parts = try Segmenter(kind, locale: "en").segments(of: text)
            #expect(parts.joined() == text)
        }
        #expect(try Segmenter(.grapheme).segments(of: "🇫🇷e\u{301}").count == 2)
    }

    @Test func badLocaleStillWorks() throws {
        // ICU falls back to the root locale for unknown locales rather than failing.
        #expect(try Segmenter(.word, locale: "xx_YY").segments(of: "a b") == ["a", " ", "b"])
    }
}
