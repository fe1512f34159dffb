import ArgumentParser
import Quill

extension TokenLevel: ExpressibleByArgument {}
extension Normalization: ExpressibleByArgument {}
