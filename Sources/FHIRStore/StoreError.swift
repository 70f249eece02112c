/// A storage failure: an SQLite result code and message. Storage errors are bugs or disk
/// problems, never the client's fault; the interaction layer reports them as 500.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public let code: Int32
    public let message: String
    public let file: String
    public let line: Int

    init(code: Int32, message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "SQLite error \(code): \(message) (\(file):\(line))" }
}
