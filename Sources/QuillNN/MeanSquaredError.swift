/// The mean squared error `L = (1/(N·D)) Σ (y − t)²`, PyTorch's `nn.MSELoss()` (mean reduction).
public enum MeanSquaredError {
    /// The loss (summed in Double) and, when `dOutput` is given, `dOutput = 2(y − t)/(N·D)` (written).
    /// - Parameters: `output`, `target`, `dOutput`: `count = N·D` floats.
    public static func compute(output: UnsafePointer<Float>, target: UnsafePointer<Float>, count: Int,
                               dOutput: UnsafeMutablePointer<Float>?) -> Double {
        guard count > 0 else { return 0 }
        var sum = 0.0
        let scale = 2 / Float(count)
        for i in 0..<count {
            let d = output[i] - target[i]
            sum += Double(d) * Double(d)
            dOutput?[i] = scale * d
        }
        return sum / Double(count)
    }
}
