#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The syntaxes whose completeness the gateway can judge from content.
public enum ContentFormat: String, Sendable, Hashable {
    case edifact, xml
}

/// Readiness from content, on top of a partner's convention: is the writer visibly finished with the file?
///
/// Choice (EDIFACT): a cheap head-and-tail check, not the streaming validator. Readiness runs on every poll,
/// and streaming a 100 MB interchange through `EDIFACTValidator` each time would cost more than the intake
/// itself; whether UNZ's count and reference really match its UNB is the validation step's verdict and ends
/// in a CONTRL, not in waiting. The check reads at most 64 KiB from each end: delimiters come from UNA (or
/// the byte after UNB, so level B's control characters work), and the file is complete when its last
/// segment, ignoring trailing CR/LF/blanks, is a UNZ ended by an unescaped segment terminator.
///
/// Choice (XML): no parser either. The root's name is read from the head (after BOM, XML declaration,
/// comments, processing instructions and DOCTYPE), and the file is complete when, after trailing whitespace,
/// comments and processing instructions are set aside, it ends with `</root>`. Limits: well-formedness is not
/// checked (the schema validation does that); a truncation exactly after a nested element with the root's own
/// name (`<a><a></a>`) looks complete; a root start tag beyond the first 64 KiB is `.notRecognized`.
public enum ContentCompleteness: Sendable, Hashable {
    /// The writer has finished: the last interchange is closed by UNZ, or the XML root is closed.
    case complete(ContentFormat)
    /// Recognized, but not finished yet; `reason` says what is missing.
    case incomplete(reason: String)
    /// Still incomplete after the deadline: the caller quarantines the file with `reason`.
    case expired(reason: String)
    /// Neither EDIFACT nor XML: content readiness does not apply, the convention alone decides.
    case notRecognized

    /// How much is read from each end of the file.
    static let window = 65_536

    /// Judges the file at `path`; an incomplete file whose mtime is more than `deadlineSeconds` before
    /// `now` is `.expired`, so a partner's abandoned upload does not wait forever.
    public static func check(path: String, deadlineSeconds: Double? = nil, now: FileTime = .now()) throws(IntakeError) -> ContentCompleteness {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 { throw IntakeError.system("intake.content", path: path, operation: "open") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) != 0 { throw IntakeError.system("intake.content", path: path, operation: "stat") }
        let size = Int(st.st_size)
        let head = try readAt(fd, path: path, offset: 0, count: min(size, window))
        let tailStart = max(0, size - window)
        let tail = tailStart == 0 ? head : try readAt(fd, path: path, offset: tailStart, count: size - tailStart)
        let verdict = judge(head: head, tail: tail, wholeFile: tailStart == 0)
        if case .incomplete(let reason) = verdict, let deadlineSeconds,
           now.seconds(since: FileTime(st.st_mtim)) > deadlineSeconds {
            return .expired(reason: "\(reason); still incomplete \(Int(deadlineSeconds)) s after its last change")
        }
        return verdict
    }

    /// Judges in-memory bytes (the whole file), for tests and remote files already fetched.
    public static func check(bytes: [UInt8]) -> ContentCompleteness {
        judge(head: Array(bytes.prefix(window)), tail: Array(bytes.suffix(window)), wholeFile: bytes.count <= window)
    }

    static func judge(head: [UInt8], tail: [UInt8], wholeFile: Bool) -> ContentCompleteness {
        var i = 0
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        while i < head.count, isBlank(head[i]) { i += 1 }
        if i == head.count { return wholeFile ? .incomplete(reason: "the file is empty") : .notRecognized }
        let rest = head[i...]
        if rest.starts(with: Array("UNA".utf8)) || rest.starts(with: Array("UNB".utf8)) {
            return edifact(head: Array(rest), tail: tail)
        }
        if head[i] == UInt8(ascii: "<") { return xml(head: Array(rest), tail: tail, wholeFile: wholeFile) }
        return .notRecognized
    }

    // MARK: EDIFACT

    static func edifact(head: [UInt8], tail: [UInt8]) -> ContentCompleteness {
        var segment = UInt8(ascii: "'"), element = UInt8(ascii: "+"), release: UInt8? = UInt8(ascii: "?")
        if head.starts(with: Array("UNA".utf8)) {
            guard head.count >= 9 else { return .incomplete(reason: "EDIFACT: the UNA service string advice is cut short") }
            element = head[4]
            release = head[6] == UInt8(ascii: " ") ? nil : head[6]
            segment = head[8]
        } else if head.count > 3, head[3] == 0x1D {
            // Level B without UNA: ISO 9735 assigns IS1 (0x1C) as segment and IS3 (0x1D) as element separator.
            segment = 0x1C; element = 0x1D; release = nil
        }
        var end = tail.count
        while end > 0, isBlank(tail[end - 1]) && tail[end - 1] != segment { end -= 1 }
        guard end > 0, tail[end - 1] == segment, !isEscaped(tail, end - 1, release) else {
            return .incomplete(reason: "EDIFACT: the file ends inside a segment (no segment terminator after the last data)")
        }
        // Find the start of the last segment: just after the previous unescaped terminator.
        var start = end - 1
        while start > 0 {
            if tail[start - 1] == segment && !isEscaped(tail, start - 1, release) { break }
            start -= 1
        }
        while start < end, isBlank(tail[start]) { start += 1 }
        let last = tail[start..<(end - 1)]
        if last.starts(with: Array("UNZ".utf8)) && (last.count == 3 || last[last.startIndex + 3] == element) {
            return .complete(.edifact)
        }
        let tag = String(decoding: last.prefix(3), as: UTF8.self)
        return .incomplete(reason: "EDIFACT: the last interchange is not closed (last segment is \(tag.isEmpty ? "empty" : tag), not UNZ)")
    }

    /// A character is escaped when an odd number of release characters precede it.
    static func isEscaped(_ bytes: [UInt8], _ index: Int, _ release: UInt8?) -> Bool {
        guard let release else { return false }
        var n = 0, j = index - 1
        while j >= 0, bytes[j] == release { n += 1; j -= 1 }
        return n % 2 == 1
    }

    // MARK: XML

    static func xml(head: [UInt8], tail: [UInt8], wholeFile: Bool) -> ContentCompleteness {
        var i = 0
        let notYet: ContentCompleteness = wholeFile
            ? .incomplete(reason: "XML: the root element has not started yet") : .notRecognized
        // Skip the prolog: declaration, PIs, comments, DOCTYPE (with an internal subset in brackets).
        while true {
            while i < head.count, isBlank(head[i]) { i += 1 }
            guard i < head.count else { return notYet }
            guard head[i] == UInt8(ascii: "<") else { return .notRecognized }
            let after = head[(i + 1)...]
            if after.starts(with: Array("?".utf8)) {
                guard let e = find(head, Array("?>".utf8), from: i) else { return notYet }
                i = e + 2
            } else if after.starts(with: Array("!--".utf8)) {
                guard let e = find(head, Array("-->".utf8), from: i + 4) else { return notYet }
                i = e + 3
            } else if after.starts(with: Array("!DOCTYPE".utf8)) {
                var depth = 0, j = i
                while j < head.count {
                    if head[j] == UInt8(ascii: "[") { depth += 1 }
                    if head[j] == UInt8(ascii: "]") { depth -= 1 }
                    if head[j] == UInt8(ascii: ">") && depth <= 0 { break }
                    j += 1
                }
                guard j < head.count else { return notYet }
                i = j + 1
            } else {
                break
            }
        }
        var j = i + 1
        while j < head.count, !isBlank(head[j]), head[j] != UInt8(ascii: "/"), head[j] != UInt8(ascii: ">") { j += 1 }
        let name = Array(head[(i + 1)..<j])
        guard !name.isEmpty, j < head.count || !wholeFile else {
            return wholeFile ? .incomplete(reason: "XML: the root start tag is cut short") : .notRecognized
        }
        guard name.allSatisfy(isNameByte) else { return .notRecognized }
        let rootName = String(decoding: name, as: UTF8.self)
        // Set aside trailing whitespace, comments and processing instructions.
        var end = tail.count
        while true {
            while end > 0, isBlank(tail[end - 1]) { end -= 1 }
            let t = tail[..<end]
            if t.hasSuffix("-->"), let s = rfind(tail, Array("<!--".utf8), before: end - 3) { end = s; continue }
            if t.hasSuffix("?>"), let s = rfind(tail, Array("<?".utf8), before: end - 2) { end = s; continue }
            break
        }
        let body = tail[..<end]
        // Closing tag: "</name" + optional blanks + ">".
        if body.last == UInt8(ascii: ">") {
            var k = end - 2
            while k >= 0, isBlank(tail[k]) { k -= 1 }
            let closing = Array("</".utf8) + name
            let s = k + 1 - closing.count
            if s >= 0, Array(tail[s...k]) == closing { return .complete(.xml) }
            // A self-closing root that is the whole document: "<root .../>".
            if wholeFile, end >= 2, tail[end - 2] == UInt8(ascii: "/"),
               let close = find(head, Array(">".utf8), from: j), close == end - 1 + (head.count - tail.count) {
                return .complete(.xml)
            }
        }
        return .incomplete(reason: "XML: the root element <\(rootName)> is not closed at the end of the file")
    }

    static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    static func isNameByte(_ b: UInt8) -> Bool {
        b >= 0x80 || (b >= 0x30 && b <= 0x3A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") || b == UInt8(ascii: ".")
    }

    static func find(_ bytes: [UInt8], _ needle: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count else { return nil }
        var i = max(0, from)
        while i + needle.count <= bytes.count {
            if bytes[i] == needle[0] && bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// Last occurrence of `needle` starting before `before`.
    static func rfind(_ bytes: [UInt8], _ needle: [UInt8], before: Int) -> Int? {
        var i = min(before, bytes.count - needle.count)
        while i >= 0 {
            if bytes[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i -= 1
        }
        return nil
    }

    static func readAt(_ fd: Int32, path: String, offset: Int, count: Int) throws(IntakeError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { raw in
                retryingEINTR { pread(fd, raw.baseAddress! + done, count - done, off_t(offset + done)) }
            }
            if n < 0 { throw IntakeError.system("intake.content", path: path, operation: "read") }
            if n == 0 { break }  // the file shrank under us: judge what is there
            done += n
        }
        return Array(buffer.prefix(done))
    }
}

extension ArraySlice where Element == UInt8 {
    fileprivate func hasSuffix(_ s: String) -> Bool {
        let u = Array(s.utf8)
        return count >= u.count && suffix(u.count).elementsEqual(u)
    }
}
