import Foundation
import Testing
import TestSupport
@testable import EDIFACT

/// Our reader against an independent one: pydifact (PyPI pydifact==0.2.3) must read the same segments,
/// elements and components from every valid fixture, from ~200 generated interchanges (UNA variants,
/// released characters, empty elements and components, several messages, long values), and from the
/// CONTRL receipts our writer produces.
///
/// Both readings go through `Canonical`, which states every deliberate difference between the two.
@Suite struct PydifactDifferentialTests {
    @Test func validFixturesReadTheSameAsPydifact() throws {
        try Pydifact.requireInstalled()
        var inputs: [(name: String, bytes: [UInt8])] = []
        for name in FixtureTests.files("valid") {
            inputs.append((name, try [UInt8](Data(contentsOf: FixtureTests.root.appendingPathComponent("valid/\(name)")))))
        }
        #expect(!inputs.isEmpty)
        try Differential.compare(inputs)
    }

    @Test func generatedInterchangesReadTheSameAsPydifact() throws {
        try Pydifact.requireInstalled()
        var rng = SplitMix64(state: 0x5EED_9735)
        var inputs: [(name: String, bytes: [UInt8])] = []
        for i in 0..<200 {
            let (bytes, what) = DifferentialCorpus.interchange(number: i, rng: &rng)
            inputs.append(("generated-\(i)-\(what)", bytes))
        }
        try Differential.compare(inputs)
    }

    /// Our CONTRL for every fixture, read by pydifact, has exactly the segments we asked the writer for,
    /// and reads the same in both readers.
    @Test func contrlReceiptsReadBackUnchangedByPydifact() throws {
        try Pydifact.requireInstalled()
        let at = EDIFACTDateTime(year: 2025, month: 1, day: 31, hour: 9, minute: 31)
        var replies: [(name: String, bytes: [UInt8], body: [Canonical.Segment])] = []
        for path in FixtureTests.files("valid").map({ "valid/\($0)" }) + FixtureTests.files("invalid").map({ "invalid/\($0)" }) {
            let bytes = try [UInt8](Data(contentsOf: FixtureTests.root.appendingPathComponent(path)))
            for (k, subject) in EDIFACTValidator.validate(bytes).enumerated() {
                guard let reply = ContrlBuilder.contrl(for: subject, ourIdentity: ["SWGATEWAY", "ZZZ"], reference: "ACK1", at: at) else { continue }
                let syntax = EDIFACTValidator.validate(reply).first?.syntax ?? .UNOC
                let version = Reply.plan(for: subject, delimiters: nil).version
                // What we asked the writer to put between UNH and UNT.
                let body = ContrlBuilder.body(for: subject, version: version, options: .init()).map { tag, elements in
                    Canonical.written(tag: tag, elements: elements, syntax: syntax)
                }
                replies.append(("contrl-for-\(path.replacingOccurrences(of: "/", with: "-"))-\(k)", reply, body))
            }
        }
        #expect(replies.count >= 5)
        let theirs = try Pydifact.read(replies.map { ($0.name, [$0.bytes]) })
        for reply in replies {
            let pieces = try #require(theirs[reply.name])
            let pydifactReading = Canonical.pydifact(pieces)
            // The whole reply: our reader and pydifact agree...
            let ours = Canonical.ours(reply.bytes).segments
            if let difference = Canonical.firstDifference(ours: ours, pydifact: pydifactReading) {
                Issue.record(Comment(rawValue: "\(reply.name): our reader and pydifact differ on our own CONTRL\n\(difference)\n\(Canonical.render(reply.bytes))"))
                continue
            }
            // ...and between UNH and UNT pydifact reads exactly what the writer was given.
            guard let unh = pydifactReading.firstIndex(where: { $0.tag == Array("UNH".utf8) }),
                  let unt = pydifactReading.lastIndex(where: { $0.tag == Array("UNT".utf8) }), unh < unt else {
                Issue.record("\(reply.name): pydifact finds no UNH..UNT in our CONTRL\n\(Canonical.render(reply.bytes))")
                continue
            }
            let read = Array(pydifactReading[(unh + 1)..<unt])
            if let difference = Canonical.firstDifference(ours: reply.body, pydifact: read, oursLabel: "written ") {
                Issue.record(Comment(rawValue: "\(reply.name): pydifact reads our CONTRL differently from what we wrote\n\(difference)\n\(Canonical.render(reply.bytes))"))
            }
        }
    }
}

/// Runs both readers over a set of inputs and reports the first difference of each.
enum Differential {
    static func compare(_ inputs: [(name: String, bytes: [UInt8])]) throws {
        var pieces: [(name: String, pieces: [[UInt8]])] = []
        var ours: [String: Canonical.Reading] = [:]
        for input in inputs {
            let reading = Canonical.ours(input.bytes)
            ours[input.name] = reading
            pieces.append((input.name, Canonical.split(input.bytes, at: reading.interchangeEnds)))
        }
        let theirs = try Pydifact.read(pieces)
        // The comparison must have had something to compare.
        #expect(ours.values.reduce(0) { $0 + $1.segments.count } >= inputs.count * 3)
        var failures = 0
        for input in inputs {
            guard let reading = ours[input.name], let their = theirs[input.name] else {
                Issue.record("\(input.name): no reading")
                continue
            }
            if let difference = Canonical.firstDifference(ours: reading.segments, pydifact: Canonical.pydifact(their)) {
                failures += 1
                let kept = Pydifact.keep(input.bytes, name: input.name)
                Issue.record(Comment(rawValue: "\(input.name): our reader and pydifact differ (input kept at \(kept))\n\(difference)"))
                if failures >= 5 { Issue.record("stopping after 5 differing inputs"); return }
            }
        }
    }
}

/// The common shape both readings are compared in, and every deliberate difference between them.
///
/// Values are compared as bytes (pydifact's text is decoded Latin-1 by `scripts/pydifact-dump.py`, one
/// code point per byte), so any repertoire compares exactly. Deliberate differences:
/// 1. UNA: pydifact yields the service string advice as a segment `UNA` with the six characters as
///    one value; ISO 9735 says UNA is not a segment, and our reader applies it (`EDIFACTReader.delimiters`,
///    `InterchangeReport.hadServiceStringAdvice`) without a segment event. UNA is dropped from pydifact's reading.
/// 2. Trailing empty components: pydifact drops them (`A:` reads as `A`, `::` as an empty element); we keep
///    every component as written because syntax version 4 reports them (0085 code 45). Both sides are
///    compared with trailing empty components removed (an element keeps at least one, possibly empty, value).
/// 3. Repetition (syntax version 4, UNA5 or the `*` default): pydifact knows no repetition separator, so
///    `A*B` is one value with a `*` in it, and `A:B*C:D` is three components `A`, `B*C`, `D`. Our
///    repetitions are flattened the same way: a repetition's first component is joined with the
///    separator to the previous component.
/// 4. Several interchanges in one file: pydifact reads one interchange per text and refuses a second
///    UNA ("There are not multiple UNA segments allowed"), so the input is cut after each UNZ (at the
///    byte offsets our reader gives) and each piece is read by pydifact separately.
/// Differences that are avoided in the inputs instead (`DifferentialCorpus`), because pydifact cannot be
/// told otherwise: a UNA release position of space means "no release character" in ISO 9735 but is
/// taken as a release character by pydifact (so those interchanges have no spaces in their values);
/// pydifact skips spaces, not only CR/LF, after a segment terminator (so no segment starts with a space);
/// Level B separators without UNA are not detected by pydifact (the dump script passes them, see there).
enum Canonical {
    /// A segment as compared: tag and elements, each element its component values (bytes).
    struct Segment: Equatable {
        var tag: [UInt8]
        var elements: [[[UInt8]]]
        /// Byte offset in the input (ours only; not compared).
        var byteOffset: Int? = nil

        static func == (a: Segment, b: Segment) -> Bool { a.tag == b.tag && a.elements == b.elements }
    }

    /// Our reading: segments plus where each interchange ends (after its UNZ terminator).
    struct Reading {
        var segments: [Segment]
        var interchangeEnds: [Int]
    }

    static func ours(_ bytes: [UInt8]) -> Reading {
        let r = EDIFACTReader()
        r.feed(bytes)
        r.finish()
        var reading = Reading(segments: [], interchangeEnds: [])
        loop: while true {
            switch r.next() {
            case .startSegment:
                guard let seg = r.segment else { break }
                let repetition = r.delimiters.repetition
                var tag: [UInt8] = []
                var elements: [[[UInt8]]] = []
                for t in seg.tokens {
                    let value = seg.bytes(t)
                    if t.element == 0 {
                        if t.component > 0 { tag.append(r.delimiters.component) }
                        tag += value
                        continue
                    }
                    let e = Int(t.element) - 1
                    while elements.count <= e { elements.append([]) }
                    if t.repetition > 0 && t.component == 0, let repetition, !elements[e].isEmpty {
                        elements[e][elements[e].count - 1] += [repetition] + value  // difference 3
                    } else {
                        elements[e].append(value)
                    }
                }
                reading.segments.append(Segment(tag: tag, elements: elements.map(trimmed), byteOffset: seg.byteOffset))
                if seg.tag == .UNZ { reading.interchangeEnds.append(seg.byteOffset + seg.length + 1) }
            case .endOfInput, .needInput:
                break loop
            default:
                break
            }
        }
        return reading
    }

    /// pydifact's reading of the pieces of one input, concatenated.
    static func pydifact(_ pieces: [[Pydifact.Segment]]) -> [Segment] {
        pieces.flatMap { $0 }.filter { $0.tag != "UNA" }.map { s in  // difference 1
            Segment(tag: latin1(s.tag), elements: s.elements.map { trimmed($0.map(latin1)) })
        }
    }

    /// A segment as handed to our writer, in the reading's shape: the writer leaves out trailing empty
    /// elements and components (ISO 9735 truncation), so the comparison does too.
    static func written(tag: String, elements: [[String]], syntax: SyntaxIdentifier) -> Segment {
        var out = elements.map { trimmed($0.map { syntax.encode($0) ?? Array($0.utf8) }) }
        while let last = out.last, last == [[]] { out.removeLast() }
        return Segment(tag: Array(tag.utf8), elements: out)
    }

    /// Difference 2: trailing empty components removed, at least one value kept.
    static func trimmed(_ components: [[UInt8]]) -> [[UInt8]] {
        var c = components
        while c.count > 1, c.last?.isEmpty == true { c.removeLast() }
        return c.isEmpty ? [[]] : c
    }

    /// Difference 4: the input cut after each interchange (trailing line breaks go with the piece before).
    static func split(_ bytes: [UInt8], at ends: [Int]) -> [[UInt8]] {
        guard ends.count > 1 else { return [bytes] }
        var pieces: [[UInt8]] = []
        var start = 0
        for end in ends.dropLast() where end > start && end <= bytes.count {
            var cut = end
            while cut < bytes.count, bytes[cut] == 0x0A || bytes[cut] == 0x0D { cut += 1 }
            pieces.append(Array(bytes[start..<cut]))
            start = cut
        }
        pieces.append(Array(bytes[start...]))
        return pieces
    }

    static func latin1(_ s: String) -> [UInt8] { s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) } }

    /// A readable account of the first segment where the readings part, or nil when they agree.
    static func firstDifference(ours: [Segment], pydifact: [Segment], oursLabel: String = "ours    ") -> String? {
        let n = min(ours.count, pydifact.count)
        for i in 0..<n where ours[i] != pydifact[i] {
            let a = ours[i], b = pydifact[i]
            var detail = ""
            if a.tag != b.tag {
                detail = "tags differ"
            } else if a.elements.count != b.elements.count {
                detail = "\(a.elements.count) elements vs \(b.elements.count)"
            } else if let e = a.elements.indices.first(where: { a.elements[$0] != b.elements[$0] }) {
                let ca = a.elements[e], cb = b.elements[e]
                if ca.count != cb.count {
                    detail = "element \(e + 1): \(ca.count) components vs \(cb.count)"
                } else if let c = ca.indices.first(where: { ca[$0] != cb[$0] }) {
                    let x = ca[c], y = cb[c]
                    let at = (0..<min(x.count, y.count)).first { x[$0] != y[$0] } ?? min(x.count, y.count)
                    let from = max(0, at - 20)
                    detail = "element \(e + 1) component \(c + 1), from value byte \(from): "
                        + "\(show(Array(x[from..<min(x.count, at + 40)]))) vs \(show(Array(y[from..<min(y.count, at + 40)])))"
                }
            }
            let at = a.byteOffset.map { " at byte \($0)" } ?? ""
            return """
                first difference at segment \(i + 1)\(at) (\(detail)):
                  \(oursLabel): \(render(a))
                  pydifact: \(render(b))
                """
        }
        if ours.count != pydifact.count {
            let extra = ours.count > pydifact.count ? ours[n] : pydifact[n]
            return "\(oursLabel.trimmingCharacters(in: .whitespaces)) read \(ours.count) segments, pydifact \(pydifact.count); first unmatched: \(render(extra))"
        }
        return nil
    }

    /// `TAG [a, b] [c]`: printable ASCII as is, other bytes as `\xNN`, each value in quotes.
    static func render(_ s: Segment) -> String {
        let elements: [String] = s.elements.map { components in
            let values: [String] = components.map { show($0) }
            return "[" + values.joined(separator: ", ") + "]"
        }
        return show(s.tag) + " " + elements.joined(separator: " ")
    }

    static func show(_ bytes: [UInt8], limit: Int = 120) -> String {
        var out = "\""
        for b in bytes.prefix(limit) {
            if b >= 0x20 && b < 0x7F && b != 0x22 && b != 0x5C { out.unicodeScalars.append(Unicode.Scalar(b)) } else {
                out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16, uppercase: true)
            }
        }
        out += "\""
        if bytes.count > limit { out += "...(\(bytes.count) bytes)" }
        return out
    }

    /// A whole (small) interchange for a failure message.
    static func render(_ bytes: [UInt8]) -> String {
        "input: " + show(bytes, limit: 2000)
    }
}

/// Runs `scripts/pydifact-dump.py` once for many inputs.
enum Pydifact {
    /// One segment as the dump script prints it.
    struct Segment: Decodable {
        var tag: String
        var elements: [[String]]
    }

    struct Record: Decodable {
        var file: String
        var segments: [Segment]?
        var error: String?
    }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let script = repositoryRoot.appendingPathComponent("scripts/pydifact-dump.py")

    struct Missing: Error, CustomStringConvertible {
        var detail: String
        var description: String {
            "pydifact is not importable (\(detail)): run scripts/setup-test-deps.sh to install it (pip install pydifact==0.2.3)"
        }
    }

    /// Throws (so the test FAILS, it is not skipped) when `python3 -c "import pydifact"` fails.
    static func requireInstalled() throws {
        if let problem = installProblem { throw Missing(detail: problem) }
    }

    static let installProblem: String? = {
        do {
            let (status, _, err) = try run(["python3", "-c", "import pydifact"])
            return status == 0 ? nil : "python3 -c \"import pydifact\" exited \(status): \(err.suffix(300))"
        } catch {
            return "cannot run python3: \(error)"
        }
    }()

    /// pydifact's reading of each named input (each input one or more pieces, read separately).
    static func read(_ inputs: [(name: String, pieces: [[UInt8]])]) throws -> [String: [[Segment]]] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pydifact-diff-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths: [String] = []
        var owner: [String: (name: String, piece: Int)] = [:]
        for (i, input) in inputs.enumerated() {
            for (k, piece) in input.pieces.enumerated() {
                let path = dir.appendingPathComponent("\(i)-\(k).edi").path
                try Data(piece).write(to: URL(fileURLWithPath: path))
                paths.append(path)
                owner[path] = (input.name, k)
            }
        }
        let (status, out, err) = try run(["python3", script.path, "--jsonl"] + paths)
        guard status == 0 else {
            throw Missing(detail: "pydifact-dump.py exited \(status): \(err.suffix(500))")
        }
        var result: [String: [[Segment]]] = [:]
        for input in inputs { result[input.name] = Array(repeating: [], count: input.pieces.count) }
        let decoder = JSONDecoder()
        for line in out.split(separator: 0x0A) where !line.isEmpty {
            let record = try decoder.decode(Record.self, from: Data(line))
            guard let (name, k) = owner[record.file] else { continue }
            if let error = record.error {
                // pydifact refusing an input we read is a difference too: show it as an unreadable segment.
                result[name]![k] = [Segment(tag: "pydifact error: \(error)", elements: [])]
            } else {
                result[name]![k] = record.segments ?? []
            }
        }
        return result
    }

    /// Keeps a differing input for reproduction (`scripts/pydifact-dump.py FILE`); returns its path.
    static func keep(_ bytes: [UInt8], name: String) -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pydifact-diff-\(name).edi")
        try? Data(bytes).write(to: url)
        return url.path
    }

    static func run(_ arguments: [String]) throws -> (Int32, [UInt8], String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read stderr concurrently so neither pipe can fill up and block the child.
        let errData = LockedData()
        let errThread = Thread { errData.value = err.fileHandleForReading.readDataToEndOfFile() }
        errThread.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !errData.done { usleep(1000) }
        return (p.terminationStatus, [UInt8](outData), String(decoding: errData.value, as: UTF8.self))
    }

    final class LockedData: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        private var finished = false
        var value: Data {
            get { lock.withLock { data } }
            set { lock.withLock { data = newValue; finished = true } }
        }
        var done: Bool { lock.withLock { finished } }
    }
}

/// Deterministic interchanges that exercise the tokenizer: varied UNA service characters (Level A,
/// punctuation, the Level B control characters), syntax versions 3 and 4, released characters in data,
/// empty elements and components, several messages, long values, line breaks between segments.
enum DifferentialCorpus {

    /// Characters that may serve as separators: never letters, digits, space, CR/LF, nor `.`/`,` (decimal marks).
    static let servicePool: [UInt8] = Array(":+?'*|^~#!@$%&;=\\_\"`<>[]{}".utf8) + [0x1C, 0x1D, 0x1F]
    static let tags = ["BGM", "DTM", "RFF", "NAD", "FTX", "LOC", "EQD", "MEA", "GID", "SGP", "CST", "TDT", "CNI", "PCI"]
    static let plain: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,-/()".utf8)
    static let latin1: [UInt8] = [0xC4, 0xC5, 0xC7, 0xC9, 0xD1, 0xD6, 0xD8, 0xDC, 0xDF, 0xE0, 0xE9, 0xF1, 0xF6, 0xFC, 0xB0, 0xD7]

    /// One interchange and a short description of its shape (for failure messages).
    static func interchange(number: Int, rng: inout SplitMix64) -> ([UInt8], String) {
        let version = rng.chance(30) ? 4 : 3
        var component = UInt8(ascii: ":"), element = UInt8(ascii: "+"), release: UInt8? = UInt8(ascii: "?")
        var repetition: UInt8? = version == 4 ? UInt8(ascii: "*") : nil, terminator = UInt8(ascii: "'")
        var writeUNA = true
        let style: String
        switch rng.int(0...9) {
        case 0...2:
            style = "default"
            writeUNA = rng.chance(50)
        case 3:
            style = "no-release"
            release = nil
        default:
            style = "custom"
            var pool = servicePool
            func take() -> UInt8 { pool.remove(at: rng.int(0...(pool.count - 1))) }
            component = take(); element = take(); terminator = take()
            release = rng.chance(85) ? take() : nil
            if version == 4 { repetition = take() }
        }
        let decimal = rng.chance(50) ? UInt8(ascii: ".") : UInt8(ascii: ",")
        let newline: [UInt8] = [[], [0x0A], [0x0D, 0x0A]][rng.int(0...2)]
        let service = [component, element, terminator] + (release.map { [$0] } ?? []) + (repetition.map { [$0] } ?? [])

        var out: [UInt8] = []
        if writeUNA {
            out += Array("UNA".utf8) + [component, element, decimal, release ?? 0x20, repetition ?? 0x20, terminator] + newline
        }
        func value(_ maxLength: Int) -> [UInt8] {
            let length: Int
            switch rng.int(0...99) {
            case 0..<25: length = 0
            case 25..<85: length = rng.int(1...12)
            case 85..<96: length = rng.int(13...70)
            default: length = rng.int(200...min(3000, maxLength))
            }
            var v: [UInt8] = []
            for _ in 0..<length {
                let r = rng.int(0...99)
                if r < 8, let release {
                    v += [release, rng.pick(service)]  // a released service character
                } else if r < 14, release != nil {
                    v.append(0x20)  // spaces only where UNA4 names a real release character (see Canonical)
                } else if r < 20 {
                    v.append(rng.pick(latin1))
                } else {
                    v.append(rng.pick(plain))
                }
            }
            return v
        }
        func segment(_ tag: String, _ elements: [[[UInt8]]]) {
            out += Array(tag.utf8)
            for e in elements {
                out.append(element)
                for (c, comp) in e.enumerated() {
                    if c > 0 { out.append(component) }
                    out += comp
                }
            }
            out.append(terminator)
            out += newline
        }
        func text(_ s: String) -> [[UInt8]] { [Array(s.utf8)] }
        let reference = "REF\(number)"
        segment("UNB", [[Array("UNOC".utf8), Array(String(version).utf8)], [Array("SENDER".utf8), Array("ZZZ".utf8)],
                        [Array("RECIPIENT".utf8), Array("ZZZ".utf8)], [Array("250131".utf8), Array("0930".utf8)], text(reference)])
        let messages = rng.int(1...4)
        for m in 1...messages {
            segment("UNH", [text("M\(m)"), [Array("CUSCAR".utf8), Array("D".utf8), Array("95B".utf8), Array("UN".utf8)]])
            let count = rng.int(0...12)
            for _ in 0..<count {
                var elements: [[[UInt8]]] = []
                for _ in 0..<rng.int(0...7) {
                    if let repetition, rng.chance(20) {
                        // Repeated occurrences (v4): occurrence after occurrence, each with its components.
                        var occurrences: [[UInt8]] = []
                        for o in 0..<rng.int(2...3) {
                            var comps: [[UInt8]] = []
                            for _ in 0..<rng.int(1...3) { comps.append(value(500)) }
                            var joined: [UInt8] = o == 0 ? [] : [repetition]
                            for (c, comp) in comps.enumerated() { joined += (c > 0 ? [component] : []) + comp }
                            occurrences.append(joined)
                        }
                        elements.append([occurrences.reduce([], +)])
                    } else {
                        var comps: [[UInt8]] = []
                        for _ in 0..<rng.int(1...4) { comps.append(value(3000)) }
                        elements.append(comps)
                    }
                }
                segment(rng.pick(tags), elements)
            }
            segment("UNT", [text(String(count + 2)), text("M\(m)")])
        }
        segment("UNZ", [text(String(messages)), text(reference)])
        return (out, "v\(version)-\(style)\(writeUNA ? "" : "-noUNA")")
    }
}
