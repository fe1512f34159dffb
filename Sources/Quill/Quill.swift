@_exported import QuillText
