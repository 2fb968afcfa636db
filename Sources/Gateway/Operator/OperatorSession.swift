import Foundation

/// The exit status of an operator verb (`jobs`, `status`, `quarantine`, `conflicts`), as scripts read it.
public enum OperatorStatus: Int32, Sendable {
    /// The verb did its job (an empty listing included).
    case success = 0
    /// The job was not found, the verb refused (wrong state), or the ledger could not be read.
    case refused = 1
    /// A usage error, or the configuration is unreadable or has mistakes.
    case usage = 2
}

/// The configuration and ledger one operator verb works on, opened the way `gateway run` opens them.
///
/// A ledger that does not exist yet (nothing has run) is read as empty rather than created: a read-side
/// verb should not leave a database behind, and "no jobs" is the truthful answer.
struct OperatorSession {
    /// The loaded configuration.
    let configuration: GatewayConfiguration
    /// The ledger's path.
    let storePath: String
    /// The ledger, or nil when its file does not exist yet.
    let store: GatewayStore?

    /// Loads the configuration at `path` and opens its ledger, then runs `body`; reports a configuration
    /// problem (exit 2) or a ledger that cannot be opened or read (exit 1) on `err`.
    static func with(
        path: String, out: OutputSink, err: OutputSink, _ body: (OperatorSession) throws -> OperatorStatus
    ) -> OperatorStatus {
        defer { out.flush(); err.flush() }
        guard let configuration = ConfigurationLoader.loadReporting(path: path, err: err, nothingWas: "read") else {
            return .usage
        }
        let store: GatewayStore?
        let storePath: String
        do {
            switch configuration.store {
            case .sqlite(let path):
                storePath = path
                store = FileManager.default.fileExists(atPath: path) ? try GatewayStore(path: path) : nil
            case .postgres(let settings):
                storePath = settings.description
                store = try GatewayStore(postgres: settings)
            }
        } catch {
            err.line("cannot open the ledger \(configuration.store.description): \(error)")
            return .refused
        }
        do {
            return try body(OperatorSession(configuration: configuration, storePath: storePath, store: store))
        } catch {
            err.line("ledger \(storePath): \(error)")
            return .refused
        }
    }

    /// Where the raw bytes of a batch are kept, when the raw store exists and holds them.
    func rawPath(sha256 hex: String) -> String? {
        let root = configuration.stateDirectory + "/raw"
        // Opening a RawStore creates its directories; a read-side verb only looks where one already is.
        guard FileManager.default.fileExists(atPath: root + "/sha256"), let digest = SHA256Digest(hex: hex),
              let raw = try? RawStore(root: root), raw.contains(digest) else { return nil }
        return raw.path(for: digest)
    }
}

/// Text and JSON rendering shared by the operator verbs, so every listing looks and parses alike.
enum OperatorFormat {
    /// A time as ISO 8601 UTC to the second, the one form operators read everywhere.
    static func time(_ date: Date) -> String { ConfigurationCheck.timestamp(date) }

    /// A time or "-".
    static func time(_ date: Date?) -> String { date.map(time) ?? "-" }

    /// A duration as its two largest units ("3d 4h", "2h 5m", "45s"): enough to judge how stale a queue is.
    static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60)
        if d > 0 { return "\(d)d \(h)h" }
        if h > 0 { return "\(h)h \(m)m" }
        if m > 0 { return "\(m)m \(s % 60)s" }
        return "\(s)s"
    }

    /// One JSON document: sorted keys, two-space indentation (the same text on every platform).
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return String(decoding: JSONText.prettyPrinted(data), as: UTF8.self)
    }

    /// Makes a value safe for one table cell: line breaks and tabs in stored messages would break the columns.
    static func cell(_ text: String) -> String {
        String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }

    /// Column alignment in a table.
    enum Alignment { case left, right }

    /// Lines of an aligned table (two spaces between columns, no trailing spaces); the header row first.
    static func table(_ header: [String], _ rows: [[String]], alignments: [Alignment] = []) -> [String] {
        let all = [header] + rows.map { $0.map(cell) }
        var widths = Array(repeating: 0, count: header.count)
        for row in all { for (i, value) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], value.count) } }
        return all.map { row in
            var parts: [String] = []
            for (i, value) in row.enumerated() {
                let padding = String(repeating: " ", count: widths[i] - value.count)
                let right = i < alignments.count && alignments[i] == .right
                parts.append(right ? padding + value : (i == row.count - 1 ? value : value + padding))
            }
            var line = parts.joined(separator: "  ")
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    /// "N thing" / "N things".
    static func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
        "\(n) \(n == 1 ? noun : plural ?? noun + "s")"
    }
}

/// Encodes nil as JSON null instead of leaving the key out, so every document has the same keys.
@propertyWrapper
struct Nullable<Value: Encodable>: Encodable {
    /// The value, nil encoded as null.
    var wrappedValue: Value?

    /// Wraps a value.
    init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    /// null or the value.
    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension Nullable: Sendable where Value: Sendable {}

/// Arbitrary JSON (a job's stored input or output), re-encoded as part of a document so scripts read it
/// as JSON, not as a string to parse again; keys come out sorted like the rest.
enum JSONValue: Codable, Equatable {
    case null, bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    /// Parses stored JSON text; text that does not parse is kept as a string (the schema checks it, but an
    /// operator tool should show what is there rather than fail).
    init(text: String) {
        self = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
    }

    /// Decodes any JSON value.
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// Encodes the value as it was.
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .integer(let i): try c.encode(i)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
