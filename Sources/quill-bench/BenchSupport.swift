import Foundation

/// The median time of one call of `body`: after 3 warm-up calls, `samples` samples each repeat the call for about
/// 0.1 s (so short calls are timed over many repeats).
func medianSeconds(samples: Int, _ body: () -> Void) -> Double {
    for _ in 0..<3 { body() }
    var start = DispatchTime.now().uptimeNanoseconds
    body()
    let once = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let repeats = max(3, Int(0.1 / max(once, 1e-7)))
    var times: [Double] = []
    for _ in 0..<samples {
        start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { body() }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(repeats))
    }
    return times.sorted()[times.count / 2]
}

/// Prints one JSON object on one line, keys sorted, and flushes it: long runs report as they go, even into a file.
func printJSON(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
    fflush(nil)  // all output streams (naming the `stdout` global is not concurrency-safe in Swift 6)
}
