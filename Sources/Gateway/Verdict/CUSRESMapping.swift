import EDIFACT
import Foundation

// CUSRES D95B / D96A → agency instructions (issue 7). The two directories have the same CUSRES structure:
//   UNH, BGM (1004 the agency's response number, 1225 function), DTM (137 issued), GIS (7365 processing
//   indicator), FTX, EQD (containers, header level), SG5 M9999: RFF (the referenced document) - DTM - MEA -
//   EQD C99 (containers of that document), ..., UNT.
// The processing indicator gives the action: 4 goods released, 5 goods required for examination, 7 goods
// detained. An inspection's result comes back the same way (4 after 5 is "passed", 7 after 5 "failed"): the
// merge sees the order. RFF qualifiers: BM/BH/MB ocean bills and AWB name a consignment, AFB a manifest,
// AAQ a container; an EQD inside a bill's RFF group narrows it to those containers of the bill.

/// What mapping one CUSRES message gave: the instruction, or every refusal found in it.
public struct CUSRESMessageMapping: Sendable, Hashable {
    /// UNH 0062.
    public var messageReference: String
    /// Segment number of UNH in the input, and its byte offset: where an APERAK points.
    public var segmentNumber: Int
    public var byteOffset: Int
    public var instruction: AgencyInstruction?
    /// The refusals, in message order; empty when mapped.
    public var errors: [ManifestMappingError]
}

public enum CUSRESMapping {
    /// Every CUSRES message in the input, in order; other message types are skipped.
    public static func map<C: Collection>(_ bytes: C) -> [CUSRESMessageMapping] where C.Element == UInt8 {
        MessageMapping.map(bytes) { view, _, syntax in CUSRESMessageMapper.start(view: view, syntax: syntax) }
    }

    /// The action a processing indicator (7365) gives, nil for indicators that instruct nothing (1 accepted, ...).
    static func action(indicator: String) -> InstructionAction? {
        switch indicator {
        case "4": .release
        case "5": .inspect
        case "7": .hold
        default: nil
        }
    }
}

/// One CUSRES message being mapped.
final class CUSRESMessageMapper: MessageMapper {
    let reference: String
    let unhNumber: Int
    let unhOffset: Int
    let syntax: SyntaxIdentifier
    var errors: [ManifestMappingError] = []
    var endLocation = "UNT segment"
    var endOffset: Int?

    var documentNumber: String?
    var issuedAt: Date?
    var actions: [(InstructionAction, String)] = []
    var notes: [String] = []
    var manifest: String?
    var objects: [InstructionObject] = []
    /// The bill the open SG5 group names: its EQDs narrow it to containers.
    var groupBill: String?
    var groupHasContainers = false
    var inGroup = false

    private init(reference: String, unhNumber: Int, unhOffset: Int, syntax: SyntaxIdentifier) {
        self.reference = reference
        self.unhNumber = unhNumber
        self.unhOffset = unhOffset
        self.syntax = syntax
    }

    static func start(view: SegmentView, syntax: SyntaxIdentifier) -> CUSRESMessageMapper? {
        let s = SegmentFields(view: view, syntax: syntax)
        guard s.equals(2, 0, "CUSRES") else { return nil }
        let mapper = CUSRESMessageMapper(reference: s.text(1) ?? "", unhNumber: view.number, unhOffset: view.byteOffset, syntax: syntax)
        if !(s.equals(2, 1, "D") && (s.equals(2, 2, "95B") || s.equals(2, 2, "96A"))) {
            let written = [s.text(2, 1), s.text(2, 2)].compactMap { $0 }.joined(separator: ":")
            mapper.fail("instruction.unsupported-directory", s, "CUSRES directory \(written.isEmpty ? "(none)" : written) is not D:95B or D:96A")
        }
        return mapper
    }

    func location(_ s: SegmentFields) -> String { "\(s.view.tag) segment \(s.view.number - unhNumber + 1)" }

    func fail(_ code: String, _ s: SegmentFields, _ message: String) {
        guard errors.count < CUSCARMapping.maxErrorsPerMessage else { return }
        errors.append(ManifestMappingError(code: code, location: location(s), offset: s.view.byteOffset, message: message))
    }

    func accept(_ view: SegmentView) {
        let s = SegmentFields(view: view, syntax: syntax)
        switch view.tag.rawValue {
        case CUSCARTag.UNT:
            endLocation = location(s)
            endOffset = view.byteOffset
        case CUSCARTag.BGM:
            documentNumber = s.text(2)
            if documentNumber == nil { fail("instruction.missing-reference", s, "BGM has no response number (1004)") }
            if let function = s.text(3), !["9", "5", "4"].contains(function) {
                fail("instruction.unsupported-function", s,
                     "BGM message function (1225) \(function) is not 9 (original), 5 (replace) or 4 (change): send a new instruction instead")
            }
        case CUSCARTag.DTM:
            guard !inGroup, s.equals(1, 0, "137"), let value = s.token(1, 1) else { return }
            guard let date = EDIFACTDates.date(s.view.rawBytes(value), format: s.token(1, 2).map { s.view.rawBytes($0) }) else {
                fail("instruction.bad-date", s, "DTM 137: \(s.text(1, 1) ?? "") is not a date in format \(s.text(1, 2) ?? "(none)")")
                return
            }
            issuedAt = date
        case CUSCARTag.GIS:
            guard !inGroup, let indicator = s.text(1) else { return }
            if let action = CUSRESMapping.action(indicator: indicator) { actions.append((action, location(s))) }
        case CUSCARTag.FTX:
            if !inGroup, let text = s.joined(element: 4, components: 0..<5, separator: " ") { notes.append(text) }
        case CUSCARTag.RFF:
            reference(s)
        case CUSCARTag.EQD:
            equipment(s)
        default:
            break
        }
    }

    private func reference(_ s: SegmentFields) {
        closeGroup()
        inGroup = true
        guard let value = s.text(1, 1) else {
            fail("instruction.missing-reference", s, "RFF has no reference number (1154)")
            return
        }
        if s.equals(1, 0, "AFB") {
            if let manifest, manifest != value {
                fail("instruction.two-manifests", s, "the message names manifests \(manifest) and \(value): one instruction is about one manifest")
            }
            manifest = value
        } else if s.equals(1, 0, "BM") || s.equals(1, 0, "BH") || s.equals(1, 0, "MB") || s.equals(1, 0, "AWB") {
            groupBill = value
        } else if s.equals(1, 0, "AAQ") {
            container(Normalize.containerNumber(value), s)
        }
        // Other references (a declaration number, ACW the message answered) name nothing the library keeps.
    }

    private func equipment(_ s: SegmentFields) {
        guard let raw = s.text(2) else {
            fail("instruction.missing-container-number", s, "EQD has no equipment number (C237 8260)")
            return
        }
        if inGroup { groupHasContainers = true }
        container(Normalize.containerNumber(raw), s)
    }

    private func container(_ number: String, _ s: SegmentFields) {
        guard ISO6346.isValid(number) else {
            fail("instruction.container-check-digit", s, "container number \(number) is not a valid ISO 6346 number (owner code, serial and check digit)")
            return
        }
        objects.append(InstructionObject(kind: .container, reference: number))
    }

    /// Ends the open SG5 group: a bill named without containers is the whole consignment.
    private func closeGroup() {
        if let bill = groupBill, !groupHasContainers { objects.append(InstructionObject(kind: .bill, reference: bill)) }
        groupBill = nil
        groupHasContainers = false
        inGroup = false
    }

    func finish(complete: Bool) -> CUSRESMessageMapping {
        closeGroup()
        var mapping = CUSRESMessageMapping(messageReference: reference, segmentNumber: unhNumber, byteOffset: unhOffset,
                                           instruction: nil, errors: errors)
        func refuse(_ code: String, _ message: String) {
            mapping.errors.append(ManifestMappingError(code: code, location: endLocation, offset: endOffset ?? unhOffset, message: message))
        }
        if !complete { refuse("instruction.incomplete", "the message ends before its UNT") }
        if documentNumber == nil && !errors.contains(where: { $0.code == "instruction.missing-reference" }) {
            refuse("instruction.missing-reference", "the message has no BGM with a response number (1004)")
        }
        let distinct = Set(actions.map(\.0))
        if distinct.isEmpty {
            refuse("instruction.no-action", "no GIS processing indicator gives an instruction: 4 (goods released), 5 (required for examination) or 7 (detained)")
        } else if distinct.count > 1 {
            refuse("instruction.contradictory", "the processing indicators say "
                   + actions.map { "\($0.0.rawValue) (\($0.1))" }.joined(separator: " and ") + ": send one instruction per message")
        }
        var objects = self.objects
        if objects.isEmpty, let manifest { objects = [InstructionObject(kind: .manifest, reference: manifest)] }
        if objects.isEmpty && errors.isEmpty {
            refuse("instruction.no-object", "no RFF names a bill of lading (BM, BH, MB, AWB), a manifest (AFB) or a container (AAQ), and no EQD a container")
        }
        guard mapping.errors.isEmpty, let number = documentNumber, let action = distinct.first else { return mapping }
        var seen: Set<InstructionObject> = []
        objects = objects.map { var o = $0; o.manifest = o.kind == .manifest ? nil : manifest; return o }.filter { seen.insert($0).inserted }
        mapping.instruction = AgencyInstruction(reference: number, action: action, objects: objects, issuedAt: issuedAt,
                                                note: notes.isEmpty ? nil : notes.joined(separator: " "))
        return mapping
    }
}
