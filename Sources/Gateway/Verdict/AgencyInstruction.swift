import Foundation

// Issue 7, agency instructions in: each agency answers the copies it was routed with its own instruction for a
// manifest, a bill of lading or a container (release, inspect, hold, and the result of an inspection). An
// instruction counts only once its file passed that agency's signature gate (its own CA); it is then kept as a
// fact (never edited) and the combined state of each consignment and container is derived from the facts.

/// What an agency instructs about an object.
public enum InstructionAction: String, Sendable, Hashable, Codable, CaseIterable {
    /// The agency has no objection: the goods may go.
    case release
    /// The agency wants to examine the goods: the box is moved and opened (once, for every agency that asks).
    case inspect
    /// The goods stay where they are until the agency says otherwise.
    case hold
    /// An inspection the agency asked for found nothing: counts as its release.
    case passed
    /// An inspection the agency asked for found something: counts as its hold.
    case failed

    /// The position the action puts its agency in.
    var position: AgencyPosition {
        switch self {
        case .release, .passed: .released
        case .inspect: .inspecting
        case .hold, .failed: .holding
        }
    }
}

/// An agency's current position on an object: its latest instruction's.
public enum AgencyPosition: String, Sendable, Hashable, Codable {
    case released, inspecting, holding
}

/// What an instruction is about.
public enum InstructionObjectKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A whole manifest (every consignment in it), by its document number.
    case manifest
    /// One consignment, by its bill of lading (ocean, house or master bill, or air waybill).
    case bill
    /// One container, by its ISO 6346 number: the goods of every consignment in it.
    case container
}

/// One object an instruction names.
public struct InstructionObject: Sendable, Hashable, Codable {
    public var kind: InstructionObjectKind
    /// The manifest number, bill of lading or container number.
    public var reference: String
    /// The manifest number the instruction also names (CUSRES `RFF+AFB`), which narrows a bill or container to
    /// that manifest; nil when it names none.
    public var manifest: String?

    public init(kind: InstructionObjectKind, reference: String, manifest: String? = nil) {
        self.kind = kind
        self.reference = reference
        self.manifest = manifest
    }
}

/// One instruction read from an agency's file: one action about one or more objects.
public struct AgencyInstruction: Sendable, Hashable {
    /// The agency's own number for it (CUSRES BGM 1004): with the action and object, what makes a repeat a repeat.
    public var reference: String
    public var action: InstructionAction
    public var objects: [InstructionObject]
    /// When the agency issued it (CUSRES DTM 137): orders an agency's instructions that arrive out of order.
    public var issuedAt: Date?
    /// The agency's free text (CUSRES FTX), for the operator and the carrier.
    public var note: String?

    public init(reference: String, action: InstructionAction, objects: [InstructionObject], issuedAt: Date? = nil, note: String? = nil) {
        self.reference = reference
        self.action = action
        self.objects = objects
        self.issuedAt = issuedAt
        self.note = note
    }
}

/// An instruction as the library keeps it: one row per object, with where it came from.
public struct InstructionFact: Sendable, Hashable, Codable {
    public var id: Int64?
    public var agency: String
    public var reference: String
    public var action: InstructionAction
    public var object: InstructionObject
    public var issuedAt: Date?
    public var receivedAt: Date
    /// The batch (file) it came in.
    public var batchId: Int64?
    /// The signer certificate's SHA-256 fingerprint, when the file was signed and verified.
    public var signer: String?
    /// How its file's signature was judged: `verified`, or `unsigned` for a partner that signs nothing.
    public var verification: String
    public var note: String?

    public init(id: Int64? = nil, agency: String, reference: String, action: InstructionAction, object: InstructionObject,
                issuedAt: Date?, receivedAt: Date, batchId: Int64?, signer: String?, verification: String, note: String? = nil) {
        self.id = id
        self.agency = agency
        self.reference = reference
        self.action = action
        self.object = object
        self.issuedAt = issuedAt
        self.receivedAt = receivedAt
        self.batchId = batchId
        self.signer = signer
        self.verification = verification
        self.note = note
    }

    /// The time that orders an agency's facts: when it was issued, else when it arrived.
    var effectiveAt: Date { issuedAt ?? receivedAt }
}
