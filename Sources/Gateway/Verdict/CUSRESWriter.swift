import EDIFACT
import Foundation

/// Consignments' combined state as told to one partner: the changes since it was last told, or the reply to its
/// status request.
public struct StatusReport: Sendable, Hashable {
    /// The report's number (BGM 1004 of each CUSRES message, with the state's code; the XML's Reference).
    public var reference: String
    /// The status request this answers, if any.
    public var inReplyTo: String?
    public var entries: [StatusEntry]
    /// References the request named that the partner may not see or the library does not hold.
    public var notFound: [InstructionObject] = []

    public init(reference: String, inReplyTo: String? = nil, entries: [StatusEntry], notFound: [InstructionObject] = []) {
        self.reference = reference
        self.inReplyTo = inReplyTo
        self.entries = entries
        self.notFound = notFound
    }
}

/// One consignment's combined state in a status report.
public struct StatusEntry: Sendable, Hashable {
    public var manifest: String
    public var bill: String
    public var state: CombinedState
    public var reason: String?
    /// Each of its containers' state (the weightiest of the goods in it), by number.
    public var containers: [(number: String, state: CombinedState)]
    /// Each agency's position ("waiting" for one routed that has not spoken), for agencies' feedback; empty for
    /// carriers, who are told the state and not who decided what.
    public var positions: [(agency: String, position: String)]

    public init(manifest: String, bill: String, state: CombinedState, reason: String? = nil,
                containers: [(number: String, state: CombinedState)] = [], positions: [(agency: String, position: String)] = []) {
        self.manifest = manifest
        self.bill = bill
        self.state = state
        self.reason = reason
        self.containers = containers
        self.positions = positions
    }

    /// The positions as one line ("CIQ inspecting, CUSTOMS released"), what an agency's status says of the others.
    public var positionsText: String { positions.map { "\($0.agency) \($0.position)" }.joined(separator: ", ") }

    public static func == (a: StatusEntry, b: StatusEntry) -> Bool {
        a.manifest == b.manifest && a.bill == b.bill && a.state == b.state && a.reason == b.reason
            && a.containers.elementsEqual(b.containers, by: ==) && a.positions.elementsEqual(b.positions, by: ==)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(manifest)
        hasher.combine(bill)
        hasher.combine(state)
    }
}

/// Status reports → CUSRES D95B / D96A: one message per manifest, state and (for agencies) set of agency
/// positions, each `BGM+962` (document response), `DTM+137`, `GIS` with the processing indicator the state means
/// (4 released, 5 required for examination, 7 detained, as agencies send them; 1 content accepted for goods still
/// waiting), `FTX+AAI` with the agencies' positions, then the SG5 references: `RFF+AFB` the manifest, `RFF+ACW`
/// the status request answered, `RFF+BM` each bill. References a request named that are not found come last, in
/// a message with `GIS+2` (rejected with comment) and `FTX+AAO`. The same reading as an agency's CUSRES, so a
/// partner that reads one reads the other. Validated before it leaves.
public struct CUSRESWriter: Sendable {
    public var directory: CUSCARDirectory
    public var sender: [String]
    public var recipient: [String]
    public var segmentSuffix: String

    public init(directory: CUSCARDirectory, sender: [String], recipient: [String], segmentSuffix: String = "") {
        self.directory = directory
        self.sender = sender
        self.recipient = recipient
        self.segmentSuffix = segmentSuffix
    }

    /// The processing indicator (7365) of a state.
    static func indicator(_ state: CombinedState) -> String {
        switch state {
        case .released: "4"
        case .inspection: "5"
        case .held: "7"
        case .pending: "1"
        }
    }

    /// The RFF qualifier (1153) of an object: BM bill of lading, AAQ container, AFB manifest.
    static func qualifier(_ kind: InstructionObjectKind) -> String {
        switch kind {
        case .bill: "BM"
        case .container: "AAQ"
        case .manifest: "AFB"
        }
    }

    public func interchange(_ report: StatusReport, reference: String, at date: EDIFACTDateTime) throws(ManifestMappingError) -> [UInt8] {
        let stamp = CUSCARWriter.pad(date.year, 4) + CUSCARWriter.pad(date.month, 2) + CUSCARWriter.pad(date.day, 2)
            + CUSCARWriter.pad(date.hour, 2) + CUSCARWriter.pad(date.minute, 2)
        // One message per manifest, state and positions, in the order states are listed.
        struct Group: Hashable { var manifest: String; var state: CombinedState; var positions: String }
        var groups: [Group: [String]] = [:]
        for e in report.entries { groups[Group(manifest: e.manifest, state: e.state, positions: e.positionsText), default: []].append(e.bill) }
        let ordered = groups.keys.sorted { a, b in
            (a.manifest, CombinedState.allCases.firstIndex(of: a.state)!, a.positions)
                < (b.manifest, CombinedState.allCases.firstIndex(of: b.state)!, b.positions)
        }
        return try OutboundEDIFACT.interchange(message: "CUSRES", code: "status.not-writable", sender: sender, recipient: recipient,
                                               reference: reference, at: date, segmentSuffix: segmentSuffix) { (w: inout EDIFACTWriter) throws(WriterError) in
            var index = 0
            var used: [String: Int] = [:]
            func message(_ gis: String, text: String?, textQualifier: String, references: [(String, String)]) throws(WriterError) {
                index += 1
                used[gis, default: 0] += 1
                try w.beginMessage(reference: "S" + CUSCARWriter.pad(index, 4), identifier: ["CUSRES", "D", directory.rawValue, "UN"])
                try w.segment("BGM", [["962"], ["\(report.reference)-\(gis)" + (used[gis]! > 1 ? "-\(used[gis]!)" : "")], ["9"]])
                try w.segment("DTM", [["137", stamp, "203"]])
                try w.segment("GIS", [[gis]])
                if let text, !text.isEmpty { try w.segment("FTX", [[textQualifier], [], [], Self.lines(text)]) }
                if let asked = report.inReplyTo { try w.segment("RFF", [["ACW", asked]]) }
                for (qualifier, value) in references { try w.segment("RFF", [[qualifier, value]]) }
                try w.endMessage()
            }
            for group in ordered {
                try message(Self.indicator(group.state), text: group.positions, textQualifier: "AAI",
                            references: [("AFB", group.manifest)] + groups[group]!.map { ("BM", $0) })
            }
            if !report.notFound.isEmpty {
                try message("2", text: "not found among the consignments you may see", textQualifier: "AAO",
                            references: report.notFound.map { (Self.qualifier($0.kind), $0.reference) })
            }
        }
    }

    /// Free text as FTX C108: at most five pieces of 70 characters (the rest is cut).
    static func lines(_ text: String) -> [String] {
        var pieces: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty && pieces.count < 5 {
            pieces.append(String(rest.prefix(70)))
            rest = rest.dropFirst(70)
        }
        return pieces
    }
}
