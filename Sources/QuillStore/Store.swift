import QuillText
