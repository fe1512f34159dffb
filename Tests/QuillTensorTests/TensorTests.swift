import Testing
@testable import QuillTensor

@Suite struct TensorTests {
    @Test(arguments: [0, 1, 7, 17, 1003])
    func allocationsAre64ByteAlignedAndZeroed(count: Int) {
        let t = Tensor(zeros: [count])
        #expect(Int(bitPattern: t.base) % 64 == 0)
        #expect(t.scalars.allSatisfy { $0 == 0 })
        #expect(t.count == count)
    }

    @Test func shapesAndRowMajorViews() {
        let t = Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5])
        #expect(t.count == 6)
        #expect(t[flat: 4] == 4)
        let r = t.reshaped([3, 2])
        r[flat: 0] = 9
        #expect(t[flat: 0] == 9, "views share storage")
        #expect(r.shape == [3, 2])
        t.zero()
        #expect(r.scalars == [0, 0, 0, 0, 0, 0])
    }
}
