import EDIFACT
import Foundation

/// The combined status of a manifest's consignments, for its carrier and the agencies it was routed to.
public struct StatusReport: Sendable, Hashable {
    /// The report's number (BGM 1004 of each message, with the state's letter).
    public var reference: String
    public var manifest: String
    /// Bills of lading by combined state (pending is not reported).
    public var bills: [CombinedState: [String]]
}

/// Status reports → CUSRES D95B / D96A: one message per state, each `BGM+962` (document response), `DTM+137`,
/// `GIS` with the processing indicator the state means (4 released, 5 required for examination, 7 detained,
/// as agencies send them), then the SG5 references: `RFF+AFB` the manifest, `RFF+BM` each bill. The same
/// reading as an agency's CUSRES, so a partner that reads one reads the other. Validated before it leaves.
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

    /// The processing indicator (7365) of a state, nil for pending.
    static func indicator(_ state: CombinedState) -> String? {
        switch state {
        case .released: "4"
        case .inspection: "5"
        case .held: "7"
        case .pending: nil
        }
    }

    public func interchange(_ report: StatusReport, reference: String, at date: EDIFACTDateTime) throws(ManifestMappingError) -> [UInt8] {
        let stamp = CUSCARWriter.pad(date.year, 4) + CUSCARWriter.pad(date.month, 2) + CUSCARWriter.pad(date.day, 2)
            + CUSCARWriter.pad(date.hour, 2) + CUSCARWriter.pad(date.minute, 2)
        return try OutboundEDIFACT.interchange(message: "CUSRES", code: "status.not-writable", sender: sender, recipient: recipient,
                                        reference: reference, at: date, segmentSuffix: segmentSuffix) { (w: inout EDIFACTWriter) throws(WriterError) in
            var index = 0
            for state in CombinedState.allCases {
                guard let gis = Self.indicator(state), let bills = report.bills[state], !bills.isEmpty else { continue }
                index += 1
                try w.beginMessage(reference: "S" + CUSCARWriter.pad(index, 4), identifier: ["CUSRES", "D", directory.rawValue, "UN"])
                try w.segment("BGM", [["962"], ["\(report.reference)-\(gis)"], ["9"]])
                try w.segment("DTM", [["137", stamp, "203"]])
                try w.segment("GIS", [[gis]])
                try w.segment("RFF", [["AFB", report.manifest]])
                for bill in bills { try w.segment("RFF", [["BM", bill]]) }
                try w.endMessage()
            }
        }
    }
}
