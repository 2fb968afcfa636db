/// The line of every key and table header in a TOML text, found by a small scan of the text.
///
/// Why a scan: TOMLKit (over toml++) reports source positions only for syntax errors; the tables it
/// returns carry none. So, once the text has parsed, this index walks it line by line: it follows
/// `[table]` and `[[array-of-tables]]` headers (counting array tables from 1, as key paths do),
/// reads the key before each `=`, and skips the bodies of multi-line strings and arrays. Keys inside
/// inline tables and array elements are not indexed; ``line(for:)`` falls back to the nearest
/// enclosing key or table, which is on the same line or the line that opened the value.
struct TOMLLineIndex {
    private var lines: [String: Int] = [:]

    /// Indexes `text`, which must already have parsed as TOML (the scan is lenient, not a validator).
    init(_ text: String) {
        var arrayCounts: [String: Int] = [:]     // "partner" -> number of [[partner]] seen so far
        var prefix: [String] = []                // key path components of the current table
        var pending: Continuation? = nil         // a value still open from an earlier line
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            var scanner = LineScanner(Array(rawLine.utf8))
            if let open = pending {
                pending = scanner.skipValue(from: open)
                continue
            }
            scanner.skipSpaces()
            guard let c = scanner.peek, c != UInt8(ascii: "#"), c != UInt8(ascii: "\r") else { continue }
            if c == UInt8(ascii: "[") {
                let isArray = scanner.peek(at: 1) == UInt8(ascii: "[")
                scanner.advance(isArray ? 2 : 1)
                let names = scanner.readKey()
                // Resolve each prefix against the array tables seen so far: [partner.readiness] after the
                // second [[partner]] is partner[2].readiness.
                var path: [String] = []
                var plain: [String] = []
                for (i, name) in names.enumerated() {
                    plain.append(name)
                    let plainKey = plain.joined(separator: ".")
                    var component = KeyPath.component(name)
                    if isArray && i == names.count - 1 {
                        arrayCounts[plainKey, default: 0] += 1
                        component += "[\(arrayCounts[plainKey]!)]"
                    } else if let n = arrayCounts[plainKey] {
                        component += "[\(n)]"
                    }
                    path.append(component)
                }
                prefix = path
                let key = path.joined(separator: ".")
                if lines[key] == nil { lines[key] = lineNumber }
                continue
            }
            let names = scanner.readKey()
            guard !names.isEmpty else { continue }
            let key = (prefix + names.map(KeyPath.component)).joined(separator: ".")
            if lines[key] == nil { lines[key] = lineNumber }
            scanner.skipSpaces()
            if scanner.peek == UInt8(ascii: "=") { scanner.advance(1) }
            pending = scanner.skipValue(from: Continuation())
        }
    }

    /// The line of `key`, or of the nearest enclosing key or table that was indexed.
    func line(for key: String) -> Int? {
        var k = Substring(key)
        while !k.isEmpty {
            if let n = lines[String(k)] { return n }
            if k.last == "]", let open = k.lastIndex(of: "[") {
                k = k[..<open]
            } else if let dot = KeyPath.lastSeparator(in: k) {
                k = k[..<dot]
            } else {
                return nil
            }
        }
        return nil
    }

    /// What is still open at the end of a line: brackets or a multi-line string.
    struct Continuation {
        var depth = 0
        var multiline: UInt8? = nil   // the quote byte of an open """ or ''' string
        var isOpen: Bool { depth > 0 || multiline != nil }
    }

    /// A cursor over one line's bytes.
    private struct LineScanner {
        let bytes: [UInt8]
        var i = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }
        func peek(at offset: Int) -> UInt8? { i + offset < bytes.count ? bytes[i + offset] : nil }
        mutating func advance(_ n: Int) { i = min(i + n, bytes.count) }
        mutating func skipSpaces() {
            while let c = peek, c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { i += 1 }
        }

        /// Reads a dotted key of bare and quoted parts, stopping at `=`, `]` or the end.
        mutating func readKey() -> [String] {
            var parts: [String] = []
            while true {
                skipSpaces()
                guard let c = peek else { return parts }
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    i += 1
                    var value: [UInt8] = []
                    while let d = peek, d != c {
                        if c == UInt8(ascii: "\"") && d == UInt8(ascii: "\\"), let e = peek(at: 1) {
                            value.append(e); i += 2; continue
                        }
                        value.append(d); i += 1
                    }
                    i += 1
                    parts.append(String(decoding: value, as: UTF8.self))
                } else {
                    let start = i
                    while let d = peek, KeyPath.isBareKeyByte(d) { i += 1 }
                    if i == start { return parts }
                    parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
                }
                skipSpaces()
                if peek == UInt8(ascii: ".") { i += 1 } else { return parts }
            }
        }

        /// Skips a value (or the rest of one carried over), returning what is still open at the line's end.
        mutating func skipValue(from start: Continuation) -> Continuation? {
            var state = start
            while i < bytes.count {
                if let q = state.multiline {
                    if bytes[i] == UInt8(ascii: "\\") && q == UInt8(ascii: "\"") { i += 2; continue }
                    if peek == q && peek(at: 1) == q && peek(at: 2) == q {
                        i += 3
                        while peek == q { i += 1 }  // up to two quotes may end the string's content
                        state.multiline = nil
                    } else {
                        i += 1
                    }
                    continue
                }
                let c = bytes[i]
                switch c {
                case UInt8(ascii: "#"):
                    i = bytes.count
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    if peek(at: 1) == c && peek(at: 2) == c {
                        i += 3
                        state.multiline = c
                    } else {
                        i += 1
                        while let d = peek, d != c {
                            i += (c == UInt8(ascii: "\"") && d == UInt8(ascii: "\\")) ? 2 : 1
                        }
                        i += 1
                    }
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    state.depth += 1; i += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    state.depth = max(0, state.depth - 1); i += 1
                default:
                    i += 1
                }
            }
            return state.isOpen ? state : nil
        }
    }
}

/// How key paths are spelled, shared by the index and the checks so that both name a key alike.
enum KeyPath {
    /// Whether `b` may appear in a bare TOML key.
    static func isBareKeyByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    /// A key as one path component: bare when it can be, else double-quoted.
    static func component(_ name: String) -> String {
        if !name.isEmpty && name.utf8.allSatisfy(isBareKeyByte) { return name }
        return "\"" + name.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") + "\""
    }

    /// Joins a table path and a key.
    static func join(_ table: String, _ key: String) -> String {
        table.isEmpty ? component(key) : table + "." + component(key)
    }

    /// The last `.` that separates components (not one inside a quoted component).
    static func lastSeparator(in path: Substring) -> Substring.Index? {
        var inQuote = false, escaped = false
        var last: Substring.Index?
        var idx = path.startIndex
        while idx < path.endIndex {
            let c = path[idx]
            if inQuote {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inQuote = false }
            } else if c == "\"" {
                inQuote = true
            } else if c == "." {
                last = idx
            }
            idx = path.index(after: idx)
        }
        return last
    }
}

extension String {
    /// Every occurrence of `target` replaced (without Foundation's bridging).
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = "", rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]; out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
