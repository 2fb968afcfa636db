import EDIFACT
import Foundation

/// Canonical manifests → CUSCAR: the copy customs receives, re-enveloped by the gateway.
///
/// Why a writer of its own rather than forwarding the carrier's bytes: the agency gets one consistent
/// shape whatever the carrier filed (XML or either directory), with the gateway as UNB sender, and what
/// it receives is exactly what the library holds. The carrier's identity travels in the header
/// `NAD+MS` (message sender), which `CUSCARMapping` reads back as `Manifest.sender`.
///
/// Output is deterministic: the interchange reference and date are passed in, never read from a clock.
/// Before bytes are handed out they are run through our own validator with the directory tables; a
/// manifest the directory cannot carry (a value too long, a consignment without goods) is refused with
/// a `ManifestMappingError` rather than sent malformed.
///
/// What the model does not hold is not invented: BGM 1001 is always 85 (customs manifest), seals carry
/// no issuer (SEL C215), DGS no regulation (8273), TDT no code-list qualifiers for carrier and means.
public struct CUSCARWriter: Sendable {
    public var directory: CUSCARDirectory
    /// UNB S002: the gateway (id, qualifier[, routing]).
    public var sender: [String]
    /// UNB S003: the agency (id, qualifier[, routing]).
    public var recipient: [String]
    /// The repertoire; UNOC by default, UNOY (syntax version 4) when names are in Chinese.
    public var syntaxIdentifier: SyntaxIdentifier
    public var syntaxVersion: Int
    /// Written after every segment terminator ("\n" for people reading the file); empty by default.
    public var segmentSuffix: String

    public init(directory: CUSCARDirectory, sender: [String], recipient: [String], syntaxIdentifier: SyntaxIdentifier = .UNOC,
                syntaxVersion: Int = 3, segmentSuffix: String = "") {
        self.directory = directory
        self.sender = sender
        self.recipient = recipient
        self.syntaxIdentifier = syntaxIdentifier
        self.syntaxVersion = syntaxVersion
        self.segmentSuffix = segmentSuffix
    }

    /// Lengths of the directory (an..n) that free text is wrapped at.
    static let nameLine = 35, addressLine = 35, descriptionLine = 70

    /// One interchange with one CUSCAR message per manifest (references `M0001`, `M0002`, ...).
    ///
    /// Segments are written value by value straight into the writer's bytes (`EDIFACTWriter.beginSegment`):
    /// building each segment as arrays of strings first was most of the time this took.
    public func interchange(_ manifests: [Manifest], reference: String, at date: EDIFACTDateTime) throws(ManifestMappingError) -> [UInt8] {
        var w = EDIFACTWriter(syntaxIdentifier: syntaxIdentifier, syntaxVersion: syntaxVersion, serviceStringAdvice: true,
                              segmentSuffix: segmentSuffix)
        do throws(WriterError) {
            try w.beginInterchange(sender: sender, recipient: recipient, at: date, reference: reference, applicationReference: "CUSCAR")
        } catch {
            throw Self.notWritable(error, consignment: nil, tag: "UNB")
        }
        for (index, manifest) in manifests.enumerated() {
            try message(manifest, reference: "M" + Self.pad(index + 1, 4), into: &w)
        }
        do throws(WriterError) { try w.endInterchange() } catch { throw Self.notWritable(error, consignment: nil, tag: "UNZ") }
        try OutboundEDIFACT.check(w.bytes, code: "manifest.not-writable", what: "CUSCAR")
        return w.bytes
    }

    private func message(_ m: Manifest, reference: String, into w: inout EDIFACTWriter) throws(ManifestMappingError) {
        do throws(WriterError) {
            try w.beginMessage(reference: reference, identifier: directory.messageIdentifier)
        } catch {
            throw Self.notWritable(error, consignment: nil, tag: "UNH")
        }
        do throws(WriterError) { try header(m, into: &w) } catch { throw Self.notWritable(error, consignment: nil) }
        for (index, c) in m.consignments.enumerated() {
            guard !c.goods.isEmpty else {
                throw ManifestMappingError(code: "manifest.not-writable", consignment: c.billOfLading, location: "CNI",
                                           message: "a consignment without goods items cannot be written: CUSCAR's goods item group is mandatory")
            }
            do throws(WriterError) {
                try consignment(c, number: index + 1, into: &w)
            } catch {
                throw Self.notWritable(error, consignment: c.billOfLading)
            }
        }
        do throws(WriterError) { try w.endMessage() } catch { throw Self.notWritable(error, consignment: nil, tag: "UNT") }
    }

    /// BGM, DTM, NAD+MS, the transport group (TDT, LOC, DTM) and the equipment groups (EQD, MEA, SEL), CNT.
    private func header(_ m: Manifest, into w: inout EDIFACTWriter) throws(WriterError) {
        try w.beginSegment("BGM")
        try w.element("85")
        try w.element(m.documentNumber)
        try w.element(m.function.code)
        try w.endSegment()
        if let issued = m.issuedAt { try dateTime("137", issued, into: &w) }
        if !m.sender.isEmpty {
            try w.beginSegment("NAD")
            try w.element("MS")
            try w.element(m.sender)
            try w.endSegment()
        }
        let t = m.transport
        // TDT+20+voyage+mode++carrier+++means id:::means name:nationality
        try w.beginSegment("TDT")
        try w.element("20")
        try w.element(t.voyage)
        try w.element(t.mode.code)
        try w.element("")
        try w.element(t.carrier ?? "")
        try w.element("")
        try w.element("")
        try w.composite(t.meansId ?? "", "", "", t.meansName ?? "", t.nationality ?? "")
        try w.endSegment()
        if let port = t.departurePort { try place("5", port, into: &w) }
        if let port = t.arrivalPort { try place("60", port, into: &w) }
        if let when = t.departure { try dateTime("133", when, into: &w) }
        if let when = t.arrival { try dateTime("132", when, into: &w) }
        for c in m.containers {
            // EQD+CN+number+size type:102:5+++status
            try w.beginSegment("EQD")
            try w.element("CN")
            try w.element(c.number)
            if let sizeType = c.sizeType { try w.composite(sizeType, "102", "5") } else { try w.element("") }
            try w.element("")
            try w.element("")
            try w.element(c.isFull.map { $0 ? "5" : "4" } ?? "")
            try w.endSegment()
            if let kg = c.grossWeightKg { try grossWeight(kg, into: &w) }
            for seal in c.seals {
                try w.beginSegment("SEL")
                try w.element(seal)
                try w.endSegment()
            }
        }
        if !m.containers.isEmpty {
            try w.beginSegment("CNT")
            try w.composite("16", String(m.containers.count))
            try w.endSegment()
        }
    }

    /// One consignment group: CNI, RFF, LOC, NAD and its goods items (GID, FTX, MEA, SGP, DGS, CST).
    private func consignment(_ c: Consignment, number: Int, into w: inout EDIFACTWriter) throws(WriterError) {
        // A house bill travels under its master: CNI C503 carries the master, RFF BH the house bill.
        try w.beginSegment("CNI")
        try w.element(String(number))
        try w.element(c.masterBillOfLading ?? c.billOfLading)
        try w.endSegment()
        try w.beginSegment("RFF")
        try w.composite(c.masterBillOfLading == nil ? "BM" : "BH", c.billOfLading)
        try w.endSegment()
        if let port = c.loadingPort { try place("9", port, into: &w) }
        if let port = c.dischargePort { try place("11", port, into: &w) }
        for p in c.parties { try party(p, into: &w) }
        for g in c.goods {
            try w.beginSegment("GID")
            try w.element(String(g.sequence))
            try w.composite(g.packages.map(String.init) ?? "", g.packageType ?? "")
            try w.endSegment()
            // FTX+AAA+++line:line:...: five lines of the description a segment.
            let lines = Self.wrap(g.description, width: Self.descriptionLine)
            var start = 0
            while start < lines.count {
                try w.beginSegment("FTX")
                try w.element("AAA")
                try w.element("")
                try w.element("")
                try w.element(components: lines[start..<min(start + 5, lines.count)])
                try w.endSegment()
                start += 5
            }
            if let kg = g.grossWeightKg { try grossWeight(kg, into: &w) }
            for share in g.containers {
                try w.beginSegment("SGP")
                try w.element(share.container)
                try w.element(share.packages.map(String.init) ?? "")
                try w.endSegment()
            }
            for d in g.dangerousGoods {
                try w.beginSegment("DGS")
                try w.element("")
                try w.element(d.hazardClass ?? "")
                try w.element(d.unNumber)
                try w.endSegment()
            }
            if let hs = g.hsCode {
                try w.beginSegment("CST")
                try w.element("")
                try w.composite(hs, "122")
                try w.endSegment()
            }
        }
    }

    /// NAD: role, id, name lines (C080 ×5), street lines (C059, 3 in D95B, 4 in D96A), city (3164), country (3207).
    private func party(_ p: Party, into w: inout EDIFACTWriter) throws(WriterError) {
        var streets: [String] = []
        var city = ""
        if let address = p.address {
            // The reader joins street lines and city with ", ": split there, the last part being the city.
            var parts = Self.addressParts(address)
            if parts.count >= 2 { city = parts.removeLast() }
            let maxLines = directory == .d95B ? 3 : 4
            if parts.count > maxLines {
                let rest = parts[(maxLines - 1)...].joined(separator: ", ")
                parts = Array(parts[..<(maxLines - 1)]) + [rest]
            }
            streets = parts
        }
        try w.beginSegment("NAD")
        try w.element(p.role.code)
        try w.element(p.id ?? "")
        try w.element("")
        if let name = p.name, Self.fitsOneLine(name, width: Self.nameLine) {
            try w.element(name)  // most names: no lines to cut, no array of them made
        } else {
            try w.element(components: Self.wrap(p.name ?? "", width: Self.nameLine).prefix(5))
        }
        try w.element(components: streets)
        try w.element(city)
        try w.element("")
        try w.element("")
        try w.element(p.country ?? "")
        try w.endSegment()
    }

    /// LOC+qualifier+place.
    private func place(_ qualifier: String, _ port: String, into w: inout EDIFACTWriter) throws(WriterError) {
        try w.beginSegment("LOC")
        try w.element(qualifier)
        try w.element(port)
        try w.endSegment()
    }

    /// DTM+qualifier:value:format (203, or 204 with seconds).
    private func dateTime(_ qualifier: String, _ date: Date, into w: inout EDIFACTWriter) throws(WriterError) {
        let (value, format) = EDIFACTDates.value(date)
        try w.beginSegment("DTM")
        try w.composite(qualifier, value, format)
        try w.endSegment()
    }

    /// MEA+AAE+G+KGM:weight.
    private func grossWeight(_ kg: Double, into w: inout EDIFACTWriter) throws(WriterError) {
        try w.beginSegment("MEA")
        try w.element("AAE")
        try w.element("G")
        try w.composite("KGM", Self.number(kg))
        try w.endSegment()
    }

    /// The writer's refusal as a mapping error that names the consignment and the segment (or the
    /// envelope call, `tag`).
    private static func notWritable(_ error: WriterError, consignment: String?, tag: String? = nil) -> ManifestMappingError {
        let tag = tag ?? error.segmentTag
        return ManifestMappingError(code: "manifest.not-writable", consignment: consignment, location: tag,
                                    message: "cannot write \(tag): \(error.message)")
    }

    /// The model's names for the data elements this writer fills, so a refusal of an XML manifest speaks its
    /// language: `TDT 8028 is 34 characters long` gains `(Transport/Voyage)`.
    static let modelFields: [String: String] = [
        "8028": "Transport/Voyage", "3127": "Transport/Carrier", "8213": "Transport/MeansId", "8212": "Transport/MeansName",
        "8453": "Transport/Nationality", "9308": "Container/Seal", "8155": "Container/SizeType", "7224": "GoodsItem/Packages or InContainer/@packages",
        "7065": "GoodsItem/PackageType", "4440": "GoodsItem/Description", "3039": "Party/Id", "3036": "Party/Name",
        "3042": "Party/Address (a street line)", "3164": "Party/Address (its last part, the city)", "3207": "Party/Country",
        "1154": "Consignment/BillOfLading", "1004": "DocumentNumber",
    ]

    /// `message` with the model field of the data element it names (`... 8028 is ...`) after that element.
    static func modelField(of message: String) -> String {
        for (element, field) in modelFields {
            if let range = message.range(of: "\(element) is ") {
                return message.replacingCharacters(in: range, with: "\(element) (\(field)) is ")
            }
        }
        return message
    }

    /// A weight as EDIFACT writes numbers: no exponent, no trailing zeros, `.` as decimal mark.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let plain = "\(value)"
        if !plain.utf8.contains(UInt8(ascii: "e")) { return plain }  // ASCII: no need for Foundation's search
        var fixed = String(format: "%.6f", value)
        while fixed.hasSuffix("0") { fixed.removeLast() }
        if fixed.hasSuffix(".") { fixed.removeLast() }
        return fixed
    }

    /// Splits text into lines of at most `width` characters at spaces, so the reader's join with one
    /// space gives the text back; a word longer than a line is cut.
    static func wrap(_ text: String, width: Int) -> [String] {
        if fitsOneLine(text, width: width) { return [text] }
        if text.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) { return wrapASCII(text, width: width) }
        // Below U+0300 (Latin-1 and the Latin extensions: `SOCIÉTÉ GÉNÉRALE`), printable, every scalar is a character
        // of its own: the same lines, found in the scalars rather than by grapheme breaking (half of writing a NAD).
        let scalars = Array(text.unicodeScalars)
        if scalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x300 && !(0x7F...0x9F).contains($0.value) }) {
            return scalars.withUnsafeBufferPointer { units in
                wrapUnits(units, width: width, space: " ") { line in
                    var string = String.UnicodeScalarView()
                    string.append(contentsOf: line)
                    return String(string)
                }
            }
        }
        return wrapCharacters(text, width: width)
    }

    /// `wrap` by characters (grapheme clusters), for any text.
    static func wrapCharacters(_ text: String, width: Int) -> [String] {
        // Most values fit on one line with single spaces: given back as they are.
        if text.utf8.count <= width, text.first != " ", text.last != " ", !text.contains("  ") {
            return text.isEmpty ? [] : [text]
        }
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            var word = Substring(word)
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            while word.count > width {
                if !line.isEmpty { lines.append(line); line = "" }
                lines.append(String(word.prefix(width)))
                word = word.dropFirst(width)
            }
            line += line.isEmpty ? word : " " + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// Whether `wrap` would give `text` back as its one line: printable ASCII, not empty, at most `width` bytes, no
    /// space at either end nor two together.
    static func fitsOneLine(_ text: String, width: Int) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            guard !bytes.isEmpty, bytes.count <= width, bytes.first != 0x20, bytes.last != 0x20 else { return false }
            var previous: UInt8 = 0
            for byte in bytes {
                guard byte >= 0x20 && byte <= 0x7E && !(byte == 0x20 && previous == 0x20) else { return false }
                previous = byte
            }
            return true
        }
    }

    /// `wrap` for printable ASCII, where every byte is one character: the same lines, found in the bytes
    /// rather than by characters and Foundation's search for double spaces (a quarter of writing a CUSCAR).
    private static func wrapASCII(_ text: String, width: Int) -> [String] {
        var contiguous = text
        return contiguous.withUTF8 { bytes in
            wrapUnits(bytes, width: width, space: 0x20) { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// `wrap`'s lines in text whose units (bytes, scalars) are each one character: words are runs of non-spaces, a
    /// line is words joined by one space (built in `line`), and a word longer than a line is cut. `string` makes a
    /// line's text of its units.
    private static func wrapUnits<Unit: Equatable>(_ units: UnsafeBufferPointer<Unit>, width: Int, space: Unit,
                                                   string: (UnsafeBufferPointer<Unit>) -> String) -> [String] {
        func text(_ range: Range<Int>) -> String { string(UnsafeBufferPointer(rebasing: units[range])) }
        func text(_ line: [Unit]) -> String { line.withUnsafeBufferPointer(string) }
        let count = units.count  // `wrap` gave back whole a text that fits one line (`fitsOneLine`)
        var lines: [String] = []
        var line: [Unit] = []
        var start = 0
        while start < count {
            guard units[start] != space else { start += 1; continue }
            var end = start
            while end < count && units[end] != space { end += 1 }
            var word = start..<end
            start = end
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(text(line))
                line.removeAll(keepingCapacity: true)
            }
            while word.count > width {
                if !line.isEmpty { lines.append(text(line)); line.removeAll(keepingCapacity: true) }
                lines.append(text(word.lowerBound..<(word.lowerBound + width)))
                word = (word.lowerBound + width)..<word.upperBound
            }
            if !line.isEmpty { line.append(space) }
            line.append(contentsOf: UnsafeBufferPointer(rebasing: units[word]))
        }
        if !line.isEmpty { lines.append(text(line)) }
        return lines
    }

    /// `text.components(separatedBy: ", ")` (the address parts), by bytes when the text is ASCII, where a byte
    /// match is a character match; else Foundation's grapheme-aware split, which cost a third of writing a NAD.
    static func addressParts(_ text: String) -> [String] {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return text.components(separatedBy: ", ") }
        var ascii = text
        return ascii.withUTF8 { bytes -> [String] in
            var parts: [String] = []
            var part = 0, i = 0
            while i + 1 < bytes.count {
                if bytes[i] == 0x2C && bytes[i + 1] == 0x20 {
                    parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[part..<i]), as: UTF8.self))
                    i += 2
                    part = i
                } else {
                    i += 1
                }
            }
            parts.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[part...]), as: UTF8.self))
            return parts
        }
    }

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

extension EDIFACTWriter {
    /// A composite data element of these components, two or more (trailing empty ones are truncated away).
    fileprivate mutating func composite(_ first: String, _ second: String, _ third: String = "", _ fourth: String = "",
                                        _ fifth: String = "") throws(WriterError) {
        try beginComposite()
        try component(first)
        try component(second)
        try component(third)
        try component(fourth)
        try component(fifth)
    }
}
