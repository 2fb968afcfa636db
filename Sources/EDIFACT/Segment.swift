/// A segment tag packed into an integer ("NAD" → 0x4E4144), so structure tables compare tags without strings.
public struct SegmentTag: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: UInt32

    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Packs up to the first three bytes; a longer or shorter tag gets a value no real tag has.
    @inlinable
    public init<C: Collection>(bytes: C) where C.Element == UInt8 {
        if bytes.count != 3 {
            self.rawValue = 0xFF00_0000 | UInt32(truncatingIfNeeded: bytes.count)
            return
        }
        var v: UInt32 = 0
        for b in bytes { v = v << 8 | UInt32(b) }
        self.rawValue = v
    }

    public init(_ string: String) { self.init(bytes: Array(string.utf8)) }
    public init(stringLiteral value: String) { self.init(value) }

    public var description: String {
        if rawValue & 0xFF00_0000 != 0 { return "" }
        let bytes = [UInt8(rawValue >> 16 & 0xFF), UInt8(rawValue >> 8 & 0xFF), UInt8(rawValue & 0xFF)]
        return String(decoding: bytes, as: UTF8.self)
    }

    // Service segment tags as constants (not `static let`, whose lazy initialization costs a check per use).
    @inlinable public static var UNA: SegmentTag { SegmentTag(rawValue: 0x554E41) }
    @inlinable public static var UNB: SegmentTag { SegmentTag(rawValue: 0x554E42) }
    @inlinable public static var UNZ: SegmentTag { SegmentTag(rawValue: 0x554E5A) }
    @inlinable public static var UNG: SegmentTag { SegmentTag(rawValue: 0x554E47) }
    @inlinable public static var UNE: SegmentTag { SegmentTag(rawValue: 0x554E45) }
    @inlinable public static var UNH: SegmentTag { SegmentTag(rawValue: 0x554E48) }
    @inlinable public static var UNT: SegmentTag { SegmentTag(rawValue: 0x554E54) }
}

/// One value of a segment as the reader found it: a borrowed byte range plus its position.
///
/// `element` 0 is the segment tag; data elements count from 1 (CONTRL's 0098 is `element + 1`).
/// `component` and `repetition` count from 0. Offsets are relative to the segment's first byte.
public struct ValueToken: Hashable, Sendable {
    public var start: Int32
    public var end: Int32
    public var element: UInt16
    public var component: UInt16
    public var repetition: UInt16
    /// True when the raw bytes contain release characters, so reading the value needs unescaping.
    public var escaped: Bool

    @inlinable
    public init(start: Int32, end: Int32, element: UInt16, component: UInt16, repetition: UInt16, escaped: Bool) {
        self.start = start
        self.end = end
        self.element = element
        self.component = component
        self.repetition = repetition
        self.escaped = escaped
    }

    /// Raw length in bytes, release characters included.
    @inlinable public var rawLength: Int { Int(end - start) }
    /// True when the value has no bytes (an omitted element or component).
    @inlinable public var isEmpty: Bool { end == start }
}

/// A borrowed view of the segment the reader stands on.
///
/// Valid only until the reader is advanced or fed: copy out what you keep (`string(_:)`, `bytes(_:)`).
/// Tokens come in order; an element with components has one token per component.
public struct SegmentView {
    @usableFromInline let base: UnsafePointer<UInt8>
    /// The values of the segment, tag first.
    public let tokens: UnsafeBufferPointer<ValueToken>
    public let delimiters: Delimiters
    /// The segment tag.
    public let tag: SegmentTag
    /// Segment number in the input, from 1.
    public let number: Int
    /// Byte offset of the segment's first byte (its tag) in the input.
    public let byteOffset: Int
    /// Length in bytes, terminator excluded.
    public let length: Int
    /// True when values hold multi-byte UTF-8 characters (UNOW/UNOY/UNOX), so lengths count characters, not bytes.
    public let multibyte: Bool

    @usableFromInline
    init(base: UnsafePointer<UInt8>, tokens: UnsafeBufferPointer<ValueToken>, delimiters: Delimiters,
         tag: SegmentTag, number: Int, byteOffset: Int, length: Int, multibyte: Bool = false) {
        self.base = base
        self.tokens = tokens
        self.delimiters = delimiters
        self.tag = tag
        self.number = number
        self.byteOffset = byteOffset
        self.length = length
        self.multibyte = multibyte
    }

    /// Number of data elements after the tag (trailing empty ones included, as written).
    @inlinable public var elementCount: Int { tokens.isEmpty ? 0 : Int(tokens[tokens.count - 1].element) }

    /// The raw (still escaped) bytes of a value: borrowed, valid as long as the view.
    @inlinable
    public func rawBytes(_ t: ValueToken) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + Int(t.start), count: t.rawLength)
    }

    /// The raw bytes of the whole segment, terminator excluded.
    public var rawSegment: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: length) }

    /// The value's bytes with release characters removed.
    public func bytes(_ t: ValueToken) -> [UInt8] {
        let raw = rawBytes(t)
        guard t.escaped, let rel = delimiters.release else { return Array(raw) }
        var out = [UInt8]()
        out.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            if raw[i] == rel && i + 1 < raw.count { i += 1 }
            out.append(raw[i])
            i += 1
        }
        return out
    }

    /// Length of the value in characters as ISO 9735 counts it: release characters do not count.
    /// In UTF-8 interchanges a character is counted once, whatever its number of bytes.
    @inlinable
    public func length(_ t: ValueToken) -> Int {
        guard t.escaped || multibyte else { return t.rawLength }
        let raw = rawBytes(t)
        let rel = t.escaped ? delimiters.release : nil
        var n = 0, i = 0
        while i < raw.count {
            if raw[i] == rel { i += 1 }
            if !(multibyte && i < raw.count && raw[i] & 0xC0 == 0x80) { n += 1 }
            i += 1
        }
        return n
    }

    /// The first token of a data element (1-based; 0 is the tag), or nil when the segment has fewer elements.
    public func firstToken(element: Int) -> ValueToken? {
        for t in tokens where Int(t.element) == element { return t }
        return nil
    }

    /// The token at an element and component (both as in `ValueToken`, first occurrence), or nil when absent.
    public func token(element: Int, component: Int = 0, repetition: Int = 0) -> ValueToken? {
        for t in tokens where Int(t.element) == element && Int(t.component) == component && Int(t.repetition) == repetition {
            return t
        }
        return nil
    }

    /// The unescaped value at an element and component decoded as ASCII/UTF-8 (service segments use
    /// only the basic repertoire); nil when absent, empty string when present but empty.
    public func value(element: Int, component: Int = 0, repetition: Int = 0) -> String? {
        guard let t = token(element: element, component: component, repetition: repetition) else { return nil }
        return text(t)
    }

    /// The unescaped value as ASCII/UTF-8 text (service segments), without an intermediate array when not escaped.
    public func text(_ t: ValueToken) -> String {
        t.escaped ? String(decoding: bytes(t), as: UTF8.self) : String(decoding: rawBytes(t), as: UTF8.self)
    }

    /// The unescaped value decoded by the interchange's syntax identifier.
    public func string(_ t: ValueToken, as syntax: SyntaxIdentifier) -> String {
        syntax.decode(bytes(t))
    }
}
