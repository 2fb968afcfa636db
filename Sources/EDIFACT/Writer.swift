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
/// disagree with what was written. A call that throws leaves `bytes` and the state unchanged, except
/// that a value refused between `beginSegment` and `endSegment` discards that segment (see `beginSegment`).
///
/// Data segments go in whole (`segment(_:_:)`) or value by value (`beginSegment`, `element`,
/// `beginComposite`/`component`, `endSegment`); the second way writes straight into `bytes`, with no
/// arrays of strings to build, for writers of large messages (CUSCAR copies).
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
    /// When set, a character outside the repertoire is written as this byte instead of refused. For receipts
    /// only: an answer with `?` where the partner sent something unwritable (a NUL, a name in another script)
    /// is better than no answer; everything else the gateway writes refuses.
    public var substitute: UInt8?

    private enum State { case idle, interchange, group, message, segment }
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

    // The segment being written (a data segment from `beginSegment` to `endSegment`, or an envelope segment).
    /// Where its bytes start in `bytes` (its UNA's, for UNB): a refused value truncates back to here.
    private var segmentStart = 0
    /// Its tag, packed as in `SegmentTag`, to name it in refusals.
    private var segmentTag: UInt32 = 0
    /// Position of the element being written, tag = 1 (CONTRL 0098).
    private var elementPosition = 1
    /// Index from 0 of the component being written; -1 before the first component of a composite.
    private var componentIndex = 0
    /// True when the element is a composite, so refusals name the component (CONTRL 0104, from 1).
    private var inComposite = false
    /// Element and component separators owed before the next non-empty value. They are written only
    /// when a value follows, which is ISO 9735 truncation: trailing empty elements and components vanish.
    private var pendingElements = 0
    private var pendingComponents = 0
    /// Per byte value: 0 for an ASCII byte of the repertoire written as it is, 1 for a service character
    /// written after the release character, 2 for anything else (left to `SyntaxIdentifier.encode`).
    private let asciiClass: [UInt8]

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
        let allowed = syntaxIdentifier.allowedBytes
        asciiClass = (0..<256).map { b in
            guard b < 0x80, allowed[b] else { return 2 }
            guard d.isServiceCharacter(UInt8(b)) else { return 0 }
            return d.release == nil ? 2 : 1  // no release character: refused, with its message, on the slow path
        }
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
        let start = bytes.count
        if writesServiceStringAdvice {
            bytes += delimiters.serviceStringAdvice
            bytes += segmentSuffix
        }
        try writeEnvelopeSegment(SegmentTag.UNB.rawValue, from: start, [
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
        try writeEnvelopeSegment(SegmentTag.UNG.rawValue, [
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
        try writeEnvelopeSegment(SegmentTag.UNE.rawValue, [[String(messagesInGroup)], [groupReference]])
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
        try writeEnvelopeSegment(SegmentTag.UNH.rawValue, [[reference], identifier])
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
        try writeEnvelopeSegment(SegmentTag.UNT.rawValue, [[String(segmentsInMessage + 1)], [messageReference]])
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
        try writeEnvelopeSegment(SegmentTag.UNZ.rawValue, [[String(groups > 0 ? groups : bareMessages)], [interchangeReference]])
        state = .idle
    }

    // MARK: - Segments

    /// Writes one data segment of the open message; each element is its list of components.
    ///
    /// Empty trailing components and elements are omitted; empty ones in between are kept as
    /// empty positions (`NAD+MS+ID::ZZZ`). An element of one component is a simple data element.
    public mutating func segment(_ tag: String, _ elements: [[String]]) throws(WriterError) {
        try beginDataSegment(Self.packedTag(tag.utf8), tag)
        for components in elements { try element(components: components) }
        try endSegment()
    }

    /// Starts a data segment of the open message, to be filled with `element`, `beginComposite` and
    /// `component` and closed with `endSegment` (the same output as `segment(_:_:)`, without its arrays).
    ///
    /// A value refused before `endSegment` throws and discards the whole segment: `bytes` is back
    /// where it was before this call, and the next call may start another segment.
    public mutating func beginSegment(_ tag: StaticString) throws(WriterError) {
        try beginDataSegment(tag.withUTF8Buffer { Self.packedTag($0) }, tag.description)
    }

    /// Appends a simple data element holding `value` (an empty value is an empty position).
    public mutating func element(_ value: String) throws(WriterError) {
        try requireOpenSegment("a data element")
        startElement(composite: false)
        try writeValue(value)
    }

    /// Appends a data element of these components, as `segment(_:_:)` does: one component makes a
    /// simple data element, several a composite, none an empty position.
    public mutating func element(components: [String]) throws(WriterError) {
        try element(components: components[...])
    }

    /// Appends a data element of these components (see `element(components:)`), e.g. five lines of a longer text.
    public mutating func element(components: ArraySlice<String>) throws(WriterError) {
        guard components.count > 1 else { return try element(components.first ?? "") }
        try beginComposite()
        for value in components { try component(value) }
    }

    /// Starts a composite data element; its components follow with `component(_:)`.
    public mutating func beginComposite() throws(WriterError) {
        try requireOpenSegment("a composite data element")
        startElement(composite: true)
    }

    /// Appends the next component of the composite started by `beginComposite`.
    public mutating func component(_ value: String) throws(WriterError) {
        try requireOpenSegment("a component")
        guard inComposite else {
            throw WriterError(code: .outOfOrder, segmentTag: SegmentTag(rawValue: segmentTag).description,
                              message: "a component written outside a composite data element: call beginComposite first")
        }
        nextComponent()
        try writeValue(value)
    }

    /// Ends the segment started by `beginSegment`: terminator, suffix, and one more segment for UNT to count.
    public mutating func endSegment() throws(WriterError) {
        try requireOpenSegment("the end of a segment")
        closeSegment()
        segmentsInMessage += 1
        state = .message
    }

    // MARK: - Internals

    private var whereWeAre: String {
        switch state {
        case .idle: "outside an interchange"
        case .interchange: "in interchange \(interchangeReference) outside a message"
        case .group: "in group \(groupReference) outside a message"
        case .message: "inside message \(messageReference)"
        case .segment: "inside segment \(SegmentTag(rawValue: segmentTag)) of message \(messageReference)"
        }
    }

    /// The checks of a data segment's start, in the order `segment(_:_:)` always made them: an envelope
    /// tag, then the state, then the tag's form. `packed` is nil when the tag is not three letters or digits.
    private mutating func beginDataSegment(_ packed: UInt32?, _ tag: @autoclosure () -> String) throws(WriterError) {
        if let packed, Self.isEnvelopeTag(packed) {
            throw WriterError(code: .invalidTag, segmentTag: tag(),
                              message: "\(tag()) is an envelope segment: use the begin/end calls so counts and references stay right")
        }
        guard state == .message else {
            throw WriterError(code: .outOfOrder, segmentTag: tag(), message: "\(tag()) written \(whereWeAre)")
        }
        guard let packed else {
            throw WriterError(code: .invalidTag, segmentTag: tag(), message: "segment tag must be three upper-case letters or digits")
        }
        openSegment(packed, from: bytes.count)
        state = .segment
    }

    /// Mutating only so that the writer is not copied for the check (a copy retained every array in it).
    @inline(__always)
    private mutating func requireOpenSegment(_ what: StaticString) throws(WriterError) {
        guard state == .segment else { throw notInSegment(what) }
    }

    @inline(never)
    private func notInSegment(_ what: StaticString) -> WriterError {
        WriterError(code: .outOfOrder, segmentTag: "", message: "\(what) written \(whereWeAre): call beginSegment first")
    }

    /// The tags only the writer itself may write, so counts and references stay right.
    private static func isEnvelopeTag(_ packed: UInt32) -> Bool {
        switch SegmentTag(rawValue: packed) {
        case .UNA, .UNB, .UNG, .UNE, .UNH, .UNT, .UNZ: true
        default: false
        }
    }

    /// The tag packed as in `SegmentTag`, or nil when it is not three upper-case letters or digits.
    private static func packedTag<C: Collection<UInt8>>(_ tag: C) -> UInt32? {
        guard tag.count == 3 else { return nil }
        var packed: UInt32 = 0
        for b in tag {
            guard (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) else { return nil }
            packed = packed << 8 | UInt32(b)
        }
        return packed
    }

    /// Writes a UNB, UNG, UNE, UNH, UNT or UNZ whole; on a refusal `bytes` goes back to `start`.
    private mutating func writeEnvelopeSegment(_ packed: UInt32, from start: Int? = nil, _ elements: [[String]]) throws(WriterError) {
        openSegment(packed, from: start ?? bytes.count)
        for components in elements {
            startElement(composite: components.count > 1)
            for value in components {
                if inComposite { nextComponent() }
                try writeValue(value)
            }
        }
        closeSegment()
    }

    private mutating func openSegment(_ packed: UInt32, from start: Int) {
        segmentStart = start
        segmentTag = packed
        bytes.append(UInt8(truncatingIfNeeded: packed >> 16))
        bytes.append(UInt8(truncatingIfNeeded: packed >> 8))
        bytes.append(UInt8(truncatingIfNeeded: packed))
        elementPosition = 1
        pendingElements = 0
        pendingComponents = 0
    }

    private mutating func startElement(composite: Bool) {
        elementPosition += 1
        inComposite = composite
        componentIndex = composite ? -1 : 0
        pendingElements += 1
        pendingComponents = 0  // trailing empty components of the element before are dropped
    }

    private mutating func nextComponent() {
        componentIndex += 1
        if componentIndex > 0 { pendingComponents += 1 }
    }

    private mutating func closeSegment() {
        bytes.append(delimiters.segment)
        bytes += segmentSuffix
    }

    /// Encodes a value in the repertoire, with the release character before every service character,
    /// after the separators it is owed. A refusal discards the segment being written.
    private mutating func writeValue(_ value: String) throws(WriterError) {
        guard !value.isEmpty else { return }  // owes its separator to whatever non-empty value follows
        while pendingElements > 0 { bytes.append(delimiters.element); pendingElements -= 1 }
        while pendingComponents > 0 { bytes.append(delimiters.component); pendingComponents -= 1 }
        // Fast path, for values that are ASCII in the repertoire (nearly all): the UTF-8 bytes are the
        // encoding in every repertoire, so they are copied with one table look-up a byte, where the
        // general encoder built an array per value and walked Unicode scalars.
        if value.utf8.withContiguousStorageIfAvailable({ appendASCII($0) }) == true { return }
        do {
            try appendEncoded(value)
        } catch {
            bytes.removeSubrange(segmentStart...)
            if state == .segment { state = .message }
            throw error
        }
    }

    /// Appends `utf8` when every byte is on the fast path (class 0 or 1), else appends nothing and returns false.
    private mutating func appendASCII(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        var releases = 0
        for b in utf8 {
            switch asciiClass[Int(b)] {
            case 0: continue
            case 1: releases += 1
            default: return false
            }
        }
        if releases == 0 {
            bytes.append(contentsOf: utf8)
        } else if let release = delimiters.release {
            for b in utf8 {
                if asciiClass[Int(b)] == 1 { bytes.append(release) }
                bytes.append(b)
            }
        }
        return true
    }

    /// The general path: any repertoire, and the refusals with their messages.
    private mutating func appendEncoded(_ value: String) throws(WriterError) {
        let packed = segmentTag, element = elementPosition, component = inComposite ? componentIndex + 1 : 0
        // Built only for an error: a string per value was a fifth of writing a CUSCAR.
        var tag: String { SegmentTag(rawValue: packed).description }
        var place: String { component > 0 ? "\(tag) element \(element):\(component)" : "\(tag) element \(element)" }
        guard let encoded = syntaxIdentifier.encode(value) ?? substitute.map({ replacement in
            value.unicodeScalars.flatMap { syntaxIdentifier.encode(String($0)) ?? [replacement] }
        }) else {
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
                bytes.append(release)
            }
            bytes.append(b)
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
