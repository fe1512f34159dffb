import ArgumentParser
import Quill
import QuillTensor

extension TokenLevel: ExpressibleByArgument {}
extension Normalization: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
