import EDIFACT
import Foundation
import Testing

@testable import Gateway

// Issue 7: CUSRES (D95B, D96A) read into agency instructions, and the merge rule that turns the facts into one
// state per consignment and container.

/// A CUSRES interchange from `sender` with `body` segments between BGM and UNT (counted here).
func cusres(_ body: [String], directory: String = "96A", sender: String = "CNCQCUSTOMS:ZZZ", reference: String = "REL-1",
            function: String = "9", interchange: String = "RES0001") -> [UInt8] {
    let segments = ["UNH+1+CUSRES:D:\(directory):UN", "BGM+962+\(reference)+\(function)"] + body
    let text = "UNA:+.? '\nUNB+UNOC:3+\(sender)+SWGATEWAY:ZZZ+250206:1000+\(interchange)'\n"
        + segments.map { $0 + "'\n" }.joined() + "UNT+\(segments.count + 1)+1'\nUNZ+1+\(interchange)'\n"
    return Array(text.utf8)
}

@Suite("CUSRES to agency instructions")
struct CUSRESMappingTests {
    @Test("a release of a bill of lading in a named manifest (D96A), with its issue time and free text")
    func releaseOfBill() throws {
        let mapped = CUSRESMapping.map(cusres(["DTM+137:202502061000:203", "GIS+1", "GIS+4", "FTX+AAI+++CLEARED", "RFF+AFB:MAN1",
                                               "DTM+171:202501310930:203", "RFF+BM:BL1"]))
        try #require(mapped.count == 1)
        #expect(mapped[0].errors.isEmpty, "\(mapped[0].errors)")
        let instruction = try #require(mapped[0].instruction)
        #expect(instruction.reference == "REL-1")
        #expect(instruction.action == .release)
        #expect(instruction.objects == [InstructionObject(kind: .bill, reference: "BL1", manifest: "MAN1")])
        #expect(instruction.issuedAt == ISO8601DateFormatter().date(from: "2025-02-06T10:00:00Z"))
        #expect(instruction.note == "CLEARED")
    }

    @Test("D95B: an inspection of two containers of a bill (EQD in the RFF group), and a header-level container")
    func inspectionOfContainers() throws {
        let mapped = CUSRESMapping.map(cusres(["GIS+5", "EQD+CN+MSCU1234566", "RFF+BM:BL1", "EQD+CN+TGHU 7654320", "EQD+CN+tghu7654320"],
                                              directory: "95B"))
        let instruction = try #require(mapped.first?.instruction, "\(mapped)")
        #expect(instruction.action == .inspect)
        // The header EQD, then the bill's containers (normalized, each once): the bill itself is not named whole.
        #expect(instruction.objects == [InstructionObject(kind: .container, reference: "MSCU1234566"),
                                        InstructionObject(kind: .container, reference: "TGHU7654320")])
    }

    @Test("a hold of a whole manifest (RFF+AFB alone), and a container by RFF+AAQ")
    func holdOfManifest() throws {
        let manifest = try #require(CUSRESMapping.map(cusres(["GIS+7", "RFF+AFB:MAN1"])).first?.instruction)
        #expect(manifest.action == .hold)
        #expect(manifest.objects == [InstructionObject(kind: .manifest, reference: "MAN1")])
        let container = try #require(CUSRESMapping.map(cusres(["GIS+7", "RFF+AAQ:MSCU1234566"])).first?.instruction)
        #expect(container.objects == [InstructionObject(kind: .container, reference: "MSCU1234566")])
    }

    @Test("refusals name the code, segment and byte offset, and give no instruction")
    func refusals() throws {
        func errors(_ bytes: [UInt8]) -> [String] {
            CUSRESMapping.map(bytes).flatMap { $0.errors.map { "\($0.code) @\($0.location)" } }
        }
        #expect(errors(cusres(["GIS+1", "RFF+BM:BL1"])) == ["instruction.no-action @UNT segment 5"])
        #expect(errors(cusres(["GIS+4", "GIS+7", "RFF+BM:BL1"])) == ["instruction.contradictory @UNT segment 6"])
        #expect(errors(cusres(["GIS+4", "RFF+BM:BL1", "EQD+CN+MSCU1234567"])) == ["instruction.container-check-digit @EQD segment 5"])
        #expect(errors(cusres(["GIS+4", "RFF+ABT:DECL1"])) == ["instruction.no-object @UNT segment 5"])
        #expect(errors(cusres(["GIS+4", "RFF+BM:BL1"], function: "1")) == ["instruction.unsupported-function @BGM segment 2"])
        #expect(errors(cusres(["GIS+4", "RFF+BM:BL1"], directory: "01B")) == ["instruction.unsupported-directory @UNH segment 1"])
        #expect(errors(cusres(["GIS+4", "RFF+AFB:MAN1", "RFF+AFB:MAN2", "RFF+BM:BL1"])) == ["instruction.two-manifests @RFF segment 5"])
        let offset = try #require(CUSRESMapping.map(cusres(["GIS+4", "RFF+BM:BL1", "EQD+CN+MSCU1234567"])).first?.errors.first?.offset)
        let text = String(decoding: cusres(["GIS+4", "RFF+BM:BL1", "EQD+CN+MSCU1234567"]), as: UTF8.self)
        #expect(text.utf8.dropFirst(offset).starts(with: "EQD+CN+MSCU1234567".utf8))
    }

    @Test("other messages are skipped; a truncated CUSRES is refused, never a crash")
    func otherMessagesAndTruncation() throws {
        #expect(CUSRESMapping.map(Array(try String(contentsOf: CLI.fixtures.appendingPathComponent("valid/cuscar-d95b-notes.edi"),
                                                   encoding: .utf8).utf8)).isEmpty)
        let whole = cusres(["GIS+4", "RFF+BM:BL1"])
        for cut in stride(from: 0, to: whole.count, by: 7) {
            for mapping in CUSRESMapping.map(whole.prefix(cut)) {
                #expect(mapping.instruction == nil || cut > whole.count - 30)
            }
        }
    }
}

extension CUSRESMappingTests {
    @Test("random byte mutations of valid CUSRES never crash the mapper; a message gives an instruction or a refusal")
    func mutations() {
        let seeds = [
            cusres(["DTM+137:202502061000:203", "GIS+4", "RFF+AFB:MAN1", "RFF+BM:BL1", "EQD+CN+MSCU1234566"]),
            cusres(["GIS+5", "EQD+CN+TGHU7654320", "RFF+BM:BL2", "DTM+171:202501310930:203"], directory: "95B"),
            cusres(["GIS+7", "FTX+AAI+++HELD?: SEE NOTE", "RFF+AAQ:MSCU1234566"]),
        ]
        var mapped = 0, refused = 0
        for bytes in mutated(seeds, count: 3000, state: 0xC05_7E5) {
            for mapping in CUSRESMapping.map(bytes) {
                if let instruction = mapping.instruction {
                    mapped += 1
                    #expect(mapping.errors.isEmpty && !instruction.objects.isEmpty && !instruction.reference.isEmpty)
                } else {
                    refused += 1
                    #expect(!mapping.errors.isEmpty)
                }
            }
        }
        #expect(mapped > 0 && refused > 0, "\(mapped) mapped, \(refused) refused")
    }
}

@Suite("the merge rule")
struct VerdictMergeTests {
    let t0 = Date(timeIntervalSince1970: 1_738_800_000)

    func fact(_ agency: String, _ action: InstructionAction, at minutes: Double, received: Double? = nil, id: Int64 = 0) -> InstructionFact {
        InstructionFact(id: id, agency: agency, reference: "\(agency)-\(minutes)", action: action,
                        object: InstructionObject(kind: .bill, reference: "BL1"), issuedAt: t0.addingTimeInterval(minutes * 60),
                        receivedAt: t0.addingTimeInterval((received ?? minutes) * 60), batchId: nil, signer: nil, verification: "verified")
    }

    func merge(_ routed: [String], _ facts: [InstructionFact], now minutes: Double = 10) -> Verdict {
        VerdictMerge.merge(routedTo: routed, facts: facts, firstSeen: t0, now: t0.addingTimeInterval(minutes * 60), silence: 3600)
    }

    @Test("a release from every agency it was routed to releases it; until then it waits for the others")
    func releaseByAll() {
        var v = merge(["CUSTOMS", "CIQ"], [fact("CUSTOMS", .release, at: 1)])
        #expect(v.state == .pending && v.waitingFor == ["CIQ"], "\(v)")
        v = merge(["CUSTOMS", "CIQ"], [fact("CUSTOMS", .release, at: 1), fact("CIQ", .release, at: 2)])
        #expect(v.state == .released && v.reason.contains("every agency"), "\(v)")
    }

    @Test("any hold wins, from any agency; one inspect is a single inspection, two a joint one")
    func holdAndInspections() {
        var v = merge(["CUSTOMS"], [fact("CUSTOMS", .release, at: 1), fact("MSA", .hold, at: 2), fact("CIQ", .inspect, at: 3)])
        #expect(v.state == .held && v.holding == ["MSA"], "\(v)")
        v = merge(["CUSTOMS", "CIQ"], [fact("CUSTOMS", .release, at: 1), fact("CIQ", .inspect, at: 2)])
        #expect(v.state == .inspection && v.reason == "inspection by CIQ alone", "\(v)")
        v = merge(["CUSTOMS", "CIQ"], [fact("CUSTOMS", .inspect, at: 1), fact("CIQ", .inspect, at: 2)])
        #expect(v.state == .inspection && v.inspecting == ["CIQ", "CUSTOMS"] && v.reason.hasPrefix("joint inspection by CIQ, CUSTOMS"), "\(v)")
    }

    @Test("an inspection's result: a release after the agency's own inspect passes it, a hold fails it")
    func inspectionResults() {
        var v = merge(["CUSTOMS", "CIQ"], [fact("CUSTOMS", .release, at: 1), fact("CIQ", .inspect, at: 2), fact("CIQ", .release, at: 3)])
        #expect(v.state == .released && v.inspected == ["CIQ"], "\(v)")
        v = merge(["CIQ"], [fact("CIQ", .inspect, at: 2), fact("CIQ", .failed, at: 3)])
        #expect(v.state == .held && v.inspected == ["CIQ"], "\(v)")
        v = merge(["CIQ"], [fact("CIQ", .inspect, at: 2), fact("CIQ", .passed, at: 3)])
        #expect(v.state == .released, "\(v)")
    }

    @Test("out of order: an older instruction that arrives late does not undo a newer one")
    func outOfOrder() {
        // The hold was issued at minute 1 but arrived at minute 5, after the release issued at minute 2.
        let v = merge(["CUSTOMS"], [fact("CUSTOMS", .release, at: 2, id: 1), fact("CUSTOMS", .hold, at: 1, received: 5, id: 2)])
        #expect(v.state == .released, "\(v)")
        #expect(merge(["CUSTOMS"], [fact("CUSTOMS", .hold, at: 3, received: 5)] + [fact("CUSTOMS", .release, at: 2)]).state == .held)
    }

    @Test("goods routed to no agency: pending through the silence window, released after it unless one speaks")
    func silence() {
        var v = merge([], [], now: 59)
        #expect(v.state == .pending && v.silentUntil == t0.addingTimeInterval(3600), "\(v)")
        v = merge([], [], now: 60)
        #expect(v.state == .released && v.reason.contains("none spoke"), "\(v)")
        v = merge([], [fact("CIQ", .hold, at: 1)], now: 120)
        #expect(v.state == .held, "\(v)")
    }

    @Test("a container takes the weightiest state of the goods in it")
    func containerState() {
        #expect(VerdictMerge.container([.released, .released]) == .released)
        #expect(VerdictMerge.container([.released, .pending]) == .pending)
        #expect(VerdictMerge.container([.pending, .inspection, .released]) == .inspection)
        #expect(VerdictMerge.container([.inspection, .held]) == .held)
    }
}

@Suite("COREOR release orders")
struct COREORWriterTests {
    static let order = ReleaseOrder(
        function: .release, reference: "R12-1", cancels: nil, manifest: "MAN2025-0042",
        transport: TransportMeans(mode: .sea, voyage: "FA503R", meansId: "3FZO7", meansName: "MSC GULSUN",
                                  carrier: "MSC", arrivalPort: "KEMBA"),
        terminal: "KEMBATERM", expires: Date(timeIntervalSince1970: 1_740_009_600),
        containers: [ReleasedContainer(number: "MSCU1234566", sizeType: "45G1", seals: ["FJ123456"], bills: ["MEDUSH123456"]),
                     ReleasedContainer(number: "TGHU7654320", sizeType: "22G1", bills: ["BL1", "BL2"])])

    static func write(_ order: ReleaseOrder, _ directory: CUSCARDirectory = .d96A) throws -> [UInt8] {
        try COREORWriter(directory: directory, sender: ["SWGATEWAY", "ZZZ"], recipient: ["KEMBATERM", "ZZZ"], segmentSuffix: "\n")
            .interchange([order], reference: "NR121", at: EDIFACTDateTime(year: 2025, month: 2, day: 6, hour: 10, minute: 15))
    }

    @Test("a release: one EQD per container with the release number and its bills, the expiry, CNT+16; valid in both directories",
          arguments: CUSCARDirectory.allCases)
    func release(_ directory: CUSCARDirectory) throws {
        let text = String(decoding: try Self.write(Self.order, directory), as: UTF8.self)
        #expect(text.contains("UNH+R0001+COREOR:D:\(directory.rawValue):UN'"))
        for segment in ["BGM+129+R12-1+9'", "RFF+AFB:MAN2025-0042'", "TDT+20+FA503R+1++MSC+++3FZO7:::MSC GULSUN'", "LOC+11+KEMBA:139:6'",
                        "NAD+MS+SWGATEWAY::ZZZ'", "NAD+TR+KEMBATERM'", "DTM+36:20250220:102'",
                        "EQD+CN+MSCU1234566+45G1:102:5'\nRFF+RE:R12-1'\nRFF+BM:MEDUSH123456'\nSEL+FJ123456'",
                        "EQD+CN+TGHU7654320+22G1:102:5'\nRFF+RE:R12-1'\nRFF+BM:BL1'\nRFF+BM:BL2'", "CNT+16:2'"] {
            #expect(text.contains(segment), "\(segment) in\n\(text)")
        }
        #expect(EDIFACTValidator.validate(Array(text.utf8)).allSatisfy { $0.allDiagnostics.isEmpty })
    }

    @Test("a cancellation names the release it withdraws and has no expiry")
    func cancellation() throws {
        var order = Self.order
        order.function = .cancel
        order.cancels = "R12-1"
        order.expires = nil
        let text = String(decoding: try Self.write(order), as: UTF8.self)
        #expect(text.contains("BGM+129+R12-1+1'\nRFF+ACW:R12-1'"), "\(text)")
        #expect(!text.contains("DTM+36"))
    }

    @Test("pydifact reads the written COREOR with the same segments")
    func pydifact() throws {
        try Pydifact.expectSameReading(try Self.write(Self.order))
    }

    @Test("a value the directory cannot carry is refused with the segment, not written")
    func notWritable() throws {
        var order = Self.order
        order.manifest = String(repeating: "M", count: 40)
        #expect(throws: ManifestMappingError.self) { try Self.write(order) }
    }
}

@Suite("CUSRES status reports")
struct CUSRESWriterTests {
    static func write(_ directory: CUSCARDirectory = .d96A, _ report: StatusReport = Self.report) throws -> [UInt8] {
        try CUSRESWriter(directory: directory, sender: ["SWGATEWAY", "ZZZ"], recipient: ["CARRIERX", "ZZZ"], segmentSuffix: "\n")
            .interchange(report, reference: "SS71", at: EDIFACTDateTime(year: 2025, month: 2, day: 6, hour: 10, minute: 15))
    }

    static let report = StatusReport(reference: "S7-1", entries: [
        StatusEntry(manifest: "MAN1", bill: "BL1", state: .released), StatusEntry(manifest: "MAN1", bill: "BL3", state: .held),
        StatusEntry(manifest: "MAN1", bill: "BL2", state: .released), StatusEntry(manifest: "MAN1", bill: "BL4", state: .pending),
    ])

    @Test("one message per state, valid, and read back as the same positions", arguments: CUSCARDirectory.allCases)
    func roundTrip(_ directory: CUSCARDirectory) throws {
        let bytes = try Self.write(directory)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("BGM+962+S7-1-4+9'\nDTM+137:202502061015:203'\nGIS+4'\nRFF+AFB:MAN1'\nRFF+BM:BL1'\nRFF+BM:BL2'"), "\(text)")
        // Goods still waiting are "content accepted" (GIS 1), which no agency instruction uses.
        #expect(text.contains("BGM+962+S7-1-1+9'\nDTM+137:202502061015:203'\nGIS+1'\nRFF+AFB:MAN1'\nRFF+BM:BL4'"), "\(text)")
        #expect(EDIFACTValidator.validate(bytes).allSatisfy { $0.allDiagnostics.isEmpty })
        let read = CUSRESMapping.map(bytes).compactMap(\.instruction)
        #expect(read.map(\.action) == [.release, .hold])
        #expect(read.last?.objects == [InstructionObject(kind: .bill, reference: "BL3", manifest: "MAN1")])
    }

    @Test("an agency's copy: a message per set of positions with FTX+AAI; a reply names the request and what was not found")
    func agencyReply() throws {
        let report = StatusReport(reference: "Q9", inReplyTo: "ASK-1", entries: [
            StatusEntry(manifest: "MAN1", bill: "BL1", state: .inspection, positions: [("CIQ", "inspecting"), ("CUSTOMS", "released")]),
            StatusEntry(manifest: "MAN1", bill: "BL2", state: .inspection, positions: [("CIQ", "inspecting"), ("CUSTOMS", "waiting")]),
        ], notFound: [InstructionObject(kind: .bill, reference: "NOPE"), InstructionObject(kind: .container, reference: "MSKU1234565")])
        let bytes = try Self.write(.d96A, report)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("BGM+962+Q9-5+9'\nDTM+137:202502061015:203'\nGIS+5'\nFTX+AAI+++CIQ inspecting, CUSTOMS released'\nRFF+ACW:ASK-1'\nRFF+AFB:MAN1'\nRFF+BM:BL1'\n"), "\(text)")
        #expect(text.contains("BGM+962+Q9-5-2+9'"), "\(text)")
        #expect(text.contains("GIS+2'\nFTX+AAO+++not found among the consignments you may see'\nRFF+ACW:ASK-1'\nRFF+BM:NOPE'\nRFF+AAQ:MSKU1234565'"), "\(text)")
        #expect(EDIFACTValidator.validate(bytes).allSatisfy { $0.allDiagnostics.isEmpty })
        try Pydifact.expectSameReading(bytes)
    }

    @Test("pydifact reads the written CUSRES with the same segments")
    func pydifact() throws {
        try Pydifact.expectSameReading(try Self.write())
    }
}
