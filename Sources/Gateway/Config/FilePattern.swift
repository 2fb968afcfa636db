/// A file-name glob a partner's files must match to be taken: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`
/// (or `[^x]`) and `\` to escape; it matches the whole name, never a `/`.
///
/// Checked when the configuration loads, so a broken pattern is an error with its key and line rather
/// than a partner whose files are silently never picked up.
public struct FilePattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    private let tokens: [Token]

    private enum Token: Sendable, Hashable {
        case byte(UInt8)
        case any          // ?
        case star         // *
        case set([ClosedRange<UInt8>], negated: Bool)
    }

    /// Why a pattern was refused, in words for a configuration error.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What is wrong.
        public var message: String
        /// The message.
        public var description: String { message }
    }

    /// Parses a glob; throws when it is empty, contains `/`, or has an unclosed `[` or a trailing `\`.
    public init(parsing pattern: String) throws(ParseError) {
        self.pattern = pattern
        let b = Array(pattern.utf8)
        guard !b.isEmpty else { throw ParseError(message: "the pattern is empty") }
        guard !b.contains(UInt8(ascii: "/")) else {
            throw ParseError(message: "'\(pattern)' contains '/'; patterns match file names, not paths")
        }
        var tokens: [Token] = []
        var i = 0
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "*"):
                if tokens.last != .star { tokens.append(.star) }
                i += 1
            case UInt8(ascii: "?"):
                tokens.append(.any); i += 1
            case UInt8(ascii: "\\"):
                guard i + 1 < b.count else { throw ParseError(message: "'\(pattern)' ends with a lone '\\'") }
                tokens.append(.byte(b[i + 1])); i += 2
            case UInt8(ascii: "["):
                var j = i + 1
                var negated = false
                if j < b.count && (b[j] == UInt8(ascii: "!") || b[j] == UInt8(ascii: "^")) { negated = true; j += 1 }
                var ranges: [ClosedRange<UInt8>] = []
                var first = true
                while j < b.count && (b[j] != UInt8(ascii: "]") || first) {
                    first = false
                    var low = b[j]
                    if low == UInt8(ascii: "\\") && j + 1 < b.count { j += 1; low = b[j] }
                    if j + 2 < b.count && b[j + 1] == UInt8(ascii: "-") && b[j + 2] != UInt8(ascii: "]") {
                        let high = b[j + 2]
                        guard low <= high else {
                            throw ParseError(message: "'\(pattern)': the range '\(Character(Unicode.Scalar(low)))-\(Character(Unicode.Scalar(high)))' runs backwards")
                        }
                        ranges.append(low...high); j += 3
                    } else {
                        ranges.append(low...low); j += 1
                    }
                }
                guard j < b.count else { throw ParseError(message: "'\(pattern)' has a '[' that is never closed") }
                tokens.append(.set(ranges, negated: negated))
                i = j + 1
            default:
                tokens.append(.byte(b[i])); i += 1
            }
        }
        self.tokens = tokens
    }

    /// The pattern as written.
    public var description: String { pattern }

    /// Whether the whole of `name` matches (bytes compared exactly, so case matters).
    public func matches(_ name: String) -> Bool {
        let s = Array(name.utf8)
        // Iterative wildcard matching with one backtrack point: linear in practice, no recursion.
        var p = 0, i = 0
        var starP = -1, starI = 0
        while i < s.count {
            if p < tokens.count {
                switch tokens[p] {
                case .star:
                    starP = p; starI = i; p += 1; continue
                case .any:
                    if s[i] != UInt8(ascii: "/") { p += 1; i += 1; continue }
                case .byte(let c):
                    if s[i] == c { p += 1; i += 1; continue }
                case let .set(ranges, negated):
                    if s[i] != UInt8(ascii: "/") && ranges.contains(where: { $0.contains(s[i]) }) != negated {
                        p += 1; i += 1; continue
                    }
                }
            }
            guard starP >= 0, s[starI] != UInt8(ascii: "/") else { return false }
            starI += 1; i = starI; p = starP + 1
        }
        while p < tokens.count, tokens[p] == .star { p += 1 }
        return p == tokens.count
    }
}
