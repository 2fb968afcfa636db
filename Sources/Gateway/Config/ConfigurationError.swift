/// One mistake in the configuration file: where it is (key path and line) and what is wrong, so an
/// operator can go straight to it.
///
/// Key paths are written as the file reads: `gateway.sender_id`, `schedules.nightly`,
/// `partner[2].drop`, `partner[2].readiness.markers[1]`. `[[partner]]` tables and array elements are
/// counted from 1, as an operator counts them reading the file; the line number settles any doubt.
public struct ConfigurationError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The dotted key path at fault; `(syntax)` for a TOML syntax error, `(file)` for the file as a whole.
    public var key: String
    /// The 1-based line of the key (or of its table header) in the file, when it could be found.
    public var line: Int?
    /// What is wrong and, where it helps, what would be right.
    public var message: String

    /// Creates an error at `key` (and `line` when known).
    public init(key: String, line: Int?, message: String) {
        self.key = key
        self.line = line
        self.message = message
    }

    /// `LINE: key: message` (or `key: message` without a line); the command puts the file path in front.
    public var description: String {
        (line.map { "\($0): " } ?? "") + "\(key): \(message)"
    }

    /// The line as `check-config` prints it: `PATH:LINE: key: message`.
    public func formatted(path: String) -> String {
        "\(path):" + (line.map { "\($0):" } ?? "") + " \(key): \(message)"
    }
}

/// Every mistake found in one configuration file, all at once: fixing them one run at a time is slow.
public struct ConfigurationErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// The mistakes, in file order (line, then key); those without a line come last.
    public var errors: [ConfigurationError]

    /// Wraps the mistakes, sorted into file order.
    public init(_ errors: [ConfigurationError]) {
        self.errors = errors.sorted { a, b in
            switch (a.line, b.line) {
            case let (x?, y?): return x != y ? x < y : a.key < b.key
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return a.key < b.key
            }
        }
    }

    /// One mistake per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
