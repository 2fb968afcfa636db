// The writer that mirrors the reader: envelopes, counts, truncation and release characters are its
// job, so receipt builders and message generators only say which segments and values they want.

/// A calendar date and time of day, passed in rather than read from a clock so receipts are reproducible.
public struct EDIFACTDateTime: Sendable, Hashable, CustomStringConvertible {
    /// Four-digit year; syntax versions 1-3 write only its last two digits.
    public var year: Int
    /// Month, 1-12.
    public var month: Int
    /// Day of the month, from 1.
    public var day: Int
    /// Hour, 0-23.
    public var hour: Int
    /// Minute, 0-59.
    public var minute: Int

    /// Creates a date and time; nothing is checked here, the writer refuses impossible values.
    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }

    /// True when every field is in range (the day is checked against the month, leap years included).
    public var isValid: Bool {
        guard (0...9999).contains(year), (1...12).contains(month), (0...23).contains(hour), (0...59).contains(minute) else {
            return false
        }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day)
    }

    /// UNB/UNG S004 date: YYMMDD (n6) up to syntax version 3, CCYYMMDD (n8) from version 4.
    public func envelopeDate(syntaxVersion: Int) -> String {
        syntaxVersion >= 4 ? ccyymmdd : Self.pad(year % 100, 2) + Self.pad(month, 2) + Self.pad(day, 2)
    }

    /// CCYYMMDD, the date part of DTM format 102/203.
    public var ccyymmdd: String { Self.pad(year, 4) + Self.pad(month, 2) + Self.pad(day, 2) }

    /// HHMM, the UNB/UNG S004 time.
    public var hhmm: String { Self.pad(hour, 2) + Self.pad(minute, 2) }

    /// CCYYMMDDHHMM, the value of a DTM with format qualifier 203.
    public var ccyymmddhhmm: String { ccyymmdd + hhmm }

    public var description: String {
        "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2)) \(Self.pad(hour, 2)):\(Self.pad(minute, 2))"
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// Why the writer refused a call; nothing was appended to the output when it throws.
///
/// Names the segment and the element (CONTRL 0098 convention, tag = 1) but never the value,
/// because payload contents stay out of logs.
public struct WriterError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A growable error code (the swift-nio habit): new reasons can be added without breaking callers.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A character of a value is outside the repertoire of the syntax identifier (what CONTRL calls 21).
        public static let notRepresentable = Code(rawValue: "notRepresentable")
        /// A value contains a separator and there is no release character to escape it (Level B, UNA4 space).
        public static let separatorWithoutRelease = Code(rawValue: "separatorWithoutRelease")
        /// A call came in the wrong order: a segment outside a message, UNT without UNH, groups mixed with messages.
        public static let outOfOrder = Code(rawValue: "outOfOrder")
        /// A segment tag that is not three upper-case letters or digits, or an envelope tag passed to `segment`.
        public static let invalidTag = Code(rawValue: "invalidTag")
        /// The delimiters cannot be announced or read back: two roles share a character, or a letter or digit is used.
        public static let invalidDelimiters = Code(rawValue: "invalidDelimiters")
        /// A mandatory envelope value is empty or too long, a date is impossible, or the syntax version is unknown.
        public static let invalidValue = Code(rawValue: "invalidValue")

        public var description: String { rawValue }
    }

    /// What kind of refusal, for callers that react differently (e.g. retry in a wider repertoire).
    public var code: Code
    /// The segment being written, e.g. "NAD".
    public var segmentTag: String
    /// Position of the element in the segment, tag = 1 (as CONTRL 0098); 0 for the whole segment.
    public var elementPosition: Int
    /// Position of the component in its composite, from 1 (as CONTRL 0104); 0 when not applicable.
    public var componentPosition: Int
    /// What went wrong, naming the segment and element, never the value.
    public var message: String

    /// Creates an error; `message` should name the place, not repeat the value.
    public init(code: Code, segmentTag: String, elementPosition: Int = 0, componentPosition: Int = 0, message: String) {
        self.code = code
        self.segmentTag = segmentTag
        self.elementPosition = elementPosition
        self.componentPosition = componentPosition
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// Writes EDIFACT interchanges (UNA? UNB [UNG] UNH ... UNT [UNE] UNZ) into a byte array.
///
/// It mirrors the reader: delimiters and repertoire are chosen once; values go in as text and come
/// out encoded, release-escaped and truncated (ISO 9735: trailing empty components and elements are
/// omitted); UNT, UNE and UNZ counts and references are computed, never passed in, so they cannot
/// disagree with what was written. A call that throws leaves `bytes` and the state unchanged.
public struct EDIFACTWriter: Sendable {
    /// The service characters written; the repetition separator is dropped below syntax version 4.
    public let delimiters: Delimiters
    /// The repertoire every value is encoded in (UNB S001/0001).
    public let syntaxIdentifier: SyntaxIdentifier
    /// UNB S001/0002, 1...4; it decides the date format and whether UNA5 is a repetition separator.
    public let syntaxVersion: Int
    /// True when `beginInterchange` writes a UNA before UNB.
    public let writesServiceStringAdvice: Bool
    /// Bytes written after each segment terminator (UNA's included), e.g. "\n" for people reading the file.
    public let segmentSuffix: [UInt8]
    /// Everything written so far, possibly several interchanges.
    public private(set) var bytes: [UInt8] = []

    private enum State { case idle, interchange, group, message }
    private var state = State.idle
    private var interchangeReference = ""
    private var groupReference = ""
    private var messageReference = ""
    private var messageIsInGroup = false
    /// Segments of the open message so far, UNH included.
    private var segmentsInMessage = 0
    private var messagesInGroup = 0
    private var bareMessages = 0
    private var groups = 0

    /// The envelope tags only the writer itself may write, so counts and references stay right.
    private static let envelopeTags: Set<String> = ["UNA", "UNB", "UNG", "UNE", "UNH", "UNT", "UNZ"]

    /// Chooses repertoire, version and delimiters once, as the partner agreement fixes them.
    ///
    /// - Parameters:
    ///   - delimiters: nil for the Level A defaults of the version (`:+.? '`, v4 `:+.?*'`).
    ///   - serviceStringAdvice: write UNA before each UNB (needed whenever the delimiters are not the defaults).
    ///   - segmentSuffix: text written after every segment terminator; empty by default (ISO 9735 has no line breaks).
    public init(syntaxIdentifier: SyntaxIdentifier = .UNOA, syntaxVersion: Int = 3, delimiters: Delimiters? = nil,
                serviceStringAdvice: Bool = false, segmentSuffix: String = "") {
        var d = delimiters ?? .levelA(syntaxVersion: syntaxVersion)
        if syntaxVersion < 4 { d.repetition = nil }
        self.delimiters = d
        self.syntaxIdentifier = syntaxIdentifier
        self.syntaxVersion = syntaxVersion
        self.writesServiceStringAdvice = serviceStringAdvice
        self.segmentSuffix = Array(segmentSuffix.utf8)
    }

    // MARK: - Envelope

    /// Starts an interchange: UNA (when configured) and UNB with the date formatted for the syntax version.
    ///
    /// `sender` and `recipient` are S002/S003 components (id, qualifier, routing address).
    public mutating func beginInterchange(
        sender: [String], recipient: [String], at date: EDIFACTDateTime, reference: String,
        applicationReference: String? = nil, acknowledgementRequest: Bool = false, testIndicator: Bool = false
    ) throws(WriterError) {
        guard state == .idle else {
            throw WriterError(code: .outOfOrder, segmentTag: "UNB", message: "UNB written while interchange \(interchangeReference) is open")
        }
        guard (1...4).contains(syntaxVersion) else {
            throw WriterError(code: .invalidValue, segmentTag: "UNB", elementPosition: 2, componentPosition: 2,
                              message: "UNB element 2:2: syntax version \(syntaxVersion) is not 1...4")
        }
        try Self.checkDelimiters(delimiters)
        try Self.checkReference(reference, tag: "UNB", position: 6, name: "interchange control reference (0020)")
        try Self.checkMandatory(sender.first, tag: "UNB", position: 3, name: "sender identification (0004)")
        try Self.checkMandatory(recipient.first, tag: "UNB", position: 4, name: "recipient identification (0010)")
        try Self.checkDate(date, tag: "UNB", position: 5)
        var out: [UInt8] = []
        if writesServiceStringAdvice {
            out += delimiters.serviceStringAdvice
            out += segmentSuffix
        }
        out += try serialize("UNB", [
            [syntaxIdentifier.rawValue, String(syntaxVersion)],
            sender,
            recipient,
            [date.envelopeDate(syntaxVersion: syntaxVersion), date.hhmm],
            [reference],
            [],  // S005 recipient reference / password
            [applicationReference ?? ""],
            [],  // 0029 processing priority
            [acknowledgementRequest ? "1" : ""],
            [],  // 0032 interchange agreement
            [testIndicator ? "1" : ""],
        ])
        bytes += out
        state = .interchange
        interchangeReference = reference
        bareMessages = 0
        groups = 0
    }

    /// Starts a functional group (UNG); a group's messages are counted into its UNE.
    ///
    /// `identifier` is 0038 (usually the message type); `version` is S008 (0052 version, 0054 release, 0057).
    public mutating func beginGroup(
        identifier: String, sender: [String], recipient: [String], at date: EDIFACTDateTime, reference: String,
        controllingAgency: String = "UN", version: [String], password: String? = nil
    ) throws(WriterError) {
        guard state == .interchange else {
            throw WriterError(code: .outOfOrder, segmentTag: "UNG", message: "UNG written \(whereWeAre)")
        }
        guard bareMessages == 0 else {
            throw WriterError(code: .outOfOrder, segmentTag: "UNG",
                              message: "UNG written after messages outside groups: groups and messages must not be mixed")
        }
        try Self.checkReference(reference, tag: "UNG", position: 6, name: "group reference (0048)")
        try Self.checkDate(date, tag: "UNG", position: 5)
        bytes += try serialize("UNG", [
            [identifier],
            sender,
            recipient,
            [date.envelopeDate(syntaxVersion: syntaxVersion), date.hhmm],
            [reference],
            [controllingAgency],
            version,
            [password ?? ""],
        ])
        state = .group
        groupReference = reference
        messagesInGroup = 0
        groups += 1
    }

    /// Ends the open group with UNE: the number of its messages and its reference.
    public mutating func endGroup() throws(WriterError) {
        guard state == .group else {
            throw WriterError(code: .outOfOrder, segmentTag: "UNE", message: "UNE written \(whereWeAre)")
        }
        bytes += try serialize("UNE", [[String(messagesInGroup)], [groupReference]])
        state = .interchange
    }

    /// Starts a message with UNH; `identifier` is S009 (type, version, release, agency, association code).
    public mutating func beginMessage(reference: String, identifier: [String]) throws(WriterError) {
        guard state == .interchange || state == .group else {
            throw WriterError(code: .outOfOrder, segmentTag: "UNH", message: "UNH written \(whereWeAre)")
        }
        if state == .interchange && groups > 0 {
            throw WriterError(code: .outOfOrder, segmentTag: "UNH",
                              message: "UNH written outside a group in an interchange that has groups: groups and messages must not be mixed")
        }
        try Self.checkReference(reference, tag: "UNH", position: 2, name: "message reference number (0062)")
        try Self.checkMandatory(identifier.first, tag: "UNH", position: 3, name: "message type (0065)")
        bytes += try serialize("UNH", [[reference], identifier])
        messageIsInGroup = state == .group
        state = .message
        messageReference = reference
        segmentsInMessage = 1
    }

    /// Ends the open message with UNT: segments from UNH to UNT inclusive, and the UNH reference.
    public mutating func endMessage() throws(WriterError) {
        guard state == .message else {
            throw WriterError(code: .outOfOrder, segmentTag: "UNT", message: "UNT written \(whereWeAre)")
        }
        bytes += try serialize("UNT", [[String(segmentsInMessage + 1)], [messageReference]])
        if messageIsInGroup {
            messagesInGroup += 1
            state = .group
        } else {
            bareMessages += 1
            state = .interchange
        }
    }

    /// Ends the interchange with UNZ: the number of groups when groups were used, else of messages.
    public mutating func endInterchange() throws(WriterError) {
        guard state == .interchange else {
            throw WriterError(code: .outOfOrder, segmentTag: "UNZ", message: "UNZ written \(whereWeAre)")
        }
        bytes += try serialize("UNZ", [[String(groups > 0 ? groups : bareMessages)], [interchangeReference]])
        state = .idle
    }

    // MARK: - Segments

    /// Writes one data segment of the open message; each element is its list of components.
    ///
    /// Empty trailing components and elements are omitted; empty ones in between are kept as
    /// empty positions (`NAD+MS+ID::ZZZ`).
    public mutating func segment(_ tag: String, _ elements: [[String]]) throws(WriterError) {
        guard !Self.envelopeTags.contains(tag) else {
            throw WriterError(code: .invalidTag, segmentTag: tag,
                              message: "\(tag) is an envelope segment: use the begin/end calls so counts and references stay right")
        }
        guard state == .message else {
            throw WriterError(code: .outOfOrder, segmentTag: tag, message: "\(tag) written \(whereWeAre)")
        }
        bytes += try serialize(tag, elements)
        segmentsInMessage += 1
    }

    // MARK: - Internals

    private var whereWeAre: String {
        switch state {
        case .idle: "outside an interchange"
        case .interchange: "in interchange \(interchangeReference) outside a message"
        case .group: "in group \(groupReference) outside a message"
        case .message: "inside message \(messageReference)"
        }
    }

    /// One segment's bytes, terminator and suffix included.
    private func serialize(_ tag: String, _ elements: [[String]]) throws(WriterError) -> [UInt8] {
        let tagBytes = Array(tag.utf8)
        guard tagBytes.count == 3,
              tagBytes.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else {
            throw WriterError(code: .invalidTag, segmentTag: tag, message: "segment tag must be three upper-case letters or digits")
        }
        var out = tagBytes
        // Truncation: only elements up to the last non-empty one, components up to the last non-empty one.
        let lastElement = elements.lastIndex { element in element.contains { !$0.isEmpty } } ?? -1
        var e = 0
        while e <= lastElement {
            out.append(delimiters.element)
            let components = elements[e]
            let lastComponent = components.lastIndex { !$0.isEmpty } ?? -1
            var c = 0
            while c <= lastComponent {
                if c > 0 { out.append(delimiters.component) }
                try appendValue(components[c], into: &out, tag: tag, element: e + 2, component: components.count > 1 ? c + 1 : 0)
                c += 1
            }
            e += 1
        }
        out.append(delimiters.segment)
        out += segmentSuffix
        return out
    }

    /// Encodes a value in the repertoire and puts the release character before every service character.
    private func appendValue(_ value: String, into out: inout [UInt8], tag: String, element: Int, component: Int) throws(WriterError) {
        // Built only for an error: a string per value was a fifth of writing a CUSCAR.
        var place: String { component > 0 ? "\(tag) element \(element):\(component)" : "\(tag) element \(element)" }
        guard let encoded = syntaxIdentifier.encode(value) else {
            let bad = value.unicodeScalars.first { syntaxIdentifier.encode(String($0)) == nil }
            let which = bad.map { scalar -> String in
                let hex = String(scalar.value, radix: 16, uppercase: true)
                return " (U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + ")"
            } ?? ""
            throw WriterError(code: .notRepresentable, segmentTag: tag, elementPosition: element, componentPosition: component,
                              message: "\(place): a character\(which) is not in the \(syntaxIdentifier.rawValue) repertoire")
        }
        for b in encoded {
            if delimiters.isServiceCharacter(b) {
                guard let release = delimiters.release else {
                    throw WriterError(code: .separatorWithoutRelease, segmentTag: tag, elementPosition: element, componentPosition: component,
                                      message: "\(place): the value contains a service character and there is no release character to escape it")
                }
                out.append(release)
            }
            out.append(b)
        }
    }

    private static func checkDelimiters(_ d: Delimiters) throws(WriterError) {
        guard d.isWritable else {
            throw WriterError(code: .invalidDelimiters, segmentTag: "UNA",
                              message: "delimiters must be distinct, not letters, digits or space, and the decimal mark '.' or ','")
        }
    }

    private static func checkReference(_ value: String, tag: String, position: Int, name: String) throws(WriterError) {
        guard !value.isEmpty, value.unicodeScalars.count <= 14 else {
            throw WriterError(code: .invalidValue, segmentTag: tag, elementPosition: position,
                              message: "\(tag) element \(position): the \(name) must be 1 to 14 characters")
        }
    }

    private static func checkMandatory(_ value: String?, tag: String, position: Int, name: String) throws(WriterError) {
        guard let value, !value.isEmpty else {
            throw WriterError(code: .invalidValue, segmentTag: tag, elementPosition: position, componentPosition: 1,
                              message: "\(tag) element \(position):1: the \(name) is mandatory")
        }
    }

    private static func checkDate(_ date: EDIFACTDateTime, tag: String, position: Int) throws(WriterError) {
        guard date.isValid else {
            throw WriterError(code: .invalidValue, segmentTag: tag, elementPosition: position,
                              message: "\(tag) element \(position): \(date) is not a valid date and time")
        }
    }
}

extension Delimiters {
    /// True when these delimiters can be announced in UNA and split on again: every role a distinct
    /// character, none a letter, digit or space, and the decimal mark `.` or `,`.
    var isWritable: Bool {
        var roles = [component, element, segment]
        if let release { roles.append(release) }
        if let repetition { roles.append(repetition) }
        let alphanumericOrSpace: (UInt8) -> Bool = { b in
            b == 0x20 || (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b)
        }
        return Set(roles).count == roles.count && !roles.contains(decimalMark) && !roles.contains(where: alphanumericOrSpace)
            && (decimalMark == UInt8(ascii: ".") || decimalMark == UInt8(ascii: ","))
    }
}
