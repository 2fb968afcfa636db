import EDIFACT
import Foundation
import Jobs

// CUSCAR → canonical manifest (issue 6). The carrier's message is mapped once, here, so every agency's
// copy and every library answer comes from the same normalized model, whichever directory it was filed in.

/// The two CUSCAR directories the gateway takes (UNH S009 0052 `D`, 0054 `95B` or `96A`).
///
/// Their segments and layouts agree for everything the model carries; they differ in group numbers,
/// the header NAD group (D96A), party DTM (D96A) and lengths the validator checks, not the mapper.
public enum CUSCARDirectory: String, Sendable, Hashable, Codable, CaseIterable {
    case d95B = "95B"
    case d96A = "96A"

    /// UNH S009 for a CUSCAR in this directory.
    public var messageIdentifier: [String] { ["CUSCAR", "D", rawValue, "UN"] }
}

/// What mapping one CUSCAR message gave: the manifest, or every refusal found in it.
public struct CUSCARMessageMapping: Sendable, Hashable {
    /// UNH 0062.
    public var messageReference: String
    /// The directory from UNH S009; nil when it is neither D95B nor D96A (then `errors` says so).
    public var directory: CUSCARDirectory?
    /// Segment number of UNH in the input, and its byte offset: where APERAK points.
    public var segmentNumber: Int
    public var byteOffset: Int
    /// The manifest, when nothing was refused.
    public var manifest: Manifest?
    /// The refusals, in message order (at most `CUSCARMapping.maxErrorsPerMessage`); empty when mapped.
    public var errors: [ManifestMappingError]

    /// The manifest, or the first refusal.
    public var result: Result<Manifest, ManifestMappingError> {
        if let manifest, errors.isEmpty { return .success(manifest) }
        return .failure(errors.first ?? ManifestMappingError(code: "manifest.unmapped", location: "UNH segment 1",
                                                             offset: byteOffset, message: "the message was not mapped"))
    }
}

/// Maps CUSCAR D95B / D96A messages into `Manifest`s.
///
/// Syntax and structure are the validator's job (CONTRL); this reads the content and refuses what the
/// library cannot hold (APERAK). It does not require a clean validation, so a message with syntax
/// findings still maps as far as its content allows: callers decide whether to map such a message at all.
///
/// All refusals of a message are collected (up to `maxErrorsPerMessage`), so a partner fixes a file in one
/// round rather than one error per resend. A message with any refusal gives no manifest: half a manifest
/// in the library would be worse than none.
///
/// One pass over the segments; qualifiers are compared as raw bytes and only values the model keeps
/// become `String`s.
public enum CUSCARMapping {
    /// A hostile message cannot grow the error list without bound.
    public static let maxErrorsPerMessage = 100

    /// Every CUSCAR message in the input (all interchanges, grouped or not), in order; other message types are skipped.
    public static func map<C: Collection>(_ bytes: C) -> [CUSCARMessageMapping] where C.Element == UInt8 {
        MessageMapping.map(bytes) { view, sender, syntax in CUSCARMessageMapper.start(view: view, sender: sender, syntax: syntax) }
    }

    /// One result per CUSCAR message: the manifest, or the first refusal (see `map` for all of them).
    public static func manifests(from bytes: [UInt8]) -> [Result<Manifest, ManifestMappingError>] {
        map(bytes).map(\.result)
    }
}

/// The mapper of one message being read: fed its segments after UNH, then asked for its result.
protocol MessageMapper: AnyObject {
    associatedtype Mapping
    func accept(_ view: SegmentView)
    func finish(complete: Bool) -> Mapping
}

/// Drives message mappers over every message of an input: the one place that walks interchanges and groups.
enum MessageMapping {
    /// Every message in `bytes` that `start` opens a mapper for at its UNH (given the UNB sender and the
    /// repertoire; nil skips the message), mapped in order. A message cut short (no UNT before its interchange
    /// or the input ends) is finished as incomplete, never dropped.
    static func map<C: Collection, M: MessageMapper>(
        _ bytes: C, start: (SegmentView, _ sender: String, SyntaxIdentifier) -> M?
    ) -> [M.Mapping] where C.Element == UInt8 {
        var options = ValidationOptions()
        // The mappers follow the groups themselves; structure findings are the validator's report, not ours.
        options.validateMessageStructure = false
        options.keepAcceptedMessages = false
        options.maxDiagnosticsPerInterchange = 10
        // Values are read from `reader.segment`, so the cursor need not return an event per value.
        let reader = EDIFACTReader(options: options, valueEvents: false)
        reader.feed(bytes)
        reader.finish()
        var results: [M.Mapping] = []
        var mapper: M?
        var sender = ""
        loop: while true {
            switch reader.next() {
            case .startInterchange:
                sender = reader.interchange?.sender.first ?? ""
            case .startSegment(let tag):
                guard let view = reader.segment else { continue }
                if tag == .UNH {
                    if let open = mapper { results.append(open.finish(complete: false)) }
                    mapper = start(view, sender, reader.interchange?.syntax ?? .UNOC)
                } else if let open = mapper {
                    open.accept(view)
                    if tag == .UNT {
                        results.append(open.finish(complete: true))
                        mapper = nil
                    }
                }
            case .endMessage, .endInterchange:
                if let open = mapper {
                    results.append(open.finish(complete: false))
                    mapper = nil
                }
            case .endOfInput, .needInput:
                // `finish()` was called, so `needInput` cannot come; it ends the loop all the same.
                if let open = mapper { results.append(open.finish(complete: false)) }
                break loop
            default:
                continue
            }
        }
        return results
    }
}

/// Packed segment tags the mapper dispatches on (computed, not `static let`, as in `SegmentTag`).
enum CUSCARTag {
    static var BGM: UInt32 { 0x42474D }
    static var DTM: UInt32 { 0x44544D }
    static var RFF: UInt32 { 0x524646 }
    static var NAD: UInt32 { 0x4E4144 }
    static var TDT: UInt32 { 0x544454 }
    static var LOC: UInt32 { 0x4C4F43 }
    static var GIS: UInt32 { 0x474953 }
    static var EQD: UInt32 { 0x455144 }
    static var MEA: UInt32 { 0x4D4541 }
    static var SEL: UInt32 { 0x53454C }
    static var CNT: UInt32 { 0x434E54 }
    static var CNI: UInt32 { 0x434E49 }
    static var GID: UInt32 { 0x474944 }
    static var FTX: UInt32 { 0x465458 }
    static var SGP: UInt32 { 0x534750 }
    static var DGS: UInt32 { 0x444753 }
    static var CST: UInt32 { 0x435354 }
    static var QTY: UInt32 { 0x515459 }
    static var AUT: UInt32 { 0x415554 }
    static var UNT: UInt32 { 0x554E54 }
}

/// The state of one message being mapped: which group the last trigger segment opened, and what is built so far.
final class CUSCARMessageMapper: MessageMapper {
    /// Where in the message structure we stand, so a LOC, DTM, MEA, RFF or FTX is read for the group it belongs to.
    enum Level {
        case header, headerTransport, afterTransport, equipment, consignment, consignmentTransport, party,
             consignmentQuantity, goods, goodsSub, trailer
    }

    let reference: String
    let directory: CUSCARDirectory?
    let unhNumber: Int
    let unhOffset: Int
    let syntax: SyntaxIdentifier
    let interchangeSender: String
    var level = Level.header
    /// Where refusals about something missing from the whole message point: UNT, once read.
    var endLocation = "UNT segment"
    var endOffset: Int?
    var errors: [ManifestMappingError] = []

    // Header.
    var sawBGM = false
    var documentNumber: String?
    var function: ManifestFunction? = .original
    var issuedAt: Date?
    var messageSender: String?
    var headerCarrier: String?
    // Transport (the first header TDT group).
    var sawTransport = false
    var transport = TransportMeans(mode: .sea, voyage: "")
    var modeKnown = false
    var departureFromLoading: String?
    var arrivalFromDischarge: String?
    // Equipment.
    var containers: [Container] = []
    var containerIndex: [String: Int] = [:]
    // Consignments.
    var consignments: [Consignment] = []
    var billsSeen: Set<String> = []
    var current: ConsignmentDraft?
    var goods: GoodsItem?
    /// The open goods item's GID, named when the item turns out to have no description.
    var goodsPlace: SegmentPlace?

    /// Where a segment is, kept as numbers: its "TAG segment N" text is spelled only for a refusal.
    struct SegmentPlace {
        var tag: SegmentTag
        /// Segment number in the message, UNH = 1.
        var number: Int
        var offset: Int
        var location: String { "\(tag) segment \(number)" }
    }

    /// A consignment while its references are still coming: the bill is known only at its end.
    struct ConsignmentDraft {
        var consignment = Consignment(billOfLading: "")
        var cniNumber: String?
        var cni: SegmentPlace
        var oceanBill: (String, SegmentPlace)?
        var houseBill: (String, SegmentPlace)?
        var airWaybill: (String, SegmentPlace)?
        var masterBill: String?
        var firstError: Int
        /// Goods item numbers seen (the library keeps one item per number and consignment).
        var goodsSequences: Set<Int> = []
    }

    private init(reference: String, directory: CUSCARDirectory?, unhNumber: Int, unhOffset: Int, syntax: SyntaxIdentifier, sender: String) {
        self.reference = reference
        self.directory = directory
        self.unhNumber = unhNumber
        self.unhOffset = unhOffset
        self.syntax = syntax
        self.interchangeSender = sender
    }

    /// A mapper for the message this UNH opens, or nil when it is not a CUSCAR (other messages are skipped).
    static func start(view: SegmentView, sender: String, syntax: SyntaxIdentifier) -> CUSCARMessageMapper? {
        let s = SegmentFields(view: view, syntax: syntax)
        guard s.equals(2, 0, "CUSCAR") else { return nil }
        let directory: CUSCARDirectory? = s.equals(2, 1, "D") ? (s.equals(2, 2, "95B") ? .d95B : s.equals(2, 2, "96A") ? .d96A : nil) : nil
        let mapper = CUSCARMessageMapper(reference: s.text(1) ?? "", directory: directory, unhNumber: view.number,
                                         unhOffset: view.byteOffset, syntax: syntax, sender: sender)
        if directory == nil {
            let written = [s.text(2, 1), s.text(2, 2)].compactMap { $0 }.joined(separator: ":")
            mapper.fail("manifest.unsupported-directory", s, "CUSCAR directory \(written.isEmpty ? "(none)" : written) is not D:95B or D:96A")
        }
        return mapper
    }

    // MARK: - Errors

    func location(_ s: SegmentFields) -> String { segmentPlace(s).location }

    func segmentPlace(_ s: SegmentFields) -> SegmentPlace {
        SegmentPlace(tag: s.view.tag, number: s.view.number - unhNumber + 1, offset: s.view.byteOffset)
    }

    func fail(_ code: String, _ s: SegmentFields, _ message: String, consignment: String? = nil) {
        guard errors.count < CUSCARMapping.maxErrorsPerMessage else { return }
        errors.append(ManifestMappingError(code: code, consignment: consignment, location: location(s),
                                           offset: s.view.byteOffset, message: message))
    }

    // MARK: - Segments

    func accept(_ view: SegmentView) {
        let s = SegmentFields(view: view, syntax: syntax)
        switch view.tag.rawValue {
        case CUSCARTag.UNT:
            endLocation = location(s)
            endOffset = view.byteOffset
        case CUSCARTag.BGM:
            sawBGM = true
            documentNumber = s.text(2)
            if documentNumber == nil { fail("manifest.missing-document-number", s, "BGM has no manifest number (1004)") }
            if let code = s.text(3) {
                function = ManifestFunction(code: code)
                if function == nil { fail("manifest.unknown-function", s, "BGM message function (1225) \(code) is not 9, 5, 4 or 1") }
            }
        case CUSCARTag.DTM:
            dateTime(s)
        case CUSCARTag.NAD:
            nameAndAddress(s)
        case CUSCARTag.TDT:
            transportDetails(s)
        case CUSCARTag.LOC:
            place(s)
        case CUSCARTag.GIS:
            if level == .goods || level == .goodsSub { level = .goodsSub } else if current == nil { level = .afterTransport }
        case CUSCARTag.EQD:
            finishConsignmentIfOpen()
            equipment(s)
        case CUSCARTag.MEA:
            measurement(s)
        case CUSCARTag.SEL:
            if level == .equipment, let seal = s.text(1), !containers.isEmpty { containers[containers.count - 1].seals.append(seal) }
        case CUSCARTag.CNT:
            if current == nil { level = .afterTransport }
        case CUSCARTag.CNI:
            finishConsignmentIfOpen()
            current = ConsignmentDraft(cniNumber: s.text(2), cni: segmentPlace(s), firstError: errors.count)
            level = .consignment
        case CUSCARTag.RFF:
            reference(s)
        case CUSCARTag.QTY:
            if level == .goods || level == .goodsSub { level = .goodsSub } else if current != nil { level = .consignmentQuantity }
        case CUSCARTag.GID:
            goodsItem(s)
        case CUSCARTag.FTX:
            freeText(s)
        case CUSCARTag.SGP:
            splitGoods(s)
        case CUSCARTag.DGS:
            dangerousGoods(s)
        case CUSCARTag.CST:
            customsStatus(s)
        case CUSCARTag.AUT:
            finishConsignmentIfOpen()
            level = .trailer
        default:
            break
        }
    }

    private func dateTime(_ s: SegmentFields) {
        let header = level == .header, transportLevel = level == .headerTransport
        guard header || transportLevel else { return }
        let wanted = header ? s.equals(1, 0, "137") : (s.equals(1, 0, "132") || s.equals(1, 0, "133"))
        guard wanted else { return }
        guard let value = s.token(1, 1) else { return }
        guard let date = EDIFACTDates.date(s.view.rawBytes(value), format: s.token(1, 2).map { s.view.rawBytes($0) }),
              ManifestRules.instants.contains(date) else {
            fail("manifest.bad-date", s, "DTM \(s.text(1) ?? ""): \(s.text(1, 1) ?? "") is not a date in format \(s.text(1, 2) ?? "(none)")")
            return
        }
        if header {
            issuedAt = date
        } else if s.equals(1, 0, "132") {
            transport.arrival = date
        } else {
            transport.departure = date
        }
    }

    private func nameAndAddress(_ s: SegmentFields) {
        if current != nil {
            level = .party
            guard let code = s.text(1) else { return }
            guard let role = PartyRole(code: code) else { return }  // other roles (CB, CF, ...) are not the model's
            var party = Party(role: role)
            party.id = s.text(2)
            party.name = s.joined(element: 4, components: 0..<5, separator: " ")
            // Street lines (C059) and city (3164) joined with ", ".
            var address: String?
            for c in 0..<4 { if let line = s.text(5, c) { address.join(line, separator: ", ") } }
            if let city = s.text(6) { address.join(city, separator: ", ") }
            party.address = address
            party.country = s.text(9)
            if let country = party.country, !ManifestRules.isCountry(country) {
                fail("manifest.bad-code", s, "NAD \(code) country (3207) \(country) is not an ISO 3166 two-letter country code", consignment: "")
            }
            current!.consignment.parties.append(party)  // in place: a copy of the draft would copy its arrays
        } else if level == .equipment {
            return
        } else {
            if s.equals(1, 0, "MS") { messageSender = messageSender ?? s.text(2) }
            if s.equals(1, 0, "CA") { headerCarrier = headerCarrier ?? s.text(2) }
        }
    }

    private func transportDetails(_ s: SegmentFields) {
        if current != nil {
            level = .consignmentTransport
            return
        }
        guard !sawTransport else {
            // Only the first header TDT group describes the means; later ones (C9) are not the model's.
            level = .afterTransport
            return
        }
        sawTransport = true
        level = .headerTransport
        if let voyage = s.text(2) {
            transport.voyage = voyage
        } else {
            fail("manifest.missing-voyage", s, "TDT has no conveyance reference number (8028): every agency's copy names the voyage")
        }
        if let code = s.text(3) {
            if let mode = TransportMode(code: code) {
                transport.mode = mode
                modeKnown = true
            } else {
                fail("manifest.unknown-transport-mode", s, "TDT mode of transport (8067) \(code) is not a UN/ECE Rec. 19 code 1-8")
            }
        } else {
            fail("manifest.missing-transport-mode", s, "TDT has no mode of transport (C220 8067)")
        }
        transport.carrier = s.text(5)
        transport.meansId = s.text(8)
        transport.meansName = s.text(8, 3)
        transport.nationality = s.text(8, 4)
        if let nationality = transport.nationality, !ManifestRules.isCountry(nationality) {
            fail("manifest.bad-code", s, "TDT nationality of the means (C222 8453) \(nationality) is not an ISO 3166 two-letter country code")
        }
    }

    private func place(_ s: SegmentFields) {
        guard level == .headerTransport || (level == .consignment && current != nil) else { return }
        guard s.equals(1, 0, "5") || s.equals(1, 0, "9") || s.equals(1, 0, "60") || s.equals(1, 0, "11") else { return }
        if let port = s.text(2), !ManifestRules.isLOCODE(port) {
            fail("manifest.bad-location", s, "LOC \(s.text(1) ?? "") place (C517 3225) \(port) is not a UN/LOCODE (country and three letters or digits 2-9)",
                 consignment: current.map { _ in "" })
            return
        }
        switch level {
        case .headerTransport:
            if s.equals(1, 0, "5") { transport.departurePort = s.text(2) }
            else if s.equals(1, 0, "9") { departureFromLoading = departureFromLoading ?? s.text(2) }
            else if s.equals(1, 0, "60") { transport.arrivalPort = s.text(2) }
            else if s.equals(1, 0, "11") { arrivalFromDischarge = arrivalFromDischarge ?? s.text(2) }
        case .consignment:
            guard current != nil else { return }
            if s.equals(1, 0, "9") { current!.consignment.loadingPort = s.text(2) }
            else if s.equals(1, 0, "11") { current!.consignment.dischargePort = s.text(2) }
        default:
            return
        }
    }

    private func equipment(_ s: SegmentFields) {
        level = .equipment
        guard let raw = s.text(2) else {
            fail("manifest.missing-container-number", s, "EQD has no equipment number (C237 8260)")
            containers.append(Container(number: ""))  // keeps the SEL/MEA that follow on this (refused) group
            return
        }
        let number = Normalize.containerNumber(raw)
        if !s.equals(1, 0, "CN") {
            // The model (and every agency format made from it) carries containers, numbered by ISO 6346.
            fail("manifest.unsupported-equipment", s, "EQD equipment qualifier (8053) \(s.text(1) ?? "(none)") is not CN: only containers are filed")
        } else if !ISO6346.isValid(number) {
            fail("manifest.container-check-digit", s, "container number \(number) is not a valid ISO 6346 number (owner code, serial and check digit)")
        }
        if containerIndex[number] != nil {
            fail("manifest.duplicate-container", s, "container \(number) is reported twice")
        } else {
            containerIndex[number] = containers.count
        }
        var container = Container(number: number, sizeType: s.text(3))
        if let sizeType = container.sizeType, !ManifestRules.isSizeType(sizeType) {
            fail("manifest.bad-code", s, "EQD size and type (C224 8155) \(sizeType) is not an ISO 6346 size-type code of four letters or digits")
        }
        if let status = s.token(6, 0) {
            let b = s.view.rawBytes(status)
            if b.count == 1 {
                switch b[0] {
                case UInt8(ascii: "4"): container.isFull = false
                case UInt8(ascii: "5"), UInt8(ascii: "7"), UInt8(ascii: "8"): container.isFull = true
                default: break
                }
            }
        }
        containers.append(container)
    }

    private func measurement(_ s: SegmentFields) {
        guard level == .equipment || level == .goods else { return }
        // Gross weight only: MEA+AAE+G or MEA+WT+G (tare, net and volume are not the model's).
        guard s.equals(1, 0, "AAE") || s.equals(1, 0, "WT"), s.equals(2, 0, "G") else { return }
        guard let kg = weight(s) else { return }
        if level == .equipment {
            if !containers.isEmpty && containers[containers.count - 1].grossWeightKg == nil {
                containers[containers.count - 1].grossWeightKg = kg
            }
        } else if goods != nil && goods?.grossWeightKg == nil {
            goods!.grossWeightKg = kg
        }
    }

    /// The MEA's C174 value in kilograms, or nil after recording why not.
    private func weight(_ s: SegmentFields) -> Double? {
        guard let valueToken = s.token(3, 1) else {
            fail("manifest.bad-weight", s, "MEA gross weight has no value (C174 6314)", consignment: current.map { _ in "" })
            return nil
        }
        guard let value = EDIFACTNumbers.decimal(s.view.rawBytes(valueToken), decimalMark: s.view.delimiters.decimalMark), value >= 0 else {
            fail("manifest.bad-weight", s, "MEA gross weight \(s.text(3, 1) ?? "") is not a non-negative number", consignment: current.map { _ in "" })
            return nil
        }
        let factor: Double
        if s.equals(3, 0, "KGM") { factor = 1 }
        else if s.equals(3, 0, "TNE") { factor = 1000 }
        else if s.equals(3, 0, "LBR") { factor = 0.45359237 }
        else if s.equals(3, 0, "GRM") { factor = 0.001 }
        else {
            fail("manifest.unknown-weight-unit", s, "MEA weight unit (6411) \(s.text(3, 0) ?? "(none)") is not KGM, TNE, LBR or GRM",
                 consignment: current.map { _ in "" })
            return nil
        }
        guard let kg = ManifestRules.weightKg(factor == 1 ? value : (value * factor * 1000).rounded() / 1000) else {
            fail("manifest.bad-weight", s, "MEA gross weight \(s.text(3, 1) ?? "") \(s.text(3, 0) ?? "") is over the 9 999 999 999 999 kg a copy can state",
                 consignment: current.map { _ in "" })
            return nil
        }
        return kg
    }

    private func reference(_ s: SegmentFields) {
        guard current != nil else { return }
        switch level {
        case .party, .consignmentTransport:
            return  // NAD-RFF and TDT-RFF: the party's or the carriage's reference, not the consignment's
        default:
            break
        }
        finishGoodsIfOpen()
        level = .consignment
        guard let value = s.text(1, 1) else { return }
        let found = (value, segmentPlace(s))
        if s.equals(1, 0, "BM") { if current!.oceanBill == nil { current!.oceanBill = found } }
        else if s.equals(1, 0, "BH") { if current!.houseBill == nil { current!.houseBill = found } }
        else if s.equals(1, 0, "AWB") { if current!.airWaybill == nil { current!.airWaybill = found } }
        else if s.equals(1, 0, "MB") { current!.masterBill = current!.masterBill ?? value }
    }

    private func goodsItem(_ s: SegmentFields) {
        guard current != nil else { return }
        finishGoodsIfOpen()
        level = .goods
        goodsPlace = segmentPlace(s)
        var sequence = current!.consignment.goods.count + 1
        if let t = s.token(1) {
            if let n = EDIFACTNumbers.integer(s.view.rawBytes(t)), ManifestRules.itemSequences.contains(n) { sequence = n }
            else { fail("manifest.bad-item-number", s, "GID item number (1496) \(s.text(1) ?? "") is not a whole number from 1 to 99999", consignment: "") }
        }
        if !current!.goodsSequences.insert(sequence).inserted {
            fail("manifest.duplicate-goods-item", s, "goods item \(sequence) appears more than once in this consignment", consignment: "")
        }
        var item = GoodsItem(sequence: sequence, description: "")
        if let t = s.token(2, 0) {
            if let n = EDIFACTNumbers.integer(s.view.rawBytes(t)), ManifestRules.packageCounts.contains(n) { item.packages = n }
            else { fail("manifest.bad-package-count", s, "GID number of packages (7224) \(s.text(2, 0) ?? "") is not a whole number up to 999999999", consignment: "") }
        }
        item.packageType = s.text(2, 1)
        if let type = item.packageType, !ManifestRules.isPackageType(type) {
            fail("manifest.bad-code", s, "GID type of packages (7065) \(type) is not a UN/ECE Rec. 21 code of two letters or digits", consignment: "")
        }
        goods = item
    }

    private func freeText(_ s: SegmentFields) {
        guard level == .goods, goods != nil, s.equals(1, 0, "AAA") else { return }
        for c in 0..<5 {
            guard let line = s.text(4, c) else { continue }
            if goods?.description.isEmpty == true {
                goods!.description = line
            } else {
                goods!.description.append(" ")
                goods!.description.append(line)
            }
        }
    }

    private func splitGoods(_ s: SegmentFields) {
        guard level == .goods, goods != nil else { return }
        guard let raw = s.text(1) else {
            fail("manifest.missing-container-number", s, "SGP has no equipment number (C237 8260)", consignment: "")
            return
        }
        let number = Normalize.containerNumber(raw)
        if containerIndex[number] == nil {
            fail("manifest.unknown-container", s, "SGP names container \(number), which is not among the manifest's equipment (EQD)", consignment: "")
        }
        var share = ContainerShare(container: number)
        if let t = s.token(2) {
            if let n = EDIFACTNumbers.integer(s.view.rawBytes(t)) { share.packages = n }
            else { fail("manifest.bad-package-count", s, "SGP number of packages (7224) \(s.text(2) ?? "") is not a whole number", consignment: "") }
        }
        goods?.containers.append(share)
    }

    private func dangerousGoods(_ s: SegmentFields) {
        guard level == .goods, goods != nil else { return }
        guard let un = s.text(3) else {
            fail("manifest.bad-un-number", s, "DGS has no UN number (C234 7124)", consignment: "")
            return
        }
        guard un.utf8.count == 4, un.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            fail("manifest.bad-un-number", s, "DGS UN number \(un) is not four digits", consignment: "")
            return
        }
        let hazardClass = s.text(2)
        if let hazardClass, !ManifestRules.isHazardClass(hazardClass) {
            fail("manifest.bad-code", s, "DGS hazard class (8351) \(hazardClass) is not a class or division such as 3, 2.1 or 1.4S", consignment: "")
        }
        goods?.dangerousGoods.append(DangerousGoods(unNumber: un, hazardClass: hazardClass))
    }

    private func customsStatus(_ s: SegmentFields) {
        guard level == .goods, goods != nil, goods?.hsCode == nil else { return }
        // C246 appears up to five times (elements 2-6); the first commodity (122) or HS (169) code is taken.
        for e in 2...6 where s.equals(e, 1, "122") || s.equals(e, 1, "169") {
            guard let raw = s.text(e, 0) else { continue }
            guard let digits = Normalize.hsCode(raw) else {
                fail("manifest.bad-hs-code", s, "CST commodity code \(raw) is not an HS code of 6 to 10 digits", consignment: "")
                return
            }
            goods!.hsCode = digits
            return
        }
    }

    // MARK: - Closing groups

    private func finishGoodsIfOpen() {
        // `take()`: the item moves into its consignment rather than being copied and the original dropped.
        guard let item = goods.take() else { return }
        if item.description.isEmpty, let place = goodsPlace, errors.count < CUSCARMapping.maxErrorsPerMessage {
            errors.append(ManifestMappingError(code: "manifest.missing-description", consignment: "", location: place.location, offset: place.offset,
                                               message: "goods item \(item.sequence) has no description (FTX AAA): every agency's copy describes the goods"))
        }
        current?.consignment.goods.append(item)
    }

    private func finishConsignmentIfOpen() {
        finishGoodsIfOpen()
        guard let draft = current.take() else { return }
        var consignment = draft.consignment
        let chosen = draft.houseBill ?? draft.oceanBill ?? draft.airWaybill
        var name = chosen?.0
        if let (bill, place) = chosen {
            consignment.billOfLading = bill
            var master = draft.masterBill
            if master == nil && draft.houseBill != nil {
                // A house bill's CNI C503 1004 (or its RFF BM) carries the master bill it travels under.
                master = draft.oceanBill?.0 ?? draft.cniNumber
            }
            consignment.masterBillOfLading = master == bill ? nil : master
            if !billsSeen.insert(bill).inserted {
                if errors.count < CUSCARMapping.maxErrorsPerMessage {
                    errors.append(ManifestMappingError(code: "manifest.duplicate-bill-of-lading", consignment: bill, location: place.location, offset: place.offset,
                                                       message: "bill of lading \(bill) appears in more than one consignment of this manifest"))
                }
            }
            consignments.append(consignment)
        } else {
            name = nil
            if errors.count < CUSCARMapping.maxErrorsPerMessage {
                errors.append(ManifestMappingError(code: "manifest.missing-bill-of-lading", consignment: draft.cniNumber, location: draft.cni.location,
                                                   offset: draft.cni.offset,
                                                   message: "consignment \(draft.cniNumber ?? "") has no bill of lading (RFF BM, BH or AWB)"))
            }
        }
        // Errors found inside the consignment before its bill was known are named now.
        var i = draft.firstError
        while i < errors.count {
            if errors[i].consignment == "" { errors[i].consignment = name ?? draft.cniNumber }
            i += 1
        }
    }

    /// The mapping of the whole message; `complete` is false when it ended without its UNT.
    func finish(complete: Bool) -> CUSCARMessageMapping {
        finishConsignmentIfOpen()
        let end = endLocation
        if !complete && errors.count < CUSCARMapping.maxErrorsPerMessage {
            errors.append(ManifestMappingError(code: "manifest.incomplete-message", location: "UNH segment 1", offset: unhOffset,
                                               message: "message \(reference) ends without its UNT: it is not mapped in part"))
        }
        if !sawBGM && errors.count < CUSCARMapping.maxErrorsPerMessage {
            errors.append(ManifestMappingError(code: "manifest.missing-document-number", location: end, offset: endOffset,
                                               message: "the message has no BGM, so no manifest number (1004)"))
        }
        if !sawTransport && errors.count < CUSCARMapping.maxErrorsPerMessage {
            errors.append(ManifestMappingError(code: "manifest.missing-transport-mode", location: end, offset: endOffset,
                                               message: "the message has no transport (header TDT group), so no mode of transport"))
        }
        var mapping = CUSCARMessageMapping(messageReference: reference, directory: directory, segmentNumber: unhNumber,
                                           byteOffset: unhOffset, manifest: nil, errors: errors)
        guard errors.isEmpty, let documentNumber, let function, modeKnown else { return mapping }
        if transport.departurePort == nil { transport.departurePort = departureFromLoading }
        if transport.arrivalPort == nil { transport.arrivalPort = arrivalFromDischarge }
        if transport.carrier == nil { transport.carrier = headerCarrier }
        mapping.manifest = Manifest(documentNumber: documentNumber, function: function, issuedAt: issuedAt,
                                    sender: messageSender ?? interchangeSender, transport: transport,
                                    containers: containers, consignments: consignments)
        return mapping
    }
}

/// One segment's values, read without copying unless a value is kept.
struct SegmentFields {
    let view: SegmentView
    let syntax: SyntaxIdentifier

    /// The token at (element, component), nil when absent or empty.
    @inline(__always)
    func token(_ element: Int, _ component: Int = 0) -> ValueToken? {
        for t in view.tokens where Int(t.element) == element && Int(t.component) == component && t.repetition == 0 {
            return t.isEmpty ? nil : t
        }
        return nil
    }

    /// True when the value is exactly `literal` (qualifiers and codes: compared as bytes, no String made).
    func equals(_ element: Int, _ component: Int, _ literal: StaticString) -> Bool {
        guard let t = token(element, component) else { return false }
        let raw = view.rawBytes(t)
        guard !t.escaped else { return view.bytes(t).elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)) }
        return raw.count == literal.utf8CodeUnitCount && memcmp(raw.baseAddress!, literal.utf8Start, raw.count) == 0
    }

    /// The value unescaped, decoded and trimmed of spaces; nil when absent, empty or only spaces.
    func text(_ element: Int, _ component: Int = 0) -> String? {
        guard let t = token(element, component) else { return nil }
        let raw = view.rawBytes(t)
        var lo = 0, hi = raw.count
        while lo < hi && raw[lo] == 0x20 { lo += 1 }
        while hi > lo && raw[hi - 1] == 0x20 { hi -= 1 }
        guard lo < hi else { return nil }
        let slice = UnsafeBufferPointer(rebasing: raw[lo..<hi])
        // ASCII reads the same in every repertoire but UNOX (ISO 2022: seven-bit bytes may be shifted).
        if !t.escaped && syntax != .UNOX && slice.allSatisfy({ $0 < 0x80 }) {
            return String(decoding: slice, as: UTF8.self)
        }
        let decoded = Self.trimmingWhitespace(t.escaped ? view.string(t, as: syntax) : syntax.decode(raw))
        return decoded.isEmpty ? nil : decoded
    }

    /// The non-empty components of an element, trimmed and joined (C080 name lines, ...); nil when none.
    func joined(element: Int, components: Range<Int>, separator: String) -> String? {
        var out: String?
        for c in components {
            if let line = text(element, c) { out.join(line, separator: separator) }
        }
        return out
    }
}

extension SegmentFields {
    /// `text.trimmingCharacters(in: .whitespaces)`, without Foundation (it was a tenth of mapping a CUSCAR,
    /// run on every non-ASCII name) and without a copy when there is nothing to trim.
    static func trimmingWhitespace(_ text: String) -> String {
        let scalars = text.unicodeScalars
        var lo = scalars.startIndex, hi = scalars.endIndex
        while lo < hi && isWhitespace(scalars[lo]) { scalars.formIndex(after: &lo) }
        while hi > lo && isWhitespace(scalars[scalars.index(before: hi)]) { scalars.formIndex(before: &hi) }
        if lo == scalars.startIndex && hi == scalars.endIndex { return text }
        return String(scalars[lo..<hi])
    }

    /// Foundation's `CharacterSet.whitespaces`: tab, the space separators (Zs) and U+200B ZERO WIDTH SPACE
    /// (checked scalar by scalar against Foundation when this was written).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }
}

extension Optional where Wrapped == String {
    /// Appends `text`, after `separator` when there is text already.
    mutating func join(_ text: String, separator: String) {
        if self == nil {
            self = text
        } else {
            self!.append(separator)
            self!.append(text)
        }
    }
}

/// Normalizations the model states (upper-case container numbers without spaces, HS codes as digits).
enum Normalize {
    /// Upper case, spaces removed: `mscu 123456 6` → `MSCU1234566`.
    static func containerNumber(_ raw: String) -> String {
        // Written in place: no byte array between the raw value and the string.
        String(unsafeUninitializedCapacity: raw.utf8.count) { buffer in
            var n = 0
            for b in raw.utf8 where b != 0x20 {
                buffer[n] = b >= 97 && b <= 122 ? b - 32 : b
                n += 1
            }
            return n
        }
    }

    /// The HS code's digits, dots and spaces dropped (`6109.10` → `610910`); nil when anything else is
    /// in it or there are not 6 to 10 digits.
    static func hsCode(_ raw: String) -> String? {
        var digits: [UInt8] = []
        for b in raw.utf8 {
            if b >= 48 && b <= 57 { digits.append(b) } else if b != 0x2E && b != 0x20 { return nil }
        }
        guard (6...10).contains(digits.count) else { return nil }
        return String(decoding: digits, as: UTF8.self)
    }
}

/// Numbers read straight from a value's bytes.
enum EDIFACTNumbers {
    /// A non-negative whole number of at most 18 digits.
    static func integer(_ raw: UnsafeBufferPointer<UInt8>) -> Int? {
        guard !raw.isEmpty, raw.count <= 18 else { return nil }
        var n = 0
        for b in raw {
            guard b >= 48 && b <= 57 else { return nil }
            n = n * 10 + Int(b - 48)
        }
        return n
    }

    /// A decimal with an optional sign and the interchange's decimal mark (or `.`), no exponent.
    static func decimal(_ raw: UnsafeBufferPointer<UInt8>, decimalMark: UInt8) -> Double? {
        guard !raw.isEmpty, raw.count <= 32 else { return nil }
        if let exact = exactDecimal(raw, decimalMark: decimalMark) { return exact }
        var text: [UInt8] = []
        text.reserveCapacity(raw.count)
        var digits = 0, marks = 0
        for (i, b) in raw.enumerated() {
            if b >= 48 && b <= 57 {
                digits += 1
                text.append(b)
            } else if b == decimalMark || b == 0x2E {
                marks += 1
                text.append(0x2E)
            } else if b == 0x2D && i == 0 {
                text.append(b)
            } else {
                return nil
            }
        }
        guard digits > 0, marks <= 1 else { return nil }
        return Double(String(decoding: text, as: UTF8.self))
    }
}

extension EDIFACTNumbers {
    /// Powers of ten a Double holds exactly (10^0 ... 10^22).
    private static let exactPowersOfTen: [Double] = (0...22).map { (0..<$0).reduce(1.0) { value, _ in value * 10 } }

    /// `decimal` without a string and `strtod`, for values of at most 15 digits (nearly all weights): the
    /// digits as an integer and a power of ten are both exact Doubles, so their quotient is the correctly
    /// rounded value, the very Double `strtod` gives (Clinger's fast path). Nil when that does not apply
    /// or the value is malformed; `decimal` then decides as it always did.
    static func exactDecimal(_ raw: UnsafeBufferPointer<UInt8>, decimalMark: UInt8) -> Double? {
        var mantissa = 0, digits = 0, fractionDigits = 0, seenMark = false, negative = false
        for (i, b) in raw.enumerated() {
            if b >= 48 && b <= 57 {
                mantissa = mantissa &* 10 &+ Int(b &- 48)
                digits += 1
                if seenMark { fractionDigits += 1 }
            } else if (b == decimalMark || b == 0x2E) && !seenMark {
                seenMark = true
            } else if b == 0x2D && i == 0 {
                negative = true
            } else {
                return nil
            }
        }
        guard digits > 0, digits <= 15 else { return nil }
        let value = Double(mantissa) / exactPowersOfTen[fractionDigits]
        return negative ? -value : value
    }
}

/// DTM values (2379 formats 101, 102, 201, 203, 204) as UTC dates, and back, without a Calendar.
enum EDIFACTDates {
    /// The date, or nil when the value does not fit the format or is not a real date. Without a format
    /// code the length decides (8 digits 102, 12 digits 203, 14 digits 204).
    static func date(_ raw: UnsafeBufferPointer<UInt8>, format: UnsafeBufferPointer<UInt8>?) -> Date? {
        guard raw.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let code: Int
        if let format, !format.isEmpty {
            guard let c = EDIFACTNumbers.integer(format) else { return nil }
            code = c
        } else {
            switch raw.count {
            case 8: code = 102
            case 12: code = 203
            case 14: code = 204
            default: return nil
            }
        }
        func number(_ from: Int, _ count: Int) -> Int {
            var n = 0
            for i in from..<(from + count) { n = n * 10 + Int(raw[i] - 48) }
            return n
        }
        var year: Int, month: Int, day: Int, hour = 0, minute = 0, second = 0
        switch (code, raw.count) {
        case (101, 6), (201, 10):
            let yy = number(0, 2)
            year = yy < 50 ? 2000 + yy : 1900 + yy  // two-digit years: the usual EDIFACT pivot at 50
            month = number(2, 2); day = number(4, 2)
            if code == 201 { hour = number(6, 2); minute = number(8, 2) }
        case (102, 8), (203, 12), (204, 14):
            year = number(0, 4); month = number(4, 2); day = number(6, 2)
            if code >= 203 { hour = number(8, 2); minute = number(10, 2) }
            if code == 204 { second = number(12, 2) }
        default:
            return nil
        }
        guard (1...12).contains(month), (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else { return nil }
        let seconds = CivilDate.daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    /// The DTM value and format for a date: 203 (CCYYMMDDHHMM), or 204 when it has seconds. Sub-second parts are dropped.
    static func value(_ date: Date) -> (value: String, format: String) {
        let total = Int(date.timeIntervalSince1970.rounded(.down))
        var days = total / 86_400, rest = total % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        let (y, m, d) = CivilDate.civilFromDays(days)
        let hour = rest / 3600, minute = rest % 3600 / 60, second = rest % 60
        func pad(_ v: Int, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        let base = pad(y, 4) + pad(m, 2) + pad(d, 2) + pad(hour, 2) + pad(minute, 2)
        return second == 0 ? (base, "203") : (base + pad(second, 2), "204")
    }

}
