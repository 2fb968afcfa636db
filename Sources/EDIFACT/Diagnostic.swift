/// The level of the subject a diagnostic is about; it decides where CONTRL reports it (UCI, UCF, UCM, UCS/UCD).
public enum DiagnosticLevel: String, Sendable, Hashable, Codable {
    case interchange, group, message, segment, element
}

/// A validation finding: an ISO 9735 0085 code, where it was found, and why, in plain words.
///
/// Findings are values, not thrown errors (the StAEDI habit): a reader reports as many as it can
/// and keeps going, and receipts are built from them.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public var code: SyntaxErrorCode
    public var level: DiagnosticLevel
    public var location: Location
    /// A plain-language reason naming what was expected and what was found; no payload beyond the offending value.
    public var reason: String

    public init(code: SyntaxErrorCode, level: DiagnosticLevel, location: Location, reason: String) {
        self.code = code
        self.level = level
        self.location = location
        self.reason = reason
    }

    public var description: String { "\(location): [\(code.rawValue)] \(reason)" }
}
