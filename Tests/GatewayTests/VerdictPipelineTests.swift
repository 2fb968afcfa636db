import EDIFACT
import Foundation
import Testing
import TestSupport

@testable import Gateway

// Issue 7 through the real executable, driven only by signed files: a carrier's manifest (signed under the
// customs CA) is routed to customs (every consignment) and to inspection and quarantine (the coffee only);
// each agency answers with CUSRES signed under its own CA; the
// combined state comes out of `gateway verdict explain` and `gateway verdict list`, and a file signed under
// the wrong agency's CA changes nothing.

/// The configuration of these tests; a test may change the `[verdict]` table, customs' routing, and add keys to CIQ,
/// the carrier and the terminal (or more terminals after it).
private func verdictConfig(_ pki: TestPKI, verdict: String = "silence_seconds = 600", customsRouting: String = "preset = \"customs\"",
                           ciq: String = "", carrier: String = "", terminal: String = "") -> String {
    /// An agency that signs its instructions under its own CA, with a routing rule.
    func agency(_ id: String, routing: String, ca: TestPKI.Agency, officer: TestPKI.Identity, extra: String = "") -> String {
        """
        [[partner]]
        id = "\(id)"
        role = "agency"
        identities = ["CNCQ\(id):ZZZ"]
        drop = "partners/\(id)/drop"
        pickup = "partners/\(id)/pickup"
        patterns = ["*.edi", "*.xml", "*.p7s"]
        incomplete_deadline_seconds = 600
        routing = { \(routing) }
        \(extra)
        \(ca.trustTable)
        [partner.signature]
        required = true
        trust = ["\(id)"]
        subjects = ["\(officer.subject)"]

        """
    }
    return """
    [gateway]
    sender_id = "SWGATEWAY"
    sender_qualifier = "ZZZ"
    spool = "."

    [verdict]
    \(verdict)

    [[partner]]
    id = "CARRIERX"
    role = "carrier"
    identities = ["CARRIERX:ZZZ"]
    drop = "partners/CARRIERX/drop"
    pickup = "partners/CARRIERX/pickup"
    patterns = ["*.edi", "*.xml", "*.p7s"]
    incomplete_deadline_seconds = 600
    \(carrier)
    [partner.signature]
    required = true
    trust = ["CUSTOMS"]
    subjects = ["\(pki.carrierXRSA.subject)"]

    """ + agency("CUSTOMS", routing: customsRouting, ca: pki.customs, officer: pki.customsOfficer)
        + agency("CIQ", routing: "preset = \"inspection\"", ca: pki.ciq, officer: pki.ciqOfficer, extra: ciq) + """
    [[partner]]
    id = "KEMBATERM"
    role = "terminal"
    identities = ["KEMBATERM:ZZZ"]
    drop = "partners/KEMBATERM/drop"
    pickup = "partners/KEMBATERM/pickup"
    \(terminal)

    """
}

/// A manifest with two consignments: BLCOFFEE (green coffee, HS 090111, in MSCU1234566: inspection and
/// quarantine's) and BLPARTS (machine parts, HS 847990, in TGHU7654320: customs' only).
private let twoConsignments = """
    UNA:+.? '
    UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0930+VER000001'
    UNH+M0001+CUSCAR:D:96A:UN'
    BGM+85+MANV1+9'
    DTM+137:202501310930:203'
    TDT+20+FA503R+1++MSC:172:20+++3FZO7:103::MSC GULSUN'
    LOC+5+CNSHA:139:6'
    LOC+60+KEMBA:139:6'
    EQD+CN+MSCU1234566+45G1:102:5++3+5'
    EQD+CN+TGHU7654320+22G1:102:5++3+5'
    CNI+1+BLCOFFEE'
    RFF+BM:BLCOFFEE'
    GID+1+100:BG'
    FTX+AAA+++GREEN COFFEE BEANS'
    MEA+AAE+G+KGM:6000'
    SGP+MSCU1234566+100'
    CST++090111:122'
    CNI+2+BLPARTS'
    RFF+BM:BLPARTS'
    GID+1+40:PK'
    FTX+AAA+++MACHINE PARTS'
    MEA+AAE+G+KGM:9800'
    SGP+TGHU7654320+40'
    CST++847990:122'
    UNT+23+M0001'
    UNZ+1+VER000001'

    """

@Suite("agency instructions and the combined state through gateway run --once", .serialized)
struct VerdictPipelineTests {
    let pki: TestPKI
    let spool: Scratch

    init() throws {
        pki = try TestPKI.get()
        spool = try Scratch()
        _ = try spool.write("gateway.toml", verdictConfig(pki))
        for p in ["CARRIERX", "CUSTOMS", "CIQ", "KEMBATERM"] {
            try FileManager.default.createDirectory(at: spool.url.appendingPathComponent("partners/\(p)/drop"), withIntermediateDirectories: true)
        }
    }

    func runOnce() throws -> CLIRun {
        let run = try spool.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        return run
    }

    /// Drops an instruction into `partner`'s drop with its detached signature by `signer`.
    func drop(_ partner: String, _ name: String, _ bytes: [UInt8], signedBy signer: TestPKI.Identity) throws {
        _ = try spool.write("partners/\(partner)/drop/\(name).p7s", try pki.signDetached(payload: bytes, with: signer))
        _ = try spool.write("partners/\(partner)/drop/\(name)", bytes)
    }

    func explain(_ reference: String) throws -> [String: Any] {
        let run = try spool.gateway("verdict", "explain", reference, "--json", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let consignments = try #require(document["consignments"] as? [[String: Any]])
        return try #require(consignments.first, "\(run)")
    }

    func state(_ reference: String) throws -> String { try explain(reference)["state"] as? String ?? "?" }

    /// The terminal's (or another partner's) pickup: file name → text.
    func terminalFiles(_ partner: String = "KEMBATERM") throws -> [String: String] {
        let pickup = spool.url.appendingPathComponent("partners/\(partner)/pickup")
        var files: [String: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: pickup.path)) ?? [] {
            files[name] = try String(contentsOf: pickup.appendingPathComponent(name), encoding: .utf8)
        }
        return files
    }

    @Test("release, inspection, result, a wrong agency's signature, repeats and late arrivals")
    func story() throws {
        try drop("CARRIERX", "manifest.edi", Array(twoConsignments.utf8), signedBy: pki.carrierXRSA)
        var run = try runOnce()
        #expect(run.stdout.contains("routed to CUSTOMS, CIQ"), "\(run)")
        #expect(try state("BLCOFFEE") == "pending")
        // Routed to customs and CIQ: waiting for both.
        let unit = try #require((try explain("BLCOFFEE")["units"] as? [[String: Any]])?.first)
        #expect(unit["routedTo"] as? [String] == ["CIQ", "CUSTOMS"], "\(unit)")
        #expect(unit["waitingFor"] as? [String] == ["CIQ", "CUSTOMS"], "\(unit)")

        // Customs releases the whole manifest; CIQ wants to inspect the coffee.
        try drop("CUSTOMS", "release.edi", cusres(["DTM+137:202502061000:203", "GIS+4", "RFF+AFB:MANV1"], reference: "CUS-REL-1",
                                                   interchange: "C1"), signedBy: pki.customsOfficer)
        try drop("CIQ", "inspect.edi", cusres(["DTM+137:202502061100:203", "GIS+5", "RFF+BM:BLCOFFEE"], sender: "CNCQCIQ:ZZZ",
                                               reference: "CIQ-INS-1", interchange: "Q1"), signedBy: pki.ciqOfficer)
        run = try runOnce()
        #expect(run.stdout.contains("instruction CUS-REL-1: release manifest MANV1"), "\(run)")
        #expect(run.stdout.contains("signature verified"), "\(run)")
        #expect(try state("BLPARTS") == "released")
        var coffee = try explain("BLCOFFEE")
        #expect(coffee["state"] as? String == "inspection", "\(coffee)")
        let facts = try #require(coffee["facts"] as? [[String: Any]])
        #expect(facts.map { "\($0["agency"]!) \($0["action"]!) \($0["objectKind"]!) \($0["object"]!)" }
                    == ["CUSTOMS release manifest MANV1", "CIQ inspect bill BLCOFFEE"], "\(facts)")
        #expect(facts.allSatisfy { $0["verification"] as? String == "verified" }, "\(facts)")
        #expect(facts[0]["signerSha256"] as? String == pki.customsOfficer.sha256Fingerprint, "\(facts)")
        #expect(facts[1]["signerSha256"] as? String == pki.ciqOfficer.sha256Fingerprint, "\(facts)")
        var list = try spool.gateway("verdict", "list", "--state", "inspection", "--config", "gateway.toml")
        #expect(list.status == 0 && list.stdout.contains("BLCOFFEE") && !list.stdout.contains("BLPARTS"), "\(list)")
        #expect(list.stdout.contains("inspection by CIQ alone"), "\(list)")
        // The parts' container is released by every agency concerned: one COREOR for it, none for the coffee's.
        var terminal = try terminalFiles()
        #expect(terminal.keys.sorted() == ["COREOR-MANV1-R1-1.edi", "INSPECTION-MANV1-J1-1.xml"], "\(terminal.keys)")
        let inspection = terminal["INSPECTION-MANV1-J1-1.xml"] ?? ""
        #expect(inspection.contains("<Kind>inspection</Kind>") && inspection.contains("<Number>MSCU1234566</Number>")
                    && inspection.contains("<Bill>BLCOFFEE</Bill>") && inspection.contains("<Agency>CIQ</Agency>"), "\(inspection)")
        #expect(try XMLSchemaValidator.shipped(.terminalNotice).validate(Array(inspection.utf8)).isEmpty)
        let first = terminal["COREOR-MANV1-R1-1.edi"] ?? ""
        #expect(first.contains("BGM+129+R1-1+9'") && first.contains("EQD+CN+TGHU7654320+22G1:102:5'\nRFF+RE:R1-1'\nRFF+BM:BLPARTS'"), "\(first)")
        #expect(!first.contains("MSCU1234566") && first.contains("CNT+16:1'"), "\(first)")
        #expect(run.stdout.contains("KEMBATERM COREOR-MANV1-R1-1.edi: release R1-1 of manifest MANV1: TGHU7654320"), "\(run)")
        // The carrier and the agencies hear the combined status of what concerns them, as CUSRES.
        #expect(run.stdout.contains("CARRIERX CUSRES-MANV1-S1-1.edi: status S1-1 of manifest MANV1: BLPARTS released, BLCOFFEE inspection"),
                "\(run)")
        #expect(run.stdout.contains("CIQ CUSRES-MANV1-S1-1.edi: status S1-1 of manifest MANV1: BLCOFFEE inspection"), "\(run)")
        let status = try String(contentsOf: spool.url.appendingPathComponent("partners/CARRIERX/pickup/CUSRES-MANV1-S1-1.edi"), encoding: .utf8)
        let read = CUSRESMapping.map(Array(status.utf8)).compactMap(\.instruction)
        #expect(read.map { "\($0.action.rawValue) \($0.objects.map(\.reference))" } == ["release [\"BLPARTS\"]", "inspect [\"BLCOFFEE\"]"], "\(status)")

        // A hold signed under CIQ's CA dropped by customs: refused at the gate, and nothing changes.
        try drop("CUSTOMS", "forged.edi", cusres(["GIS+7", "RFF+BM:BLPARTS"], reference: "CUS-HOLD-X", interchange: "C2"),
                 signedBy: pki.ciqOfficer)
        run = try runOnce()
        #expect(run.stdout.contains("CUSTOMS forged.edi: quarantined"), "\(run)")
        #expect(try state("BLPARTS") == "released")

        // CIQ's inspection passes; customs repeats its release under a new interchange; a customs hold issued
        // before its release arrives late.
        try drop("CIQ", "passed.edi", cusres(["DTM+137:202502061500:203", "GIS+4", "RFF+BM:BLCOFFEE"], sender: "CNCQCIQ:ZZZ",
                                              reference: "CIQ-REL-1", interchange: "Q2"), signedBy: pki.ciqOfficer)
        try drop("CUSTOMS", "repeat.edi", cusres(["DTM+137:202502061000:203", "GIS+4", "RFF+AFB:MANV1"], reference: "CUS-REL-1",
                                                  interchange: "C3"), signedBy: pki.customsOfficer)
        try drop("CUSTOMS", "late.edi", cusres(["DTM+137:202502060900:203", "GIS+7", "RFF+BM:BLPARTS"], reference: "CUS-HOLD-0",
                                                interchange: "C4"), signedBy: pki.customsOfficer)
        run = try runOnce()
        coffee = try explain("BLCOFFEE")
        #expect(coffee["state"] as? String == "released", "\(coffee)")
        let released = try #require((coffee["units"] as? [[String: Any]])?.first)
        #expect(released["inspected"] as? [String] == ["CIQ"], "\(released)")
        #expect((coffee["facts"] as? [[String: Any]])?.count == 3, "\(coffee)")
        let parts = try explain("BLPARTS")
        #expect(parts["state"] as? String == "released", "the late hold was issued before the release: \(parts)")
        #expect((parts["facts"] as? [[String: Any]])?.count == 2, "\(parts)")
        terminal = try terminalFiles()
        #expect(terminal.keys.sorted() == ["COREOR-MANV1-R1-1.edi", "COREOR-MANV1-R1-2.edi", "INSPECTION-MANV1-J1-1.xml"], "\(terminal.keys)")
        #expect(terminal["COREOR-MANV1-R1-2.edi"]?.contains("EQD+CN+MSCU1234566+45G1:102:5'\nRFF+RE:R1-2'\nRFF+BM:BLCOFFEE'") == true)

        // Nothing new: a run sends the terminal nothing.
        run = try runOnce()
        #expect(try terminalFiles().count == 3, "\(run)")

        // CIQ turns to hold the coffee after its release went out: the terminal gets a cancelling COREOR.
        try drop("CIQ", "hold.edi", cusres(["DTM+137:202502061600:203", "GIS+7", "RFF+BM:BLCOFFEE"], sender: "CNCQCIQ:ZZZ",
                                            reference: "CIQ-HOLD-1", interchange: "Q3"), signedBy: pki.ciqOfficer)
        run = try runOnce()
        #expect(try state("MSCU1234566") == "held")
        terminal = try terminalFiles()
        let cancel = try #require(terminal["COREOR-MANV1-R1-2-CANCEL.edi"], "\(terminal.keys) \(run)")
        #expect(cancel.contains("BGM+129+R1-2+1'\nRFF+ACW:R1-2'") && cancel.contains("EQD+CN+MSCU1234566"), "\(cancel)")
        #expect(!cancel.contains("TGHU7654320"), "\(cancel)")
        let hold = try #require(terminal["HOLD-MANV1-H1-1.xml"], "\(terminal.keys)")
        #expect(hold.contains("<Kind>hold</Kind>") && hold.contains("<Number>MSCU1234566</Number>") && hold.contains("<Agency>CIQ</Agency>"), "\(hold)")
        #expect(terminal.count == 5)

        // The text form names the rule, the positions and every fact with its file.
        let text = try spool.gateway("verdict", "explain", "TGHU7654320", "--config", "gateway.toml")
        #expect(text.status == 0, "\(text)")
        #expect(text.stdout.contains("bill of lading BLPARTS (manifest MANV1, carrier CARRIERX"), "\(text)")
        #expect(text.stdout.contains("positions: CUSTOMS released"), "\(text)")
        #expect(text.stdout.contains("CUS-HOLD-0"), "\(text)")
        list = try spool.gateway("verdict", "list", "--config", "gateway.toml")
        #expect(list.stdout.contains("2 consignments") && list.stdout.contains("held"), "\(list)")
        // The bill's whole story names the instructions, the files they came in and the notices about its box.
        let trace = try spool.gateway("trace", "BLCOFFEE", "--config", "gateway.toml")
        #expect(trace.status == 0, "\(trace)")
        for text in ["CIQ instructs inspect of bill BLCOFFEE (CIQ-INS-1, issued 2025-02-06T11:00:00Z, signature verified)",
                     "CUSTOMS instructs release of manifest MANV1", "release R1-2 sent to KEMBATERM as COREOR-MANV1-R1-2.edi: MSCU1234566",
                     "cancel R1-2 sent to KEMBATERM as COREOR-MANV1-R1-2-CANCEL.edi", "inspect.edi"] {
            #expect(trace.stdout.contains(text), "\(text) in \(trace.stdout)")
        }
        #expect(!trace.stdout.contains("R1-1"), "the parts' box is not the coffee's: \(trace.stdout)")
        let unknown = try spool.gateway("verdict", "explain", "NOSUCHBILL", "--config", "gateway.toml")
        #expect(unknown.status == 1 && unknown.stderr.contains("NOSUCHBILL: no active consignment"), "\(unknown)")
    }

    @Test("two agencies inspect one box: one joint-inspection notice lists both; a repeat sends the terminal nothing")
    func jointInspection() throws {
        try drop("CARRIERX", "manifest.edi", Array(twoConsignments.utf8), signedBy: pki.carrierXRSA)
        _ = try runOnce()
        try drop("CUSTOMS", "inspect.edi", cusres(["GIS+5", "RFF+AFB:MANV1", "EQD+CN+MSCU1234566"], reference: "CUS-INS-1", interchange: "C5"),
                 signedBy: pki.customsOfficer)
        try drop("CIQ", "inspect.edi", cusres(["GIS+5", "RFF+BM:BLCOFFEE"], sender: "CNCQCIQ:ZZZ", reference: "CIQ-INS-1", interchange: "Q5"),
                 signedBy: pki.ciqOfficer)
        var run = try runOnce()
        #expect(run.stdout.contains("KEMBATERM INSPECTION-MANV1-J1-1.xml: inspection J1-1 of manifest MANV1: MSCU1234566"), "\(run)")
        let notice = try #require(try terminalFiles()["INSPECTION-MANV1-J1-1.xml"])
        #expect(notice.contains("<Kind>joint-inspection</Kind>") && notice.contains("<Agency>CIQ</Agency>")
                    && notice.contains("<Agency>CUSTOMS</Agency>"), "\(notice)")
        #expect(try state("MSCU1234566") == "inspection")
        let unit = try #require((try explain("MSCU1234566")["units"] as? [[String: Any]])?.first)
        #expect(unit["reason"] as? String == "joint inspection by CIQ, CUSTOMS (one box opening for all)", "\(unit)")
        // The same two again: nothing new for the terminal.
        try drop("CUSTOMS", "again.edi", cusres(["GIS+5", "RFF+AFB:MANV1", "EQD+CN+MSCU1234566"], reference: "CUS-INS-1", interchange: "C6"),
                 signedBy: pki.customsOfficer)
        run = try runOnce()
        #expect(try terminalFiles().count == 1, "\(run)")
    }

    @Test("an instruction about goods not yet filed is kept, answered by APERAK, and applies once the manifest arrives")
    func instructionBeforeManifest() throws {
        try drop("CUSTOMS", "early.edi", cusres(["GIS+7", "RFF+BM:BLPARTS"], reference: "CUS-EARLY", interchange: "C9"),
                 signedBy: pki.customsOfficer)
        var run = try runOnce()
        #expect(run.stdout.contains("instruction.unknown-object"), "\(run)")
        let pickup = spool.url.appendingPathComponent("partners/CUSTOMS/pickup")
        let aperak = try #require(try FileManager.default.contentsOfDirectory(atPath: pickup.path).first { $0.hasPrefix("APERAK-") })
        let text = try String(contentsOf: pickup.appendingPathComponent(aperak), encoding: .utf8)
        #expect(text.contains("BLPARTS yet"), "\(text)")
        try drop("CARRIERX", "manifest.edi", Array(twoConsignments.utf8), signedBy: pki.carrierXRSA)
        run = try runOnce()
        #expect(try state("BLPARTS") == "held")
        #expect(try state("BLCOFFEE") == "pending")
    }

    @Test("an XML instruction (instruction-1.xsd), signed, counts like a CUSRES; an invalid one is refused by APERAK")
    func xmlInstruction() throws {
        try drop("CARRIERX", "manifest.edi", Array(twoConsignments.utf8), signedBy: pki.carrierXRSA)
        _ = try runOnce()
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Instruction xmlns="urn:swg:instruction:1">
              <Reference>CIQ-X-1</Reference>
              <Action>hold</Action>
              <IssueTime>2025-02-06T12:00:00+08:00</IssueTime>
              <Manifest>MANV1</Manifest>
              <Container>MSCU1234566</Container>
              <Note>fumigation certificate missing</Note>
            </Instruction>

            """
        try drop("CIQ", "hold.xml", Array(xml.utf8), signedBy: pki.ciqOfficer)
        let bad = xml.replacingOccurrences(of: "MSCU1234566", with: "MSCU1234567").replacingOccurrences(of: "CIQ-X-1", with: "CIQ-X-2")
        try drop("CIQ", "bad.xml", Array(bad.utf8), signedBy: pki.ciqOfficer)
        let unknownAction = xml.replacingOccurrences(of: "<Action>hold", with: "<Action>seize").replacingOccurrences(of: "CIQ-X-1", with: "CIQ-X-3")
        try drop("CIQ", "seize.xml", Array(unknownAction.utf8), signedBy: pki.ciqOfficer)
        let run = try runOnce()
        #expect(run.stdout.contains("CIQ hold.xml: accepted"), "\(run)")
        #expect(run.stdout.contains("instruction CIQ-X-1: hold container MSCU1234566"), "\(run)")
        #expect(run.stdout.contains("CIQ bad.xml: rejected") && run.stdout.contains("instruction.container-check-digit"), "\(run)")
        #expect(run.stdout.contains("CIQ seize.xml: rejected") && run.stdout.contains("instruction.xml-schema"), "\(run)")
        let coffee = try explain("BLCOFFEE")
        #expect(coffee["state"] as? String == "held", "\(coffee)")
        let fact = try #require((coffee["facts"] as? [[String: Any]])?.first)
        #expect(fact["note"] as? String == "fumigation certificate missing" && fact["manifest"] as? String == "MANV1", "\(fact)")
        #expect(fact["issuedAt"] as? String == "2025-02-06T04:00:00Z" && fact["verification"] as? String == "verified", "\(fact)")
        #expect(try state("BLPARTS") == "pending")
    }

    @Test("a CUSRES over [gateway] max_document_mib is refused by APERAK unread (instruction.too-large), and records nothing")
    func tooLarge() throws {
        // An agency that does not sign: a signed file that large is already refused at the signature gate.
        let config = verdictConfig(pki).replacingOccurrences(of: "spool = \".\"", with: "spool = \".\"\nmax_document_mib = 1")
            .replacingOccurrences(of: "required = true\ntrust = [\"CUSTOMS\"]", with: "required = false\ntrust = [\"CUSTOMS\"]")
        #expect(config.contains("required = false"))
        _ = try spool.write("gateway.toml", config)
        // Valid apart from its size: nine messages of 8 000 bills each (SG5 repeats at most 9 999 times).
        var text = "UNA:+.? '\nUNB+UNOC:3+CNCQCUSTOMS:ZZZ+SWGATEWAY:ZZZ+250206:1000+C8'\n"
        for m in 1...9 {
            let segments = ["UNH+\(m)+CUSRES:D:96A:UN", "BGM+962+CUS-BIG-\(m)+9", "GIS+4"] + (0..<8_000).map { "RFF+BM:B\(m)X\($0)" }
            text += segments.map { $0 + "'\n" }.joined() + "UNT+\(segments.count + 1)+\(m)'\n"
        }
        text += "UNZ+9+C8'\n"
        let bytes = Array(text.utf8)
        #expect(bytes.count > 1 << 20)
        _ = try spool.write("partners/CUSTOMS/drop/big.edi", bytes)
        let run = try runOnce()
        #expect(run.stdout.contains("CUSTOMS big.edi: rejected") && run.stdout.contains("instruction.too-large"), "\(run)")
        let store = try spool.openStore()
        #expect(try store.instructions(batchId: 1).isEmpty)
    }

    @Test("a CUSRES that instructs nothing is rejected by APERAK naming the segment, and records nothing")
    func refusedInstruction() throws {
        try drop("CUSTOMS", "nothing.edi", cusres(["GIS+1", "RFF+BM:BLPARTS"], reference: "CUS-ACK", interchange: "C7"),
                 signedBy: pki.customsOfficer)
        let run = try runOnce()
        #expect(run.stdout.contains("CUSTOMS nothing.edi: rejected"), "\(run)")
        #expect(run.stdout.contains("instruction.no-action"), "\(run)")
        let store = try spool.openStore()
        #expect(try store.instructions(batchId: 1).isEmpty)
    }

    @Test("silence: goods no agency was routed are released to the terminal (D95B) when the window closes, and told the carrier")
    func silenceRelease() throws {
        // Customs takes only chapter 09 here: the parts are routed to no agency.
        // The terminal takes D95B.
        _ = try spool.write("gateway.toml", verdictConfig(pki, verdict: "silence_seconds = 2", customsRouting: "preset = \"customs\", hs_prefixes = [\"09\"]",
                                                          terminal: "notices = \"edifact-d95b\""))
        try drop("CARRIERX", "manifest.edi", Array(twoConsignments.utf8), signedBy: pki.carrierXRSA)
        var run = try runOnce()
        let parts = try #require((try explain("BLPARTS")["units"] as? [[String: Any]])?.first)
        #expect(parts["state"] as? String == "pending" && parts["routedTo"] as? [String] == [] && parts["silentUntil"] is String, "\(parts)")
        #expect(try terminalFiles().isEmpty, "\(run)")
        Thread.sleep(forTimeInterval: 2.5)
        run = try runOnce()
        #expect(run.stdout.contains("KEMBATERM COREOR-MANV1-R1-1.edi: release R1-1 of manifest MANV1: TGHU7654320"), "\(run)")
        let coreor = try #require(try terminalFiles()["COREOR-MANV1-R1-1.edi"])
        #expect(coreor.contains("EQD+CN+TGHU7654320") && !coreor.contains("MSCU1234566") && coreor.contains("COREOR:D:95B:UN"), "\(coreor)")
        #expect(EDIFACTValidator.validate(Array(coreor.utf8)).allSatisfy { $0.allDiagnostics.isEmpty }, "\(coreor)")
        #expect(run.stdout.contains("CARRIERX CUSRES-MANV1-S1-1.edi: status S1-1 of manifest MANV1: BLPARTS released"), "\(run)")
        #expect(try state("BLPARTS") == "released")
        // Nothing new afterwards.
        run = try runOnce()
        let after = try terminalFiles()
        #expect(!run.stdout.contains("COREOR") && after.count == 1, "\(run)")
    }

    @Test("a terminal that takes XML gets its release and cancellation as XML; a terminal of another port gets nothing")
    func xmlTerminal() throws {
        _ = try spool.write("gateway.toml", verdictConfig(pki, terminal: """
            notices = "xml"
            ports = ["KEMBA"]

            [[partner]]
            id = "SHATERM"
            role = "terminal"
            drop = "partners/SHATERM/drop"
            pickup = "partners/SHATERM/pickup"
            ports = ["CNSHA"]
            """))
        try drop("CARRIERX", "manifest.edi", Array(twoConsignments.utf8), signedBy: pki.carrierXRSA)
        _ = try runOnce()
        try drop("CUSTOMS", "release.edi", cusres(["GIS+4", "RFF+AFB:MANV1"], reference: "CUS-REL-1", interchange: "C1"), signedBy: pki.customsOfficer)
        try drop("CIQ", "release.edi", cusres(["DTM+137:202502061100:203", "GIS+4", "RFF+BM:BLCOFFEE"], sender: "CNCQCIQ:ZZZ", reference: "CIQ-REL-1",
                                              interchange: "Q1"), signedBy: pki.ciqOfficer)
        var run = try runOnce()
        #expect(run.stdout.contains("KEMBATERM RELEASE-MANV1-R1-1.xml: release R1-1 of manifest MANV1: MSCU1234566, TGHU7654320"), "\(run)")
        let release = try #require(try terminalFiles()["RELEASE-MANV1-R1-1.xml"])
        #expect(try XMLSchemaValidator.shipped(.terminalNotice).validate(Array(release.utf8)).isEmpty, "\(release)")
        #expect(release.contains("<Kind>release</Kind>") && release.contains("<ValidUntil>")
                    && release.contains("<Number>MSCU1234566</Number>\n    <Bill>BLCOFFEE</Bill>\n    <Agency>CIQ</Agency>\n    <Agency>CUSTOMS</Agency>"),
                "\(release)")
        // CIQ then holds the coffee: the release is withdrawn for that box, then the hold notice.
        try drop("CIQ", "hold.edi", cusres(["DTM+137:202502061200:203", "GIS+7", "RFF+BM:BLCOFFEE"], sender: "CNCQCIQ:ZZZ", reference: "CIQ-HOLD-1",
                                           interchange: "Q2"), signedBy: pki.ciqOfficer)
        run = try runOnce()
        let files = try terminalFiles()
        let cancel = try #require(files["RELEASE-MANV1-R1-1-CANCEL.xml"], "\(files.keys)")
        #expect(try XMLSchemaValidator.shipped(.terminalNotice).validate(Array(cancel.utf8)).isEmpty, "\(cancel)")
        #expect(cancel.contains("<Kind>release-cancellation</Kind>") && cancel.contains("<Cancels>R1-1</Cancels>")
                    && cancel.contains("MSCU1234566") && !cancel.contains("TGHU7654320"), "\(cancel)")
        #expect(files["HOLD-MANV1-H1-1.xml"] != nil, "\(files.keys)")
        #expect(try terminalFiles("SHATERM").isEmpty, "a terminal of another port is told nothing")
        // verdict explain shows what the terminal was sent, and that it has not taken it yet.
        let explain = try spool.gateway("verdict", "explain", "BLCOFFEE", "--config", "gateway.toml")
        #expect(explain.stdout.contains("sent to terminals:") && explain.stdout.contains("RELEASE-MANV1-R1-1-CANCEL.xml")
                    && explain.stdout.contains("in its pickup"), "\(explain)")
        // The terminal takes the cancellation: the next run notices, and explain says when.
        try FileManager.default.removeItem(at: spool.url.appendingPathComponent("partners/KEMBATERM/pickup/RELEASE-MANV1-R1-1-CANCEL.xml"))
        _ = try runOnce()
        let json = try spool.gateway("verdict", "explain", "BLCOFFEE", "--json", "--config", "gateway.toml")
        let notices = try #require((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["notices"] as? [[String: Any]])
        let cancelled = try #require(notices.first { $0["file"] as? String == "RELEASE-MANV1-R1-1-CANCEL.xml" }, "\(notices)")
        #expect(cancelled["pickedUpAt"] is String && cancelled["kind"] as? String == "cancel", "\(cancelled)")
    }

    @Test("a status request is answered with what the partner may see, as CUSRES or XML; a malformed one by APERAK")
    func statusRequest() throws {
        _ = try spool.write("gateway.toml", verdictConfig(pki, ciq: "notices = \"xml\""))
        try drop("CARRIERX", "manifest.edi", Array(twoConsignments.utf8), signedBy: pki.carrierXRSA)
        _ = try runOnce()
        try drop("CIQ", "inspect.edi", cusres(["GIS+5", "RFF+BM:BLCOFFEE"], sender: "CNCQCIQ:ZZZ", reference: "CIQ-INS-1", interchange: "Q1"),
                 signedBy: pki.ciqOfficer)
        try drop("CUSTOMS", "release.edi", cusres(["GIS+4", "RFF+AFB:MANV1"], reference: "CUS-REL-1", interchange: "C1"), signedBy: pki.customsOfficer)
        var run = try runOnce()
        // CIQ takes XML: its status says where every agency stands (the others' results too).
        let ciqStatus = try #require(try terminalFiles("CIQ")["STATUS-MANV1-S1-1.xml"], "\(run)")
        #expect(try XMLSchemaValidator.shipped(.status).validate(Array(ciqStatus.utf8)).isEmpty, "\(ciqStatus)")
        #expect(ciqStatus.contains("<Bill>BLCOFFEE</Bill>\n    <State>inspection</State>") && !ciqStatus.contains("BLPARTS")
                    && ciqStatus.contains("<Id>CUSTOMS</Id>\n      <Position>released</Position>"), "\(ciqStatus)")

        func request(_ reference: String, _ items: String) -> [UInt8] {
            Array("""
                <?xml version="1.0" encoding="UTF-8"?>
                <StatusRequest xmlns="urn:swg:status-request:1"><Reference>\(reference)</Reference>\(items)</StatusRequest>
                """.utf8)
        }
        try drop("CARRIERX", "ask.xml", request("ASK-1", "<Bill>BLCOFFEE</Bill><Container>TGHU7654320</Container><Bill>NOSUCH</Bill>"),
                 signedBy: pki.carrierXRSA)
        try drop("CIQ", "ask.xml", request("CIQ-ASK", "<Manifest>MANV1</Manifest><Bill>BLPARTS</Bill>"), signedBy: pki.ciqOfficer)
        run = try runOnce()
        #expect(run.stdout.contains("status request ASK-1: 2 consignment(s), 1 reference(s) not found"), "\(run)")
        let carrierReply = try #require(try terminalFiles("CARRIERX").first { $0.key.hasPrefix("CUSRES-REPLY-ASK-1-") }?.value, "\(run)")
        #expect(carrierReply.contains("GIS+5'\nRFF+ACW:ASK-1'\nRFF+AFB:MANV1'\nRFF+BM:BLCOFFEE'"), "\(carrierReply)")
        #expect(carrierReply.contains("GIS+4'\nRFF+ACW:ASK-1'\nRFF+AFB:MANV1'\nRFF+BM:BLPARTS'"), "\(carrierReply)")
        #expect(carrierReply.contains("GIS+2'") && carrierReply.contains("RFF+BM:NOSUCH'"), "\(carrierReply)")
        #expect(EDIFACTValidator.validate(Array(carrierReply.utf8)).allSatisfy { $0.allDiagnostics.isEmpty })
        // CIQ sees the coffee (routed to it) and not the parts, which are customs' only.
        let ciqReply = try #require(try terminalFiles("CIQ").first { $0.key.hasPrefix("STATUS-REPLY-CIQ-ASK-") }?.value, "\(run)")
        #expect(try XMLSchemaValidator.shipped(.status).validate(Array(ciqReply.utf8)).isEmpty, "\(ciqReply)")
        #expect(ciqReply.contains("<InReplyTo>CIQ-ASK</InReplyTo>") && ciqReply.contains("<Bill>BLCOFFEE</Bill>")
                    && !ciqReply.contains("<Bill>BLPARTS</Bill>") && ciqReply.contains("<NotFound>BLPARTS</NotFound>"), "\(ciqReply)")
        // A request that breaks the schema is refused by APERAK naming why.
        try drop("CARRIERX", "bad.xml", request("ASK-2", "<Truck>X</Truck>"), signedBy: pki.carrierXRSA)
        run = try runOnce()
        #expect(run.stdout.contains("rejected") && run.stdout.contains("status-request.xml-schema"), "\(run)")
    }

    @Test("an instruction that waited longer than unknown_object_wait_seconds for its goods does not apply to them")
    func unknownObjectWait() throws {
        _ = try spool.write("gateway.toml", verdictConfig(pki, verdict: "silence_seconds = 600\nunknown_object_wait_seconds = 1"))
        try drop("CIQ", "early.edi", cusres(["GIS+7", "RFF+BM:BLCOFFEE"], sender: "CNCQCIQ:ZZZ", reference: "CIQ-EARLY", interchange: "Q9"),
                 signedBy: pki.ciqOfficer)
        _ = try runOnce()
        Thread.sleep(forTimeInterval: 1.5)
        try drop("CARRIERX", "manifest.edi", Array(twoConsignments.utf8), signedBy: pki.carrierXRSA)
        _ = try runOnce()
        let coffee = try explain("BLCOFFEE")
        #expect(coffee["state"] as? String == "pending", "\(coffee)")
        #expect((coffee["facts"] as? [Any])?.isEmpty == true && (coffee["expired"] as? [[String: Any]])?.first?["reference"] as? String == "CIQ-EARLY",
                "\(coffee)")
        let text = try spool.gateway("verdict", "explain", "BLCOFFEE", "--config", "gateway.toml")
        #expect(text.stdout.contains("not applied: CIQ hold of bill BLCOFFEE (CIQ-EARLY"), "\(text)")
        #expect(try terminalFiles().isEmpty)
    }
}
