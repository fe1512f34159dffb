@testable import QuillNN
import QuillTensor
import Testing

@Suite struct LanguageModelTests {
    static func randomModel(_ kind: CellKind) throws -> LanguageModel {
        let model = try LanguageModel(.init(kind: kind, vocabulary: 11, embedding: 5, hidden: 6, layers: 2))
        var rng = RNG(seed: 11)
        for i in 0..<model.parameters.flatCount { model.parameters.values.base[i] = rng.uniform(-0.3, 0.3) }
        return model
    }

    static func window(_ count: Int, seed: UInt64) -> [Int32] {
        var rng = RNG(seed: seed)
        return (0..<count).map { _ in Int32(rng.uniform(0, 10.99)) }
    }

    /// Caches sized for one (T, B) are reused for other shapes without stale data leaking into results.
    @Test(arguments: CellKind.allCases)
    func cachesAreReusedAcrossWindowShapes(kind: CellKind) throws {
        let reused = try Self.randomModel(kind)
        for (T, B, seed) in [(6, 4, UInt64(1)), (2, 3, 2), (5, 1, 3)] {
            let fresh = try Self.randomModel(kind)
            let x = Self.window(T * B, seed: seed), y = Self.window(T * B, seed: seed + 100)
            let a = reused.forward(inputs: x, targets: y, steps: T, batch: B)
            let b = fresh.forward(inputs: x, targets: y, steps: T, batch: B)
            #expect(a == b)
            #expect(reused.finalHidden == fresh.finalHidden)
            reused.parameters.zeroGradients()
            fresh.parameters.zeroGradients()
            reused.backward()
            fresh.backward()
            #expect(reused.parameters.gradients.buffer.elementsEqual(fresh.parameters.gradients.buffer))
            #expect(reused.dInitialHidden == fresh.dInitialHidden)
            #expect(reused.dInitialCell == fresh.dInitialCell)
        }
    }

    /// Carrying the final state into the next window equals running both windows as one.
    @Test(arguments: CellKind.allCases)
    func stateCarriesAcrossWindows(kind: CellKind) throws {
        let model = try Self.randomModel(kind)
        let (T, B) = (4, 2)
        let x = Self.window(2 * T * B, seed: 5), y = Self.window(2 * T * B, seed: 6)
        let whole = model.forward(inputs: x, targets: y, steps: 2 * T, batch: B)
        let wholeH = model.finalHidden, wholeC = model.finalCell
        let first = model.forward(inputs: Array(x[..<(T * B)]), targets: Array(y[..<(T * B)]), steps: T, batch: B)
        let h = model.finalHidden, c = kind.hasCellState ? model.finalCell : nil
        let second = model.forward(inputs: Array(x[(T * B)...]), targets: Array(y[(T * B)...]), steps: T, batch: B,
                                   h0: h, c0: c)
        #expect(abs((first + second) / 2 - whole) <= 1e-6 * abs(whole))
        #expect(zip(model.finalHidden, wholeH).allSatisfy { abs($0 - $1) <= 1e-6 })
        #expect(zip(model.finalCell, wholeC).allSatisfy { abs($0 - $1) <= 1e-6 })
    }

    /// Feeding the first layer through the embedding table (`V < T·B`) gives the same loss and states bit for bit,
    /// and the same gradients up to summation order, as gathering the embedded rows; a padding id included.
    @Test(arguments: CellKind.allCases, [false, true])
    func tokenTableMatchesGatheredRows(kind: CellKind, tied: Bool) throws {
        let (T, B) = (7, 3)
        var x = Self.window(T * B, seed: 21)
        x[4] = -1
        let y = Self.window(T * B, seed: 22)
        var results: [(loss: Double, h: [Float], gradients: [Float], dH: [Float])] = []
        for table in [false, true] {
            let model = try LanguageModel(.init(kind: kind, vocabulary: 11, embedding: 6, hidden: 6, layers: 2,
                                                tiedEmbeddings: tied))
            var rng = RNG(seed: 11)
            for i in 0..<model.parameters.flatCount { model.parameters.values.base[i] = rng.uniform(-0.3, 0.3) }
            model.projectsTokens = table
            let h0 = (0..<(2 * B * 6)).map { Float($0 % 5) * 0.1 - 0.2 }
            let loss = model.forward(inputs: x, targets: y, steps: T, batch: B, h0: h0, c0: kind.hasCellState ? h0 : nil)
            let h = model.finalHidden
            model.parameters.zeroGradients()
            model.backward()
            results.append((loss, h, Array(model.parameters.gradients.buffer), model.dInitialHidden))
        }
        #expect(results[0].loss == results[1].loss)
        #expect(results[0].h == results[1].h)
        #expect(results[0].dH == results[1].dH)
        let scale = results[0].gradients.map(abs).max()!
        #expect(scale > 0)
        for (a, b) in zip(results[0].gradients, results[1].gradients) { #expect(abs(a - b) <= 1e-6 * scale) }
    }
}
