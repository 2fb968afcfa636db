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
    public func interchange(_ manifests: [Manifest], reference: String, at date: EDIFACTDateTime) throws(ManifestMappingError) -> [UInt8] {
        var w = EDIFACTWriter(syntaxIdentifier: syntaxIdentifier, syntaxVersion: syntaxVersion, serviceStringAdvice: true,
                              segmentSuffix: segmentSuffix)
        try guarded(nil, "UNB") { () throws(WriterError) in
            try w.beginInterchange(sender: sender, recipient: recipient, at: date, reference: reference, applicationReference: "CUSCAR")
        }
        for (index, manifest) in manifests.enumerated() {
            try message(manifest, reference: "M" + Self.pad(index + 1, 4), into: &w)
        }
        try guarded(nil, "UNZ") { () throws(WriterError) in try w.endInterchange() }
        try Self.check(w.bytes)
        return w.bytes
    }

    private func message(_ m: Manifest, reference: String, into w: inout EDIFACTWriter) throws(ManifestMappingError) {
        let identifier = directory.messageIdentifier
        try guarded(nil, "UNH") { () throws(WriterError) in try w.beginMessage(reference: reference, identifier: identifier) }
        var segments: [(String, [[String]])] = []
        segments.append(("BGM", [["85"], [m.documentNumber], [m.function.code]]))
        if let issued = m.issuedAt {
            let (value, format) = EDIFACTDates.value(issued)
            segments.append(("DTM", [["137", value, format]]))
        }
        if !m.sender.isEmpty { segments.append(("NAD", [["MS"], [m.sender]])) }
        let t = m.transport
        segments.append(("TDT", [["20"], [t.voyage], [t.mode.code], [], [t.carrier ?? ""], [], [],
                                 [t.meansId ?? "", "", "", t.meansName ?? "", t.nationality ?? ""]]))
        if let port = t.departurePort { segments.append(("LOC", [["5"], [port]])) }
        if let port = t.arrivalPort { segments.append(("LOC", [["60"], [port]])) }
        if let when = t.departure { segments.append(("DTM", [["133"] + Self.dtm(when)])) }
        if let when = t.arrival { segments.append(("DTM", [["132"] + Self.dtm(when)])) }
        for c in m.containers {
            segments.append(("EQD", [["CN"], [c.number], c.sizeType.map { [$0, "102", "5"] } ?? [], [], [],
                                     [c.isFull.map { $0 ? "5" : "4" } ?? ""]]))
            if let kg = c.grossWeightKg { segments.append(("MEA", [["AAE"], ["G"], ["KGM", Self.number(kg)]])) }
            for seal in c.seals { segments.append(("SEL", [[seal]])) }
        }
        if !m.containers.isEmpty { segments.append(("CNT", [["16", String(m.containers.count)]])) }
        try write(segments, consignment: nil, into: &w)

        for (index, c) in m.consignments.enumerated() {
            guard !c.goods.isEmpty else {
                throw ManifestMappingError(code: "manifest.not-writable", consignment: c.billOfLading, location: "CNI",
                                           message: "a consignment without goods items cannot be written: CUSCAR's goods item group is mandatory")
            }
            var s: [(String, [[String]])] = []
            // A house bill travels under its master: CNI C503 carries the master, RFF BH the house bill.
            s.append(("CNI", [[String(index + 1)], [c.masterBillOfLading ?? c.billOfLading]]))
            s.append(("RFF", [[c.masterBillOfLading == nil ? "BM" : "BH", c.billOfLading]]))
            if let port = c.loadingPort { s.append(("LOC", [["9"], [port]])) }
            if let port = c.dischargePort { s.append(("LOC", [["11"], [port]])) }
            for p in c.parties { s.append(("NAD", nad(p))) }
            for g in c.goods {
                s.append(("GID", [[String(g.sequence)], [g.packages.map(String.init) ?? "", g.packageType ?? ""]]))
                let lines = Self.wrap(g.description, width: Self.descriptionLine)
                var start = 0
                while start < lines.count {
                    s.append(("FTX", [["AAA"], [], [], Array(lines[start..<min(start + 5, lines.count)])]))
                    start += 5
                }
                if let kg = g.grossWeightKg { s.append(("MEA", [["AAE"], ["G"], ["KGM", Self.number(kg)]])) }
                for share in g.containers { s.append(("SGP", [[share.container], [share.packages.map(String.init) ?? ""]])) }
                for d in g.dangerousGoods { s.append(("DGS", [[], [d.hazardClass ?? ""], [d.unNumber]])) }
                if let hs = g.hsCode { s.append(("CST", [[], [hs, "122"]])) }
            }
            try write(s, consignment: c.billOfLading, into: &w)
        }
        try guarded(nil, "UNT") { () throws(WriterError) in try w.endMessage() }
    }

    /// NAD: role, id, name lines (C080 ×5), street lines (C059, 3 in D95B, 4 in D96A), city (3164), country (3207).
    private func nad(_ p: Party) -> [[String]] {
        let names = Array(Self.wrap(p.name ?? "", width: Self.nameLine).prefix(5))
        var streets: [String] = []
        var city = ""
        if let address = p.address {
            // The reader joins street lines and city with ", ": split there, the last part being the city.
            var parts = address.components(separatedBy: ", ")
            if parts.count >= 2 { city = parts.removeLast() }
            let maxLines = directory == .d95B ? 3 : 4
            if parts.count > maxLines {
                let rest = parts[(maxLines - 1)...].joined(separator: ", ")
                parts = Array(parts[..<(maxLines - 1)]) + [rest]
            }
            streets = parts
        }
        return [[p.role.code], [p.id ?? ""], [], names, streets, [city], [], [], [p.country ?? ""]]
    }

    private func write(_ segments: [(String, [[String]])], consignment: String?, into w: inout EDIFACTWriter) throws(ManifestMappingError) {
        for (tag, elements) in segments {
            try guarded(consignment, tag) { () throws(WriterError) in try w.segment(tag, elements) }
        }
    }

    /// Runs one writer call, turning its refusal into a mapping error that names the consignment.
    private func guarded(_ consignment: String?, _ tag: String, _ body: () throws(WriterError) -> Void) throws(ManifestMappingError) {
        do {
            try body()
        } catch {
            throw ManifestMappingError(code: "manifest.not-writable", consignment: consignment, location: tag,
                                       message: "cannot write \(tag): \(error.message)")
        }
    }

    /// Our validator must find nothing in what we send; the first finding is the refusal.
    static func check(_ bytes: [UInt8]) throws(ManifestMappingError) {
        for report in EDIFACTValidator.validate(bytes) {
            if let first = report.allDiagnostics.first {
                throw ManifestMappingError(code: "manifest.not-writable", location: "\(first.location.segmentTag) segment \(first.location.segmentPositionInMessage)",
                                           offset: first.location.byteOffset,
                                           message: "the CUSCAR written does not validate: \(first.reason)")
            }
        }
    }

    static func dtm(_ date: Date) -> [String] {
        let (value, format) = EDIFACTDates.value(date)
        return [value, format]
    }

    /// A weight as EDIFACT writes numbers: no exponent, no trailing zeros, `.` as decimal mark.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        let plain = "\(value)"
        if !plain.contains("e") { return plain }
        var fixed = String(format: "%.6f", value)
        while fixed.hasSuffix("0") { fixed.removeLast() }
        if fixed.hasSuffix(".") { fixed.removeLast() }
        return fixed
    }

    /// Splits text into lines of at most `width` characters at spaces, so the reader's join with one
    /// space gives the text back; a word longer than a line is cut.
    static func wrap(_ text: String, width: Int) -> [String] {
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

    static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
