// The face of Quill for other Swift packages: the text pipeline (`QuillText`) and the store (`QuillStore`), plus the
// workflows that join them (see VocabularyWorkflows.swift), and the translation metrics (`QuillMetrics`). The `quill`
// command-line tool is a thin shell over this.
@_exported import QuillText
@_exported import QuillStore
@_exported import QuillNN
@_exported import QuillFormats
@_exported import QuillTrain
@_exported import QuillDecode
@_exported import QuillTensor
@_exported import QuillMetrics
