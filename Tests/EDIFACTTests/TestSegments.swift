@testable import EDIFACT

/// An interchange split into `SegmentView`s by a deliberately small tokenizer of the tests' own, so the
/// directory tests do not depend on the reader. It knows UNA, the Level A defaults (`:+.? '`, plus `*` in
/// syntax version 4) and the Level B information separators; it skips CR/LF between segments. It does no
/// checking: a reader's job.
final class TestInterchange {
    struct Entry {
        var start: Int
        var length: Int
        var firstToken: Int
        var tokenCount: Int
    }

    let bytes: UnsafeMutableBufferPointer<UInt8>
    let tokens: UnsafeMutableBufferPointer<ValueToken>
    let entries: [Entry]
    let delimiters: Delimiters
    let utf8: Bool

    convenience init(_ text: String) { self.init(bytes: Array(text.utf8)) }

    init(bytes input: [UInt8]) {
        bytes = .allocate(capacity: max(input.count, 1))
        _ = bytes.initialize(from: input)
        var d = Delimiters.levelA()
        var start = 0
        if input.starts(with: Array("UNA".utf8)) && input.count >= 9 {
            d = Delimiters(component: input[3], element: input[4], decimalMark: input[5],
                           release: input[6] == 0x20 ? nil : input[6], repetition: input[7] == 0x20 ? nil : input[7], segment: input[8])
            start = 9
        } else if input.count > 3 && input[3] == 0x1D {
            d = .levelB
        } else {
            d.repetition = UInt8(ascii: "*")
        }
        // The syntax version decides whether UNA5 (or the Level A default) is a repetition separator.
        var version: UInt8 = 0
        var k = start
        while k < input.count && (input[k] == 0x0D || input[k] == 0x0A) { k += 1 }
        if k + 9 < input.count && input[k..<k + 3].elementsEqual("UNB".utf8) { version = input[k + 9] }
        if version != UInt8(ascii: "4") { d.repetition = nil }
        delimiters = d
        // UTF-8 repertoires count characters, not bytes, as the reader marks them (`SegmentView.multibyte`).
        if k + 8 < input.count, let sid = SyntaxIdentifier(rawValue: String(decoding: input[k + 4..<k + 8], as: UTF8.self)) {
            utf8 = sid == .UNOW || sid == .UNOY || sid == .UNOX
        } else {
            utf8 = false
        }

        var toks: [ValueToken] = []
        var list: [Entry] = []
        var i = start
        while i < input.count {
            while i < input.count && (input[i] == 0x0D || input[i] == 0x0A) { i += 1 }
            if i >= input.count { break }
            let segStart = i
            let first = toks.count
            var element: UInt16 = 0, component: UInt16 = 0, repetition: UInt16 = 0
            var valueStart = i
            var escaped = false
            func close(_ end: Int) {
                toks.append(ValueToken(start: Int32(valueStart - segStart), end: Int32(end - segStart), element: element,
                                       component: component, repetition: repetition, escaped: escaped))
                escaped = false
            }
            while i < input.count {
                let b = input[i]
                if let r = d.release, b == r, i + 1 < input.count {
                    escaped = true
                    i += 2
                    continue
                }
                if b == d.segment { break }
                if b == d.element {
                    close(i)
                    element += 1
                    component = 0
                    repetition = 0
                    valueStart = i + 1
                } else if b == d.component {
                    close(i)
                    component += 1
                    valueStart = i + 1
                } else if let rep = d.repetition, b == rep {
                    close(i)
                    repetition += 1
                    component = 0
                    valueStart = i + 1
                }
                i += 1
            }
            close(i)
            list.append(Entry(start: segStart, length: i - segStart, firstToken: first, tokenCount: toks.count - first))
            i += 1
        }
        tokens = .allocate(capacity: max(toks.count, 1))
        _ = tokens.initialize(from: toks)
        entries = list
    }

    deinit {
        bytes.deallocate()
        tokens.deallocate()
    }

    var count: Int { entries.count }

    /// Segment `i` (from 0); its `number` counts from 1 and its `byteOffset` is from the start of the input.
    func segment(_ i: Int) -> SegmentView {
        let e = entries[i]
        let toks = UnsafeBufferPointer(rebasing: tokens[e.firstToken..<e.firstToken + e.tokenCount])
        let tagToken = toks[0]
        let tag = SegmentTag(bytes: UnsafeBufferPointer(start: bytes.baseAddress! + e.start + Int(tagToken.start), count: tagToken.rawLength))
        let raw = UnsafeBufferPointer(start: bytes.baseAddress! + e.start, count: e.length)
        return SegmentView(base: UnsafePointer(bytes.baseAddress! + e.start), tokens: toks, delimiters: delimiters, tag: tag,
                           number: i + 1, byteOffset: e.start, length: e.length, multibyte: utf8 && raw.contains { $0 >= 0x80 })
    }
}

/// What the test harness found in an interchange file.
struct HarnessResult {
    var diagnostics: [Diagnostic] = []
    /// UNH S009 of messages the directory tables do not hold.
    var unknownMessages: [[String]] = []
    /// Messages checked against the tables.
    var checkedMessages = 0
    /// Envelope count problems (UNT 0074, UNZ 0036), so the fixtures stay real-shaped for the reader's tests.
    var countProblems: [String] = []
}

/// A minimal envelope walk driving the structure validators the way the reader does: service segments
/// through `ServiceSegmentValidator`, the message body through `MessageStructureValidator`.
enum DirectoryHarness {
    static func run(_ text: String) -> HarnessResult { run(TestInterchange(text)) }

    static func run(_ x: TestInterchange) -> HarnessResult {
        var r = HarnessResult()
        var syntaxVersion = 0
        var validator: MessageStructureValidator?
        var position = 0
        var lastLocation = Location(byteOffset: 0, segmentNumber: 0)
        var messages = 0, groups = 0
        for i in 0..<x.count {
            let seg = x.segment(i)
            let here = Location(byteOffset: seg.byteOffset, segmentNumber: seg.number, segmentPositionInMessage: position + 1,
                                segmentTag: seg.tag.description)
            switch seg.tag {
            case .UNB:
                syntaxVersion = Int(seg.value(element: 1, component: 1) ?? "") ?? 0
                messages = 0
                groups = 0
                ServiceSegmentValidator.validateElements(seg, syntaxVersion: syntaxVersion, positionInMessage: 0, into: &r.diagnostics)
            case .UNG:
                groups += 1
                ServiceSegmentValidator.validateElements(seg, syntaxVersion: syntaxVersion, positionInMessage: 0, into: &r.diagnostics)
            case .UNE:
                ServiceSegmentValidator.validateElements(seg, syntaxVersion: syntaxVersion, positionInMessage: 0, into: &r.diagnostics)
            case .UNZ:
                let expected = groups > 0 ? groups : messages
                if seg.value(element: 1) != String(expected) {
                    r.countProblems.append("UNZ at segment \(seg.number) says \(seg.value(element: 1) ?? "") but there are \(expected)")
                }
                ServiceSegmentValidator.validateElements(seg, syntaxVersion: syntaxVersion, positionInMessage: 0, into: &r.diagnostics)
            case .UNH:
                position = 1
                messages += 1
                ServiceSegmentValidator.validateElements(seg, syntaxVersion: syntaxVersion, positionInMessage: 1, into: &r.diagnostics)
                var identifier: [String] = []
                var c = 0
                while let v = seg.value(element: 2, component: c) {
                    identifier.append(v)
                    c += 1
                }
                validator = MessageStructureValidator(identifier: identifier, syntaxVersion: syntaxVersion)
                if validator == nil { r.unknownMessages.append(identifier) } else { r.checkedMessages += 1 }
                lastLocation = Location(byteOffset: seg.byteOffset, segmentNumber: seg.number, segmentPositionInMessage: 1, segmentTag: "UNH")
            case .UNT:
                position += 1
                validator?.finish(lastPosition: position - 1, lastLocation: lastLocation, into: &r.diagnostics)
                validator = nil
                ServiceSegmentValidator.validateElements(seg, syntaxVersion: syntaxVersion, positionInMessage: position, into: &r.diagnostics)
                if seg.value(element: 1) != String(position) {
                    r.countProblems.append("UNT at segment \(seg.number) says \(seg.value(element: 1) ?? "") but the message has \(position)")
                }
                position = 0
            default:
                position += 1
                validator?.accept(seg, position: position, into: &r.diagnostics)
                lastLocation = here
            }
        }
        return r
    }
}
