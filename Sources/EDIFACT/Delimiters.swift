/// The service characters of an interchange: from UNA, or the defaults of the syntax identifier.
public struct Delimiters: Hashable, Sendable {
    /// Component data element separator (UNA1).
    public var component: UInt8
    /// Data element separator (UNA2).
    public var element: UInt8
    /// Decimal mark (UNA3): `.` or `,`. Not a service character; never released.
    public var decimalMark: UInt8
    /// Release character (UNA4); nil when not used (UNA4 is a space, or Level B defaults).
    public var release: UInt8?
    /// Repetition separator (UNA5, syntax version 4 only); nil when not used.
    public var repetition: UInt8?
    /// Segment terminator (UNA6).
    public var segment: UInt8

    public init(component: UInt8, element: UInt8, decimalMark: UInt8, release: UInt8?, repetition: UInt8?, segment: UInt8) {
        self.component = component
        self.element = element
        self.decimalMark = decimalMark
        self.release = release
        self.repetition = repetition
        self.segment = segment
    }

    /// Level A defaults (`:+.? '`); with `repetition` for syntax version 4 (`*`).
    public static func levelA(syntaxVersion: Int = 3) -> Delimiters {
        Delimiters(
            component: UInt8(ascii: ":"), element: UInt8(ascii: "+"), decimalMark: UInt8(ascii: "."),
            release: UInt8(ascii: "?"), repetition: syntaxVersion >= 4 ? UInt8(ascii: "*") : nil, segment: UInt8(ascii: "'"))
    }

    /// Level B defaults (UNOB without UNA): information separators IS1/IS3/IS4, no release character.
    /// ISO 9735 leaves the v4 repetition separator for Level B unstated; we use none.
    public static let levelB = Delimiters(
        component: 0x1F, element: 0x1D, decimalMark: UInt8(ascii: "."), release: nil, repetition: nil, segment: 0x1C)

    /// The characters a release character may escape.
    public func isServiceCharacter(_ b: UInt8) -> Bool {
        b == component || b == element || b == segment || b == release || (repetition != nil && b == repetition)
    }

    /// The UNA string that announces these delimiters (9 bytes).
    public var serviceStringAdvice: [UInt8] {
        Array("UNA".utf8) + [component, element, decimalMark, release ?? 0x20, repetition ?? 0x20, segment]
    }
}
