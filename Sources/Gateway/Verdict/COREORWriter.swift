import EDIFACT
import Foundation

/// One container in a release order: the box, and the bills of lading whose goods are in it.
public struct ReleasedContainer: Sendable, Hashable {
    public var number: String
    public var sizeType: String?
    public var seals: [String]
    public var bills: [String]

    public init(number: String, sizeType: String? = nil, seals: [String] = [], bills: [String]) {
        self.number = number
        self.sizeType = sizeType
        self.seals = seals
        self.bills = bills
    }
}

/// A combined release (or its cancellation) for a terminal: the single window releases, for every agency
/// the goods were routed to, the containers of one manifest.
public struct ReleaseOrder: Sendable, Hashable {
    public enum Function: String, Sendable, Hashable {
        /// BGM 1225 9: the containers may go.
        case release
        /// BGM 1225 1: a release sent earlier is withdrawn (an agency turned to hold or inspect).
        case cancel
    }

    public var function: Function
    /// The release number (BGM 1004, and RFF+RE in each container's group).
    public var reference: String
    /// For a cancellation: the release it withdraws (RFF+ACW).
    public var cancels: String?
    public var manifest: String
    public var transport: TransportMeans
    public var terminal: String
    /// Until when the release holds (DTM 36 in the terminal's NAD group).
    public var expires: Date?
    public var containers: [ReleasedContainer]
}

/// Release orders → COREOR D95B / D96A (the two have the same structure): UNH, BGM+129 (order to release;
/// the code list gains 129 only in D97A, and D95B/D96A have no better one), RFF+AFB (the manifest) or
/// RFF+ACW (the release withdrawn), SG1 TDT-LOC (the vessel and voyage, the port of discharge), SG2 NAD+MS
/// (the gateway) and NAD+TR (the terminal) with DTM+36 (expiry), SG7 EQD-RFF-SEL per container (RFF+RE the
/// release, RFF+BM each bill, up to 8), CNT+16 (number of containers), UNT.
///
/// Output is validated by our own validator before it is handed out, as for CUSCAR.
public struct COREORWriter: Sendable {
    public var directory: CUSCARDirectory
    public var sender: [String]
    public var recipient: [String]
    public var syntaxIdentifier: SyntaxIdentifier = .UNOC
    public var segmentSuffix: String

    public init(directory: CUSCARDirectory, sender: [String], recipient: [String], segmentSuffix: String = "") {
        self.directory = directory
        self.sender = sender
        self.recipient = recipient
        self.segmentSuffix = segmentSuffix
    }

    /// At most this many bills per container group (SG7 RFF is M9, one of which is the release).
    static let billsPerContainer = 8

    /// One interchange with one COREOR message per order (references `R0001`, ...).
    public func interchange(_ orders: [ReleaseOrder], reference: String, at date: EDIFACTDateTime) throws(ManifestMappingError) -> [UInt8] {
        try OutboundEDIFACT.interchange(message: "COREOR", code: "release.not-writable", sender: sender, recipient: recipient, reference: reference,
                         at: date, syntax: syntaxIdentifier, segmentSuffix: segmentSuffix) { (w: inout EDIFACTWriter) throws(WriterError) in
            for (index, order) in orders.enumerated() {
                try w.beginMessage(reference: "R" + CUSCARWriter.pad(index + 1, 4), identifier: ["COREOR", "D", directory.rawValue, "UN"])
                try message(order, into: &w)
                try w.endMessage()
            }
        }
    }

    private func message(_ o: ReleaseOrder, into w: inout EDIFACTWriter) throws(WriterError) {
        try w.segment("BGM", [["129"], [o.reference], [o.function == .release ? "9" : "1"]])
        if let cancels = o.cancels { try w.segment("RFF", [["ACW", cancels]]) }
        try w.segment("RFF", [["AFB", o.manifest]])
        let t = o.transport
        try w.segment("TDT", [["20"], [t.voyage], [t.mode.code], [""], [t.carrier ?? ""], [""], [""],
                              [t.meansId ?? "", "", "", t.meansName ?? ""]])
        if let port = t.arrivalPort { try w.segment("LOC", [["11"], [port, "139", "6"]]) }
        try w.segment("NAD", [["MS"], sender.count > 1 ? [sender[0], "", sender[1]] : [sender[0]]])
        try w.segment("NAD", [["TR"], [o.terminal]])
        if let expires = o.expires {
            try w.segment("DTM", [["36", Self.day(expires), "102"]])
        }
        for c in o.containers {
            try w.segment("EQD", [["CN"], [c.number]] + (c.sizeType.map { [[$0, "102", "5"]] } ?? []))
            try w.segment("RFF", [["RE", o.reference]])
            for bill in c.bills.prefix(Self.billsPerContainer) { try w.segment("RFF", [["BM", bill]]) }
            for seal in c.seals.prefix(99) { try w.segment("SEL", [[seal]]) }
        }
        try w.segment("CNT", [["16", String(o.containers.count)]])
    }

    /// CCYYMMDD in UTC.
    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return CUSCARWriter.pad(c.year!, 4) + CUSCARWriter.pad(c.month!, 2) + CUSCARWriter.pad(c.day!, 2)
    }
}
