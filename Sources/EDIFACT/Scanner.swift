/// Lexical findings the scanner attaches to a segment; the validator turns them into located diagnostics.
@usableFromInline
struct LexicalIssue: Sendable {
    @usableFromInline enum Kind: UInt8, Sendable {
        /// A byte outside the syntax identifier's repertoire (0085 code 21).
        case invalidCharacter
        /// A release character before a character that is not a service character (code 22).
        case releaseMisuse
        /// Bytes that are not valid UTF-8 in a UNOW/UNOY interchange (code 21).
        case invalidUTF8
    }
    @usableFromInline var kind: Kind
    /// Offset from the segment's first byte.
    @usableFromInline var offset: Int
    /// The offending byte.
    @usableFromInline var byte: UInt8
}

/// What the scanner produced on one call.
@usableFromInline
enum ScanResult {
    /// A complete segment; `SegmentView` borrows the scanner's buffer until the next call or feed.
    case segment(SegmentView)
    /// The buffered bytes end inside a segment: feed more, or finish.
    case needInput
    /// The input ended cleanly between interchanges.
    case end
    /// The input cannot be read further: `offset` is where, `reason` why, `code` the 0085 code to report.
    /// `truncated` is true when the input simply ended inside a segment.
    case fatal(offset: Int, code: SyntaxErrorCode, reason: String, truncated: Bool)
}

/// Byte classes of the scanner's lookup table. One table lookup per byte is the whole fast path.
@usableFromInline enum ByteClass {
    @usableFromInline static let plain: UInt8 = 0
    @usableFromInline static let element: UInt8 = 1
    @usableFromInline static let component: UInt8 = 2
    @usableFromInline static let repetition: UInt8 = 3
    @usableFromInline static let release: UInt8 = 4
    @usableFromInline static let terminator: UInt8 = 5
    @usableFromInline static let invalid: UInt8 = 6
    /// A byte >= 0x80 in a UTF-8 interchange: allowed, but the segment's UTF-8 must be checked.
    @usableFromInline static let highUTF8: UInt8 = 7
}

/// The ISO 9735 tokenizer: splits a byte stream, fed in chunks, into segments and value tokens.
///
/// Written by hand because no Swift EDIFACT library exists on this machine, and because the gateway
/// needs byte offsets, borrowed values and flat memory (the whole file is never held).
/// Holds only the bytes of the segment being read plus the last chunk fed; a segment longer than
/// `maxSegmentLength` stops the scan (hostile or non-EDIFACT input).
///
/// A scanner belongs to one reader on one thread; its per-segment state is marked
/// `@exclusivity(unchecked)` because the runtime's dynamic exclusivity checks were a third of the
/// parse time under callgrind, and no access here can overlap.
@usableFromInline
final class SegmentScanner {
    // Buffer: bytes [start, end) are unconsumed; buf[0] is at stream offset `base`.
    @exclusivity(unchecked) var buf: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) var cap: Int
    @exclusivity(unchecked) var start = 0
    @exclusivity(unchecked) var end = 0
    @exclusivity(unchecked) var base = 0
    @exclusivity(unchecked) var finished = false

    let classes: UnsafeMutablePointer<UInt8>
    private(set) var delimiters = Delimiters.levelA()
    private(set) var syntax: SyntaxIdentifier?
    /// Syntax version sniffed from UNB S001/0002 (1...4), 0 when unreadable.
    private(set) var sniffedVersion = 0
    /// True when the current interchange began with UNA.
    private(set) var hadUNA = false
    /// Stream offset of the current interchange's UNA (or UNB).
    private(set) var interchangeOffset = 0

    // Tokens of the segment being read, relative to `start`.
    @exclusivity(unchecked) var tokens: UnsafeMutablePointer<ValueToken>
    @exclusivity(unchecked) var tokCap: Int
    @exclusivity(unchecked) var tokCount = 0

    // Resumable state of the segment being read, so a segment split across chunks is never rescanned.
    @exclusivity(unchecked) var pos = 0
    @exclusivity(unchecked) var inSegment = false
    @exclusivity(unchecked) var elem: UInt16 = 0
    @exclusivity(unchecked) var comp: UInt16 = 0
    @exclusivity(unchecked) var rep: UInt16 = 0
    @exclusivity(unchecked) var tokStart = 0
    @exclusivity(unchecked) var tokEscaped = false
    @exclusivity(unchecked) var sawHigh = false
    /// Lexical findings of the current segment (at most `maxIssuesPerSegment`).
    @exclusivity(unchecked) var issues: [LexicalIssue] = []
    static let maxIssuesPerSegment = 8

    /// Segments completed so far, over the whole input.
    @exclusivity(unchecked) private(set) var segmentNumber = 0
    /// True between an interchange's UNA/UNB and its UNZ.
    @exclusivity(unchecked) var inInterchange = false
    /// Set when the input can not be read further.
    @exclusivity(unchecked) private(set) var stopped = false
    let maxSegmentLength: Int
    /// Report a release character before a character that is not a service character (code 22).
    let strictRelease: Bool

    init(maxSegmentLength: Int, strictRelease: Bool = false) {
        self.strictRelease = strictRelease
        self.maxSegmentLength = min(max(maxSegmentLength, 64), 60_000)
        cap = 64 * 1024
        buf = .allocate(capacity: cap + 1)
        buf[0] = UInt8(ascii: "'")
        classes = .allocate(capacity: 256)
        classes.initialize(repeating: ByteClass.plain, count: 256)
        // A segment has at most one token per byte, plus one: with room for the longest segment allowed,
        // the hot loop appends tokens without a capacity check (under 1 MiB at the 60 000-byte cap).
        tokCap = self.maxSegmentLength + 2
        tokens = .allocate(capacity: tokCap)
        issues.reserveCapacity(Self.maxIssuesPerSegment)
    }

    deinit {
        buf.deallocate()
        classes.deallocate()
        tokens.deallocate()
    }

    /// Stream offset of the next unconsumed byte.
    var consumedOffset: Int { base + start }

    /// Appends bytes. Invalidates any `SegmentView` handed out before.
    func feed(_ chunk: UnsafeRawBufferPointer) {
        guard !chunk.isEmpty else { return }
        if start > 0 {
            let live = end - start
            if live > 0 { (buf).update(from: buf + start, count: live) }
            base += start
            pos -= start
            tokStart -= start
            end = live
            start = 0
        }
        if end + chunk.count > cap {
            var newCap = cap
            while end + chunk.count > newCap { newCap *= 2 }
            let nb = UnsafeMutablePointer<UInt8>.allocate(capacity: newCap + 1)
            nb.update(from: buf, count: end)
            buf.deallocate()
            buf = nb
            cap = newCap
        }
        UnsafeMutableRawPointer(buf + end).copyMemory(from: chunk.baseAddress!, byteCount: chunk.count)
        end += chunk.count
        buf[end] = delimiters.segment
    }

    /// Marks the end of input: a segment still open is then truncated.
    func finish() { finished = true }

    /// Called when UNZ closes an interchange: the next bytes must start a new one (UNA or UNB).
    func endInterchange() { inInterchange = false }

    private func isCRLF(_ b: UInt8) -> Bool { b == 0x0A || b == 0x0D }

    /// Scans up to the next complete segment.
    func next() -> ScanResult {
        if stopped { return .end }
        if !inSegment {
            // Line breaks between segments are common in practice and not data: skip them.
            var p = pos
            while p < end, isCRLF(buf[p]) { p += 1 }
            if !inInterchange {
                switch beginInterchange(at: p) {
                case .needInput: pos = p; start = p; return .needInput
                case .end: pos = p; start = p; stopped = true; return .end
                case .fatal(let off, let code, let reason, let t): stopped = true; return .fatal(offset: off, code: code, reason: reason, truncated: t)
                case .segment: p = pos
                }
            }
            if p == end {
                pos = p; start = p
                if !finished { return .needInput }
                stopped = true
                return .fatal(offset: base + p, code: .missing, reason: "input ends before UNZ closes the interchange (truncated)", truncated: true)
            }
            start = p
            pos = p
            inSegment = true
            elem = 0; comp = 0; rep = 0
            tokCount = 0
            tokStart = p
            tokEscaped = false
            sawHigh = false
            if !issues.isEmpty { issues.removeAll(keepingCapacity: true) }
        }
        return scanSegment()
    }

    /// At an interchange boundary: reads UNA if present, sniffs UNB for the syntax identifier and
    /// version, and sets the delimiters and byte classes. Returns `.segment` (with no view) on success.
    private func beginInterchange(at p0: Int) -> ScanResult {
        var p = p0
        // A UTF-8 byte order mark before the first interchange: tolerated, not data.
        if base + p == 0, end - p >= 3, buf[p] == 0xEF, buf[p + 1] == 0xBB, buf[p + 2] == 0xBF { p += 3 }
        let avail = end - p
        if avail == 0 {
            if finished { return segmentNumber == 0 ? .fatal(offset: base + p, code: .lowerLevelEmpty, reason: "the input is empty: no interchange (UNB) found", truncated: false) : .end }
            return .needInput
        }
        // Trailing end-of-file markers (Ctrl-Z, NUL padding) after the last UNZ are tolerated.
        if segmentNumber > 0, finished {
            var q = p
            while q < end, buf[q] == 0x1A || buf[q] == 0x00 || buf[q] == 0x20 || buf[q] == 0x09 || isCRLF(buf[q]) { q += 1 }
            if q == end { return .end }
        }
        func has(_ n: Int, at i: Int) -> Bool { end - i >= n }
        func isTag(_ i: Int, _ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool { buf[i] == a && buf[i + 1] == b && buf[i + 2] == c }
        let U = UInt8(ascii: "U"), N = UInt8(ascii: "N")
        if !has(3, at: p) && !finished { return .needInput }
        var d: Delimiters
        var una = false
        var q = p
        if has(3, at: p), isTag(p, U, N, UInt8(ascii: "A")) {
            if !has(9, at: p) {
                if !finished { return .needInput }
                return .fatal(offset: base + p, code: .unspecified, reason: "input ends inside the UNA service string advice (truncated)", truncated: true)
            }
            let c = buf + p + 3
            d = Delimiters(component: c[0], element: c[1], decimalMark: c[2], release: c[3] == 0x20 ? nil : c[3], repetition: c[4] == 0x20 ? nil : c[4], segment: c[5])
            una = true
            q = p + 9
            while q < end, isCRLF(buf[q]) { q += 1 }
            if !has(10, at: q) && !finished { return .needInput }
            if let problem = Self.unaProblem(d) {
                return .fatal(offset: base + p, code: .invalidServiceCharacterInUNA, reason: problem, truncated: false)
            }
            // UNA5 is the repetition separator only in syntax version 4.
            var version = 0
            if has(10, at: q), isTag(q, U, N, UInt8(ascii: "B")), buf[q + 3] == d.element, buf[q + 8] == d.component {
                version = Int(buf[q + 9]) - 0x30
            }
            if version != 4 { d.repetition = nil }
            sniffedVersion = version
        } else {
            if !has(10, at: p) && !finished { return .needInput }
            guard has(4, at: p), isTag(p, U, N, UInt8(ascii: "B")) else {
                let what = segmentNumber == 0 ? "the input does not start with UNA or UNB: not an EDIFACT interchange" : "data after the end of the interchange (UNZ) is not a new interchange (UNA or UNB expected)"
                return .fatal(offset: base + p, code: segmentNumber == 0 ? .missing : .invalidOccurrenceOutside, reason: what, truncated: false)
            }
            if buf[p + 3] == 0x1D {
                d = .levelB
                sniffedVersion = has(10, at: p) && buf[p + 8] == 0x1F ? Int(buf[p + 9]) - 0x30 : 0
            } else {
                let version = has(10, at: p) && buf[p + 8] == UInt8(ascii: ":") ? Int(buf[p + 9]) - 0x30 : 0
                d = .levelA(syntaxVersion: version)
                sniffedVersion = version
            }
        }
        var sid: SyntaxIdentifier?
        if has(8, at: q), isTag(q, U, N, UInt8(ascii: "B")), buf[q + 3] == d.element {
            sid = SyntaxIdentifier(rawValue: String(decoding: UnsafeBufferPointer(start: buf + q + 4, count: 4), as: UTF8.self))
        }
        if !(1...4).contains(sniffedVersion) { sniffedVersion = 0 }
        configure(delimiters: d, syntax: sid)
        hadUNA = una
        interchangeOffset = base + p
        inInterchange = true
        pos = q
        return .segment(SegmentView(base: buf, tokens: UnsafeBufferPointer(start: nil, count: 0), delimiters: d, tag: SegmentTag(rawValue: 0), number: 0, byteOffset: 0, length: 0))
    }

    /// Why a UNA's service characters cannot be used, or nil when they can.
    static func unaProblem(_ d: Delimiters) -> String? {
        var chars: [(String, UInt8)] = [("component separator", d.component), ("data element separator", d.element), ("segment terminator", d.segment)]
        if let r = d.release { chars.append(("release character", r)) }
        if let r = d.repetition { chars.append(("repetition separator", r)) }
        for (name, c) in chars {
            let isAlnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
            if isAlnum || c == 0x20 || c == 0x0D || c == 0x0A {
                return "UNA \(name) '\(printable(c))' cannot be a service character"
            }
        }
        for i in 0..<chars.count { for j in (i + 1)..<chars.count where chars[i].1 == chars[j].1 {
            return "UNA uses '\(printable(chars[i].1))' both as \(chars[i].0) and as \(chars[j].0)"
        } }
        if d.decimalMark != UInt8(ascii: ".") && d.decimalMark != UInt8(ascii: ",") {
            return "UNA decimal mark '\(printable(d.decimalMark))' must be '.' or ','"
        }
        return nil
    }

    static func printable(_ c: UInt8) -> String {
        c >= 0x21 && c < 0x7F ? String(UnicodeScalar(c)) : "0x" + String(c, radix: 16, uppercase: true)
    }

    private func configure(delimiters d: Delimiters, syntax sid: SyntaxIdentifier?) {
        delimiters = d
        syntax = sid
        buf[end] = d.segment
        if let sid {
            let allowed = sid.allowedBytes
            let isUTF8 = sid == .UNOW || sid == .UNOY || sid == .UNOX
            for i in 0..<256 {
                classes[i] = allowed[i] ? (isUTF8 && i >= 0x80 ? ByteClass.highUTF8 : ByteClass.plain) : ByteClass.invalid
            }
        } else {
            // Unknown repertoire (UNB reports code 2): accept any byte but control characters.
            for i in 0..<256 { classes[i] = i < 0x20 || i == 0x7F ? ByteClass.invalid : ByteClass.plain }
        }
        classes[Int(d.element)] = ByteClass.element
        classes[Int(d.component)] = ByteClass.component
        classes[Int(d.segment)] = ByteClass.terminator
        if let r = d.release { classes[Int(r)] = ByteClass.release }
        if let r = d.repetition { classes[Int(r)] = ByteClass.repetition }
    }


    @inline(never)
    private func addIssue(_ kind: LexicalIssue.Kind, at p: Int) {
        if issues.count < Self.maxIssuesPerSegment { issues.append(LexicalIssue(kind: kind, offset: p - start, byte: buf[p])) }
    }

    /// The hot loop: one class lookup per byte, state kept in locals. `buf[end]` always holds the
    /// segment terminator as a sentinel, so the inner loop over ordinary bytes needs no bounds test.
    @inline(__always)
    private func scanSegment() -> ScanResult {
        let b = buf, cls = classes, e = end, s = start
        var p = pos
        var elem = self.elem, comp = self.comp, rep = self.rep
        var tokStart = self.tokStart, escaped = self.tokEscaped, count = self.tokCount
        let toks = tokens, tcap = tokCap
        // Each separator checks that the token store is not full; it can only fill once the segment is
        // longer than `maxSegmentLength` (a token per byte at most), which then stops the scan below.
        var result: ScanResult = .needInput
        @inline(__always) func append(_ t: ValueToken) {
            (toks + count).initialize(to: t)
            count &+= 1
        }
        scan: while true {
            var c = cls[Int(b[p])]
            while c == ByteClass.plain {
                p &+= 1
                c = cls[Int(b[p])]
            }
            switch c {
            case ByteClass.element:
                if count &+ 1 >= tcap { break scan }
                append(ValueToken(start: Int32(tokStart - s), end: Int32(p - s), element: elem, component: comp, repetition: rep, escaped: escaped))
                elem &+= 1; comp = 0; rep = 0; escaped = false
                p &+= 1; tokStart = p
            case ByteClass.component:
                if count &+ 1 >= tcap { break scan }
                append(ValueToken(start: Int32(tokStart - s), end: Int32(p - s), element: elem, component: comp, repetition: rep, escaped: escaped))
                comp &+= 1; escaped = false
                p &+= 1; tokStart = p
            case ByteClass.repetition:
                if count &+ 1 >= tcap { break scan }
                append(ValueToken(start: Int32(tokStart - s), end: Int32(p - s), element: elem, component: comp, repetition: rep, escaped: escaped))
                rep &+= 1; comp = 0; escaped = false
                p &+= 1; tokStart = p
            case ByteClass.release:
                if p + 1 < e {
                    // A released ordinary character (`?,`) is common in real traffic and harmless:
                    // it is taken literally, and reported only when asked to be strict.
                    let n = cls[Int(b[p + 1])]
                    if strictRelease && !(n >= ByteClass.element && n <= ByteClass.terminator) { addIssue(.releaseMisuse, at: p) }
                    escaped = true
                    p &+= 2
                } else if finished {
                    addIssue(.releaseMisuse, at: p)
                    p &+= 1
                } else {
                    break scan
                }
            case ByteClass.terminator:
                if p == e { break scan }  // the sentinel: the buffered input ends inside this segment
                if p - s > maxSegmentLength { break scan }  // too long: the same verdict however the input was chunked
                append(ValueToken(start: Int32(tokStart - s), end: Int32(p - s), element: elem, component: comp, repetition: rep, escaped: escaped))
                segmentNumber += 1
                let tag: SegmentTag
                let t0 = toks[0]
                if t0.end - t0.start == 3 {
                    tag = SegmentTag(rawValue: UInt32(b[s]) << 16 | UInt32(b[s + 1]) << 8 | UInt32(b[s + 2]))
                } else {
                    tag = SegmentTag(bytes: UnsafeBufferPointer(start: b + s + Int(t0.start), count: t0.rawLength))
                }
                if sawHigh { checkUTF8(from: s, to: p) }
                let view = SegmentView(
                    base: b + s, tokens: UnsafeBufferPointer(start: toks, count: count), delimiters: delimiters, tag: tag,
                    number: segmentNumber, byteOffset: base + s, length: p - s, multibyte: sawHigh)
                p &+= 1
                inSegment = false
                result = .segment(view)
                break scan
            case ByteClass.highUTF8:
                sawHigh = true
                p &+= 1
            default:
                addIssue(.invalidCharacter, at: p)
                p &+= 1
            }
        }
        pos = p
        self.tokCount = count
        if case .segment = result {
            start = p
            return result
        }
        self.elem = elem; self.comp = comp; self.rep = rep
        self.tokStart = tokStart; self.tokEscaped = escaped
        if p - s > maxSegmentLength {
            stopped = true
            return .fatal(offset: base + s, code: .unspecified,
                          reason: "segment longer than \(maxSegmentLength) bytes without a segment terminator '\(Self.printable(delimiters.segment))'", truncated: false)
        }
        if finished {
            stopped = true
            let tagText = String(decoding: UnsafeBufferPointer(start: b + s, count: min(3, e - s)), as: UTF8.self)
            return .fatal(offset: base + s, code: .unspecified,
                          reason: "input ends inside segment \(segmentNumber + 1) '\(tagText)' before its terminator (truncated)", truncated: true)
        }
        return .needInput
    }

    /// Records the first invalid UTF-8 sequence of the segment, if any (UNOW/UNOY interchanges).
    private func checkUTF8(from s: Int, to e: Int) {
        let bytes = UnsafeBufferPointer(start: buf + s, count: e - s)
        if let bad = SyntaxIdentifier.firstInvalidUTF8Offset(validating: bytes) {
            if issues.count < Self.maxIssuesPerSegment { issues.append(LexicalIssue(kind: .invalidUTF8, offset: bad, byte: buf[s + bad])) }
        }
    }
}

extension SegmentScanner {
    /// True when the segment just scanned has lexical findings.
    var hasIssues: Bool { !issues.isEmpty }
}
