import EDIFACT
import Foundation
import GRDB
import Testing
import TestSupport

@testable import Gateway

// Issue 6 through the real executable: a carrier drops a CUSCAR, `gateway run --once` files it in the library
// and routes each agency its own copy. The copies are checked by what reads them on the other side: our
// validator and pydifact for EDIFACT, xmllint with the shipped XSD for XML.

private let routingConfig = """
    [gateway]
    sender_id = "SWGATEWAY"
    sender_qualifier = "ZZZ"
    spool = "."

    [store]
    kind = "sqlite"
    path = "state/gateway.sqlite"

    [[partner]]
    id = "CARRIERX"
    role = "carrier"
    identities = ["CARRIERX:ZZZ"]
    drop = "partners/CARRIERX/drop"
    pickup = "partners/CARRIERX/pickup"
    patterns = ["*.edi", "*.xml"]
    readiness = { convention = "rename" }

    [[partner]]
    id = "CUSTOMS"
    role = "agency"
    identities = ["CNCUSTOMS:ZZZ"]
    drop = "partners/CUSTOMS/drop"
    pickup = "partners/CUSTOMS/pickup"
    routing = { preset = "customs", format = "cuscar-d95b" }

    [[partner]]
    id = "CIQ"
    role = "agency"
    identities = ["CNCIQ:ZZZ"]
    drop = "partners/CIQ/drop"
    pickup = "partners/CIQ/pickup"
    routing = { preset = "inspection" }

    [[partner]]
    id = "BORDER"
    role = "agency"
    identities = ["CNBORDER"]
    drop = "partners/BORDER/drop"
    pickup = "partners/BORDER/pickup"
    routing = { preset = "border" }

    [[partner]]
    id = "MSA"
    role = "agency"
    identities = ["CNMSA:ZZZ"]
    drop = "partners/MSA/drop"
    pickup = "partners/MSA/pickup"
    routing = { preset = "maritime", ports = ["CNNGB"] }

    [[partner]]
    id = "DGDESK"
    role = "agency"
    identities = ["CNDG:ZZZ"]
    drop = "partners/DGDESK/drop"
    pickup = "partners/DGDESK/pickup"
    routing = { preset = "customs", dangerous_goods_only = true, format = "manifest-xml" }
    """

private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Three consignments: frozen fish (HS 0303, inspection's list), laptops (8471), and paint with dangerous goods.
private func mixedManifest(_ function: ManifestFunction = .original, consignments: [Consignment]? = nil,
                           number: String = "MAN-ROUTE-01") -> Manifest {
    let fish = Consignment(
        billOfLading: "BLFISH0001", loadingPort: "CNSHA", dischargePort: "KEMBA",
        parties: [Party(role: .shipper, name: "ZHOUSHAN SEAFOOD CO"), Party(role: .consignee, name: "MOMBASA FOODS LTD")],
        goods: [GoodsItem(sequence: 1, packages: 800, packageType: "CT", description: "FROZEN MACKEREL", grossWeightKg: 21000,
                          hsCode: "030354", containers: [ContainerShare(container: "MSCU1234566", packages: 800)])])
    let laptops = Consignment(
        billOfLading: "BLLAPTOP002", loadingPort: "CNSHA", dischargePort: "KEMBA",
        parties: [Party(role: .shipper, name: "CHONGQING LAPTOP EXPORT"), Party(role: .consignee, name: "NAIROBI IT LTD")],
        goods: [GoodsItem(sequence: 1, packages: 300, packageType: "PK", description: "PORTABLE COMPUTERS", grossWeightKg: 4500,
                          hsCode: "847130", containers: [ContainerShare(container: "TGHU7654320", packages: 300)])])
    let paint = Consignment(
        billOfLading: "BLPAINT0003", loadingPort: "CNSHA", dischargePort: "KEMBA",
        parties: [Party(role: .shipper, name: "SHANGHAI COATINGS"), Party(role: .consignee, name: "KENYA BUILD SUPPLIES")],
        goods: [GoodsItem(sequence: 1, packages: 40, packageType: "DR", description: "PAINT, FLAMMABLE", grossWeightKg: 8000,
                          hsCode: "320890", dangerousGoods: [DangerousGoods(unNumber: "1263", hazardClass: "3")],
                          containers: [ContainerShare(container: "TGHU7654320", packages: 40)])])
    return Manifest(
        documentNumber: number, function: function, sender: "CARRIERX",
        transport: TransportMeans(mode: .sea, voyage: "FA503R", meansId: "3FZO7", meansName: "MSC GULSUN", carrier: "MSC",
                                  departurePort: "CNSHA", arrivalPort: "KEMBA"),
        containers: [Container(number: "MSCU1234566", sizeType: "45R1", isFull: true, grossWeightKg: 21000),
                     Container(number: "TGHU7654320", sizeType: "22G1", isFull: true, grossWeightKg: 12500)],
        consignments: consignments ?? [fish, laptops, paint])
}

/// The carrier's CUSCAR D96A interchange for `manifest`.
private func carrierFile(_ manifest: Manifest, reference: String) throws -> [UInt8] {
    try CUSCARWriter(directory: .d96A, sender: ["CARRIERX", "ZZZ"], recipient: ["SWGATEWAY", "ZZZ"], segmentSuffix: "\n")
        .interchange([manifest], reference: reference, at: EDIFACTDateTime(year: 2026, month: 3, day: 1, hour: 8, minute: 0))
}

private func files(_ scratch: Scratch, _ partner: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: scratch.url.appendingPathComponent("partners/\(partner)/pickup").path)) ?? [])
        .filter { !$0.hasPrefix(".") }.sorted()
}

private func read(_ scratch: Scratch, _ partner: String, _ name: String) throws -> [UInt8] {
    try [UInt8](Data(contentsOf: scratch.url.appendingPathComponent("partners/\(partner)/pickup/\(name)")))
}

/// Runs a tool; (status, stdout + stderr).
private func tool(_ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// An EDIFACT copy as the agency reads it: our validator accepts it, pydifact reads it; returns pydifact's tags
/// with the BGM and the bills of lading (RFF+BM) it read.
private func checkEDIFACT(_ scratch: Scratch, _ partner: String, _ name: String) throws -> (bgm: [String], bills: [String]) {
    let path = scratch.url.appendingPathComponent("partners/\(partner)/pickup/\(name)").path
    let ours = try scratch.gateway("edifact", "validate", path)
    #expect(ours.status == 0, "our validator refuses the copy \(name): \(ours)")
    let (status, output) = try tool(["python3", repository.appendingPathComponent("scripts/pydifact-dump.py").path, path])
    try #require(status == 0, "pydifact cannot read \(name) (scripts/setup-test-deps.sh installs it): \(output)")
    struct Segment: Decodable { var tag: String; var elements: [[String]] }
    let segments = try JSONDecoder().decode([Segment].self, from: Data(output.utf8))
    let bgm = try #require(segments.first { $0.tag == "BGM" }).elements.map { $0.first ?? "" }
    let bills = segments.filter { $0.tag == "RFF" && $0.elements.first?.first == "BM" }.compactMap { $0.elements.first?.dropFirst().first }
    return (bgm, bills)
}

/// An XML copy against its shipped schema, by xmllint (no network).
private func checkXML(_ scratch: Scratch, _ partner: String, _ name: String, schema: String) throws -> String {
    let path = scratch.url.appendingPathComponent("partners/\(partner)/pickup/\(name)").path
    let (status, output) = try tool(["xmllint", "--noout", "--nonet", "--schema", repository.appendingPathComponent("schemas/\(schema)").path, path])
    #expect(status == 0, "\(name) is not valid against \(schema): \(output)")
    return String(decoding: try read(scratch, partner, name), as: UTF8.self)
}

private func ledger(_ scratch: Scratch, _ sql: String) throws -> [Row] {
    let db = try scratch.openStore()
    return try db.read { try Row.fetchAll($0, sql: sql) }
}

/// `count` manifests and what each agency must end up with: each has the laptops, every other one the fish
/// (inspection), every third the paint (the dangerous-goods desk).
private func routingLoad(count: Int, prefix: String) throws -> (files: [(String, [UInt8])], expected: [String: Set<String>]) {
    let base = mixedManifest()
    var expected: [String: Set<String>] = ["CUSTOMS": [], "CIQ": [], "BORDER": [], "DGDESK": []]
    var files: [(String, [UInt8])] = []
    for i in 0..<count {
        var m = base
        m.documentNumber = "MAN-\(prefix)-\(i)"
        m.consignments = [base.consignments[1]] + (i % 2 == 0 ? [base.consignments[0]] : []) + (i % 3 == 0 ? [base.consignments[2]] : [])
        files.append(("m\(i).edi", try carrierFile(m, reference: "\(prefix)\(i)")))
        expected["CUSTOMS"]!.insert("CUSCAR-CARRIERX-MAN-\(prefix)-\(i)-v1.edi")
        expected["BORDER"]!.insert("BORDER-CARRIERX-MAN-\(prefix)-\(i)-v1.xml")
        if i % 2 == 0 { expected["CIQ"]!.insert("CIQ-CARRIERX-MAN-\(prefix)-\(i)-v1.xml") }
        if i % 3 == 0 { expected["DGDESK"]!.insert("MANIFEST-CARRIERX-MAN-\(prefix)-\(i)-v1.xml") }
    }
    return (files, expected)
}

/// Every agency's pickup holds exactly its expected copies (no temporary), each manifest was filed once,
/// each copy routed and delivered once, and no job is left unfinished or failed.
private func expectRoutedOnce(_ scratch: Scratch, _ expected: [String: Set<String>], manifests: Int, _ story: String) throws {
    for (agency, names) in expected {
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: scratch.url.appendingPathComponent("partners/\(agency)/pickup").path)) ?? [])
        #expect(Set(all) == names, "\(agency): \(Set(all).symmetricDifference(names).sorted().prefix(5)) differ\n\(story)")
    }
    let copies = expected.values.reduce(0) { $0 + $1.count }
    #expect(try ledger(scratch, "SELECT count(*) AS n FROM manifest_version")[0]["n"] == manifests, "\(story)")
    #expect(try ledger(scratch, "SELECT count(*) AS n FROM routed_copy")[0]["n"] == copies, "\(story)")
    #expect(try ledger(scratch, "SELECT count(*) AS n FROM job WHERE kind = 'deliver' AND partner <> 'CARRIERX'")[0]["n"] == copies, "\(story)")
    #expect(try ledger(scratch, "SELECT count(*) AS n FROM job WHERE state <> 'succeeded'")[0]["n"] == 0, "\(story)")
}

@Suite("Routing manifests to agencies through gateway run --once", .serialized)
struct RoutingPipelineTests {
    func spool() throws -> Scratch {
        let scratch = try Scratch()
        _ = try scratch.write("gateway.toml", routingConfig)
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                withIntermediateDirectories: true)
        return scratch
    }

    @Test("mixed goods reach exactly the agencies their rules select, each copy once, even after a rerun and a replay")
    func mixedGoods() throws {
        let scratch = try spool()
        let original = try carrierFile(mixedManifest(), reference: "ROUTE0001")
        _ = try scratch.write("partners/CARRIERX/drop/manifest.edi", original)
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CARRIERX manifest.edi: accepted"), "\(run)")
        #expect(run.stdout.contains("routed partners/CUSTOMS/pickup/CUSCAR-CARRIERX-MAN-ROUTE-01-v1.edi"), "\(run)")
        #expect(run.stdout.contains("filed as version 1; routed to CUSTOMS, CIQ, BORDER, DGDESK"), "\(run)")

        // Customs: every consignment, CUSCAR D95B (its override), from the gateway to customs.
        #expect(files(scratch, "CUSTOMS") == ["CUSCAR-CARRIERX-MAN-ROUTE-01-v1.edi"])
        let customs = try checkEDIFACT(scratch, "CUSTOMS", "CUSCAR-CARRIERX-MAN-ROUTE-01-v1.edi")
        #expect(customs.bgm == ["85", "MAN-ROUTE-01", "9"], "\(customs)")
        #expect(Set(customs.bills) == ["BLFISH0001", "BLLAPTOP002", "BLPAINT0003"], "\(customs)")
        let customsText = String(decoding: try read(scratch, "CUSTOMS", "CUSCAR-CARRIERX-MAN-ROUTE-01-v1.edi"), as: UTF8.self)
        #expect(customsText.contains("UNB+UNOC:3+SWGATEWAY:ZZZ+CNCUSTOMS:ZZZ+") && customsText.contains("CUSCAR:D:95B:UN"), "\(customsText)")

        // Inspection and quarantine: only the fish, as CIQ XML; the laptops' box is not its business.
        #expect(files(scratch, "CIQ") == ["CIQ-CARRIERX-MAN-ROUTE-01-v1.xml"])
        let ciq = try checkXML(scratch, "CIQ", "CIQ-CARRIERX-MAN-ROUTE-01-v1.xml", schema: "ciq-manifest-1.xsd")
        #expect(ciq.contains("BLFISH0001") && !ciq.contains("BLLAPTOP002") && !ciq.contains("BLPAINT0003"), "\(ciq)")
        #expect(ciq.contains("MSCU1234566") && !ciq.contains("TGHU7654320"), "\(ciq)")

        // Border control: the transport means and counts only.
        #expect(files(scratch, "BORDER") == ["BORDER-CARRIERX-MAN-ROUTE-01-v1.xml"])
        let border = try checkXML(scratch, "BORDER", "BORDER-CARRIERX-MAN-ROUTE-01-v1.xml", schema: "border-1.xsd")
        #expect(border.contains("<ConsignmentCount>3</ConsignmentCount>") && !border.contains("BLFISH0001"), "\(border)")

        // The dangerous-goods desk: only the paint, as manifest XML, which maps back to that consignment.
        #expect(files(scratch, "DGDESK") == ["MANIFEST-CARRIERX-MAN-ROUTE-01-v1.xml"])
        _ = try checkXML(scratch, "DGDESK", "MANIFEST-CARRIERX-MAN-ROUTE-01-v1.xml", schema: "manifest-1.xsd")
        let dg = try XMLManifestMapping.manifest(from: read(scratch, "DGDESK", "MANIFEST-CARRIERX-MAN-ROUTE-01-v1.xml")).get()
        #expect(dg.consignments.map(\.billOfLading) == ["BLPAINT0003"])

        // Maritime: its port is not touched: nothing at all.
        #expect(files(scratch, "MSA").isEmpty)
        // The carrier: CONTRL and APERAK, nothing else.
        #expect(files(scratch, "CARRIERX").count == 2 && files(scratch, "CARRIERX").allSatisfy { $0.hasPrefix("CONTRL-") || $0.hasPrefix("APERAK-") })

        let copies = try ledger(scratch, "SELECT agency, rule, function FROM routed_copy ORDER BY id")
        #expect(copies.map { $0["agency"] as String } == ["CUSTOMS", "CIQ", "BORDER", "DGDESK"])
        #expect(copies[1]["rule"] == "inspection: 1 of 3 consignment(s) (any transport mode); BLFISH0001: HS 030354 on the list", "\(copies)")

        // A rerun of the process job, and an identical replay of the file: nothing routed again.
        let process = try #require(ledger(scratch, "SELECT id FROM job WHERE kind = 'process'").first?["id"] as Int64?)
        let show = try scratch.gateway("jobs", "show", String(process), "--config", "gateway.toml")
        #expect(show.stdout.contains("routed (4; gateway trace B1 tells the whole story)")
                && show.stdout.contains("BLFISH0001: HS 030354 on the list"), "\(show)")
        let rerun = try scratch.gateway("jobs", "rerun", String(process), "--config", "gateway.toml")
        #expect(rerun.status == 0, "\(rerun)")
        _ = try scratch.write("partners/CARRIERX/drop/again.edi", original)
        _ = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        for agency in ["CUSTOMS", "CIQ", "BORDER", "DGDESK"] { #expect(files(scratch, agency).count == 1, "\(agency): \(files(scratch, agency))") }
        #expect(try ledger(scratch, "SELECT count(*) AS n FROM routed_copy")[0]["n"] == 4)
        #expect(try ledger(scratch, "SELECT count(*) AS n FROM job WHERE kind = 'deliver' AND partner <> 'CARRIERX'")[0]["n"] == 4)
    }

    @Test("a change routes the change, a replace withdraws what an agency no longer gets, a cancel reaches whoever holds a copy; trace tells it")
    func amendments() throws {
        let scratch = try spool()
        func drop(_ manifest: Manifest, _ reference: String) throws -> CLIRun {
            _ = try scratch.write("partners/CARRIERX/drop/\(reference).edi", try carrierFile(manifest, reference: reference))
            let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
            #expect(run.status == 0, "\(run)")
            return run
        }
        let v1 = mixedManifest()
        _ = try drop(v1, "AMEND0001")
        // v2, a change: the laptops turn out to be beef (HS 020130): inspection now wants them.
        var beef = v1.consignments[1]
        beef.goods[0].hsCode = "020130"
        beef.goods[0].description = "FROZEN BEEF"
        let change = try drop(mixedManifest(.change, consignments: [beef]), "AMEND0002")
        #expect(change.stdout.contains("(change, 1 consignment(s)) filed as version 2; routed to CUSTOMS, CIQ, BORDER"), "\(change)")
        let customsChange = try checkEDIFACT(scratch, "CUSTOMS", "CUSCAR-CARRIERX-MAN-ROUTE-01-v2.edi")
        #expect(customsChange.bgm == ["85", "MAN-ROUTE-01", "4"] && customsChange.bills == ["BLLAPTOP002"], "\(customsChange)")
        let ciqChange = try checkXML(scratch, "CIQ", "CIQ-CARRIERX-MAN-ROUTE-01-v2.xml", schema: "ciq-manifest-1.xsd")
        #expect(ciqChange.contains("<Function>change</Function>") && ciqChange.contains("BLLAPTOP002") && !ciqChange.contains("BLFISH0001"), "\(ciqChange)")
        #expect(!files(scratch, "DGDESK").contains("MANIFEST-CARRIERX-MAN-ROUTE-01-v2.xml"), "the change has no dangerous goods")

        // v3, a replace: laptops (8471 again) and paint only: inspection has nothing left, so its copy is withdrawn.
        let replace = try drop(mixedManifest(.replace, consignments: [v1.consignments[1], v1.consignments[2]]), "AMEND0003")
        #expect(replace.stdout.contains("routed to CUSTOMS, CIQ, BORDER, DGDESK"), "\(replace)")
        let ciqWithdrawn = try checkXML(scratch, "CIQ", "CIQ-CARRIERX-MAN-ROUTE-01-v3.xml", schema: "ciq-manifest-1.xsd")
        #expect(ciqWithdrawn.contains("<Function>cancel</Function>") && !ciqWithdrawn.contains("<Consignment>"), "\(ciqWithdrawn)")
        let customsReplace = try checkEDIFACT(scratch, "CUSTOMS", "CUSCAR-CARRIERX-MAN-ROUTE-01-v3.edi")
        #expect(customsReplace.bgm.last == "5" && Set(customsReplace.bills) == ["BLLAPTOP002", "BLPAINT0003"], "\(customsReplace)")

        // v4, a cancel: every agency still holding a copy hears of it, once; inspection already had its withdrawal.
        let cancel = try drop(mixedManifest(.cancel, consignments: []), "AMEND0004")
        #expect(cancel.stdout.contains("routed to CUSTOMS, BORDER, DGDESK"), "\(cancel)")
        #expect(try checkEDIFACT(scratch, "CUSTOMS", "CUSCAR-CARRIERX-MAN-ROUTE-01-v4.edi").bgm.last == "1")
        #expect(!files(scratch, "CIQ").contains("CIQ-CARRIERX-MAN-ROUTE-01-v4.xml"))
        let border = try checkXML(scratch, "BORDER", "BORDER-CARRIERX-MAN-ROUTE-01-v4.xml", schema: "border-1.xsd")
        #expect(border.contains("<Function>cancel</Function>"), "\(border)")
        #expect(files(scratch, "MSA").isEmpty)
        #expect(try ledger(scratch, "SELECT state FROM manifest")[0]["state"] == "cancelled")

        // The laptops' story: filed four times, inspection said no then yes then withdrew, every copy delivered.
        let trace = try scratch.gateway("trace", "BLLAPTOP002", "--config", "gateway.toml")
        #expect(trace.status == 0, "\(trace)")
        #expect(trace.stdout.contains("BLLAPTOP002: found as bill-of-lading; manifest CARRIERX/MAN-ROUTE-01; batch 1, 2, 3, 4"), "\(trace)")
        #expect(trace.stdout.contains("CIQ: BLLAPTOP002 not selected — no goods with an HS code on the list"), "\(trace)")
        #expect(trace.stdout.contains("CIQ: BLLAPTOP002 selected — HS 020130 on the list"), "\(trace)")
        #expect(trace.stdout.contains("delivered CIQ CIQ-CARRIERX-MAN-ROUTE-01-v2.xml to CIQ"), "\(trace)")
        #expect(!trace.stdout.contains("CIQ-CARRIERX-MAN-ROUTE-01-v1.xml"), "the fish's copy is not about the laptops: \(trace)")
        struct Document: Decodable { var found: Bool; var matchedAs: [String]; var events: [Event]
            struct Event: Decodable { var at: String; var kind: String; var summary: String } }
        let json = try JSONDecoder().decode(Document.self, from: Data(try scratch.gateway("trace", "MAN-ROUTE-01", "--json", "--config", "gateway.toml").stdout.utf8))
        #expect(json.found && json.matchedAs == ["manifest"])
        #expect(json.events.filter { $0.kind == "filed" }.count == 4)
        #expect(json.events.filter { $0.kind == "routed" }.count == 4 + 3 + 4 + 3, "\(json.events.filter { $0.kind == "routed" }.map(\.summary))")
        #expect(json.events.map(\.at) == json.events.map(\.at).sorted(), "in time order")
        // A container, a batch and a dropped file's name find the same story.
        let box = try scratch.gateway("trace", "MSCU1234566", "--config", "gateway.toml")
        #expect(box.status == 0 && box.stdout.contains("MSCU1234566: found as container; manifest CARRIERX/MAN-ROUTE-01"), "\(box)")
        #expect(box.stdout.contains("routed CIQ-CARRIERX-MAN-ROUTE-01-v1.xml") && !box.stdout.contains("routed CIQ-CARRIERX-MAN-ROUTE-01-v2.xml"),
                "the fish's box went to inspection in v1 only: \(box)")
        let batch = try scratch.gateway("trace", "B2", "--config", "gateway.toml")
        #expect(batch.stdout.contains("B2: found as batch") && batch.stdout.contains("received AMEND0002.edi"), "\(batch)")
        let file = try scratch.gateway("trace", "AMEND0004.edi", "--config", "gateway.toml")
        #expect(file.stdout.contains("found as file") && file.stdout.contains("(cancel, 0 consignment(s))"), "\(file)")
        let unknown = try scratch.gateway("trace", "NOSUCHREF", "--config", "gateway.toml")
        #expect(unknown.status == 1 && unknown.stderr.contains("NOSUCHREF: not found"), "\(unknown)")
    }

    @Test("mapping and filing errors: an APERAK naming the consignment, segment and byte offset; nothing routed")
    func refusals() throws {
        let scratch = try spool()
        // A goods item in a container the manifest never declared (MSCU1234566 -> ...7): same length, so the syntax holds.
        let good = try carrierFile(mixedManifest(), reference: "BAD0001")
        var text = String(decoding: good, as: UTF8.self)
        // Declared right in the header's EQD, wrong in the fish consignment's SGP.
        let last = try #require(text.range(of: "MSCU1234566", options: .backwards))
        text.replaceSubrange(last, with: "MSCU1234567")
        let bad = Array(text.utf8)
        _ = try scratch.write("partners/CARRIERX/drop/bad.edi", bad)
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.stdout.contains("CARRIERX bad.edi: rejected"), "\(run)")
        #expect(run.stdout.contains("[manifest.unknown-container] consignment BLFISH0001: SGP segment"), "\(run)")
        for agency in ["CUSTOMS", "CIQ", "BORDER", "MSA", "DGDESK"] { #expect(files(scratch, agency).isEmpty, "\(agency)") }
        let aperakName = try #require(files(scratch, "CARRIERX").first { $0.hasPrefix("APERAK-") })
        let aperak = String(decoding: try read(scratch, "CARRIERX", aperakName), as: UTF8.self)
        #expect(aperak.contains("ERC+SWG-MAN'") && aperak.contains("MSCU1234567") && aperak.contains("SGP segment"), "\(aperak)")
        #expect(aperak.contains("byte ") && aperak.contains("RFF+BM:BLFISH0001'"), "names the consignment and the offset: \(aperak)")
        #expect(try ledger(scratch, "SELECT state, reason FROM batch")[0]["state"] == "rejected")
        #expect(try ledger(scratch, "SELECT count(*) AS n FROM manifest")[0]["n"] == 0)

        // The same manifest number filed twice as an original: the second is refused by the library.
        _ = try scratch.write("partners/CARRIERX/drop/first.edi", try carrierFile(mixedManifest(), reference: "BAD0003"))
        _ = try scratch.write("partners/CARRIERX/drop/second.edi", try carrierFile(mixedManifest(), reference: "BAD0002"))
        let twice = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(twice.stdout.contains("manifest.already-filed"), "\(twice)")
        #expect(files(scratch, "CUSTOMS").count == 1, "\(files(scratch, "CUSTOMS"))")
    }

    @Test("a value no agency copy can carry is refused by APERAK at its segment; the files beside it are routed")
    func valuesNoCopyCarries() throws {
        let scratch = try spool()
        func numbered(_ n: Int) -> Manifest { mixedManifest(number: "MAN-VAL-\(n)") }
        // Found by mutating CUSCARs: these passed the mapping, were filed, then failed the copies' own formats
        // (discharge port "TNE" against UN/LOCODE, a goods item without FTX against the required description), so
        // the file was left failed without a receipt; two goods items numbered alike failed every file filed in
        // the same transaction.
        var port = String(decoding: try carrierFile(numbered(2), reference: "VAL0002"), as: UTF8.self)
        port = port.replacingOccurrences(of: "LOC+11+KEMBA", with: "LOC+11+TNE")
        var item = String(decoding: try carrierFile(numbered(3), reference: "VAL0003"), as: UTF8.self)
        let gid = try #require(item.range(of: "GID+1+300:PK"))
        item.replaceSubrange(gid, with: "GID+1+300:PKG")
        var twice = String(decoding: try carrierFile(numbered(4), reference: "VAL0004"), as: UTF8.self)
        let second = try #require(twice.range(of: "GID+1+40:DR"))
        twice.replaceSubrange(second, with: "GID+1+40:DR'FTX+AAA+++MORE PAINT'GID+1+1:DR")
        let unt = try #require(twice.range(of: #"UNT\+\d+"#, options: .regularExpression))
        twice.replaceSubrange(unt, with: "UNT+\(Int(twice[unt].dropFirst(4))! + 2)")
        _ = try scratch.write("partners/CARRIERX/drop/a-good.edi", try carrierFile(numbered(1), reference: "VAL0001"))
        _ = try scratch.write("partners/CARRIERX/drop/b-port.edi", Array(port.utf8))
        _ = try scratch.write("partners/CARRIERX/drop/c-item.edi", Array(item.utf8))
        _ = try scratch.write("partners/CARRIERX/drop/d-twice.edi", Array(twice.utf8))
        _ = try scratch.write("partners/CARRIERX/drop/e-good.edi", try carrierFile(numbered(5), reference: "VAL0005"))
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("5 files: 2 accepted, 3 rejected"), "\(run)")
        #expect(run.stdout.contains("[manifest.bad-location] consignment BLFISH0001: LOC segment"), "\(run)")
        #expect(run.stdout.contains("[manifest.bad-code] consignment BLLAPTOP002: GID segment"), "\(run)")
        #expect(run.stdout.contains("[manifest.duplicate-goods-item] consignment BLPAINT0003: GID segment"), "\(run)")
        #expect(files(scratch, "CARRIERX").filter { $0.hasPrefix("APERAK-") }.count == 5, "every file answered: \(files(scratch, "CARRIERX"))")
        #expect(Set(files(scratch, "CUSTOMS")) == ["CUSCAR-CARRIERX-MAN-VAL-1-v1.edi", "CUSCAR-CARRIERX-MAN-VAL-5-v1.edi"])
        #expect(try ledger(scratch, "SELECT count(*) AS n FROM manifest")[0]["n"] == 2)
        #expect(try ledger(scratch, "SELECT count(*) AS n FROM job WHERE state <> 'succeeded'")[0]["n"] == 0)
    }

    @Test("nothing unsigned reaches an agency: only the signed manifest is routed, and the copy is signed by the gateway")
    func unsignedNeverRouted() throws {
        let pki = try TestPKI.get()
        let scratch = try Scratch()
        // The gateway signs what it sends customs (customs asks for it); customs' CA issued the gateway's certificate.
        _ = try installGatewaySigning(scratch, pki)
        let config = withGatewaySigning(signedConfig(pki))
            .replacingOccurrences(of: "[[partner]]\nid = \"CIQ\"",
                                  with: "[partner.routing]\npreset = \"customs\"\n[partner.signature]\nsign_outbound = true\n\n[[partner]]\nid = \"CIQ\"")
        #expect(config.contains("[partner.routing]") && config.contains("signing_key"))
        _ = try scratch.write("gateway.toml", config)
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop"), withIntermediateDirectories: true)
        let signed = try carrierFile(mixedManifest(), reference: "SIGNED001")
        _ = try scratch.write("partners/CARRIERX/drop/signed.edi.p7s", try pki.signDetached(payload: signed, with: pki.carrierXRSA))
        _ = try scratch.write("partners/CARRIERX/drop/signed.edi", signed)
        var other = mixedManifest()
        other.documentNumber = "MAN-UNSIGNED"
        _ = try scratch.write("partners/CARRIERX/drop/unsigned.edi", try carrierFile(other, reference: "UNSIGNED1"))
        var tamperedManifest = mixedManifest()
        tamperedManifest.documentNumber = "MAN-TAMPERED"
        let tamperedBytes = try carrierFile(tamperedManifest, reference: "TAMPER001")
        _ = try scratch.write("partners/CARRIERX/drop/tampered.edi.p7s", try pki.signDetached(payload: signed, with: pki.carrierXRSA))
        _ = try scratch.write("partners/CARRIERX/drop/tampered.edi", tamperedBytes)
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.stdout.contains("CARRIERX signed.edi: accepted"), "\(run)")
        #expect(run.stdout.contains("CARRIERX unsigned.edi: waiting (its signature unsigned.edi.p7s has not arrived yet)"), "\(run)")
        #expect(run.stdout.contains("CARRIERX tampered.edi: quarantined"), "\(run)")
        #expect(files(scratch, "CUSTOMS") == ["CUSCAR-CARRIERX-MAN-ROUTE-01-v1.edi", "CUSCAR-CARRIERX-MAN-ROUTE-01-v1.edi.p7s"],
                "\(files(scratch, "CUSTOMS"))")
        let pickup = scratch.url.appendingPathComponent("partners/CUSTOMS/pickup")
        try pki.runOpenSSL(["cms", "-verify", "-binary", "-inform", "DER",
                            "-in", pickup.appendingPathComponent("CUSCAR-CARRIERX-MAN-ROUTE-01-v1.edi.p7s").path,
                            "-content", pickup.appendingPathComponent("CUSCAR-CARRIERX-MAN-ROUTE-01-v1.edi").path,
                            "-CAfile", pki.customs.rootCertificate, "-purpose", "any", "-out", "/dev/null"])
        #expect(try ledger(scratch, "SELECT signed FROM routed_copy")[0]["signed"] == 1)
        #expect(try ledger(scratch, "SELECT document_number FROM manifest").map { $0["document_number"] as String } == ["MAN-ROUTE-01"])
    }

    @Test("a manifest dropped as XML is validated, filed and routed like a CUSCAR; one that breaks the XSD is answered with its element")
    func xmlManifest() throws {
        let scratch = try spool()
        var manifest = mixedManifest()
        manifest.documentNumber = "MAN-XML-01"
        // A consignee named in Chinese: customs takes UNOC, so its CUSCAR goes in UNOY, syntax version 4.
        manifest.consignments[0].parties[1].name = "重庆进出口有限公司"
        _ = try scratch.write("partners/CARRIERX/drop/manifest.xml", try XMLManifestWriter.manifest(manifest))
        var broken = String(decoding: try XMLManifestWriter.manifest(manifest), as: UTF8.self)
        broken = broken.replacingOccurrences(of: "<BillOfLading>BLLAPTOP002</BillOfLading>", with: "<BillOfLading></BillOfLading>")
            .replacingOccurrences(of: "MAN-XML-01", with: "MAN-XML-02")
        _ = try scratch.write("partners/CARRIERX/drop/broken.xml", broken)
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.stdout.contains("CARRIERX manifest.xml: accepted") && run.stdout.contains("routed to CUSTOMS, CIQ, BORDER, DGDESK"), "\(run)")
        #expect(run.stdout.contains("CARRIERX broken.xml: rejected") && run.stdout.contains("manifest.xml-schema"), "\(run)")
        let customs = try checkEDIFACT(scratch, "CUSTOMS", "CUSCAR-CARRIERX-MAN-XML-01-v1.edi")
        #expect(customs.bgm == ["85", "MAN-XML-01", "9"] && customs.bills.count == 3, "\(customs)")
        #expect(files(scratch, "CUSTOMS") == ["CUSCAR-CARRIERX-MAN-XML-01-v1.edi"])
        let customsText = String(decoding: try read(scratch, "CUSTOMS", "CUSCAR-CARRIERX-MAN-XML-01-v1.edi"), as: UTF8.self)
        #expect(customsText.contains("UNB+UNOY:4+SWGATEWAY:ZZZ+CNCUSTOMS:ZZZ+") && customsText.contains("重庆进出口有限公司"), "\(customsText)")
        let aperaks = try files(scratch, "CARRIERX").filter { $0.hasPrefix("APERAK-") }.map { String(decoding: try read(scratch, "CARRIERX", $0), as: UTF8.self) }
        let refusal = try #require(aperaks.first { $0.contains("RFF+ACE:broken.xml'") })
        #expect(refusal.contains("ERC+SWG-MAN'") && refusal.contains("BillOfLading"), "\(refusal)")
    }

    @Test("an XML manifest valid against its XSD but holding more than the customs CUSCAR can carry is refused before filing")
    func xmlBeyondCUSCAR() throws {
        let scratch = try spool()
        func numbered(_ n: Int) -> Manifest { mixedManifest(number: "MAN-XC-\(n)") }
        // Found by mutating XML manifests: each was filed, then its CUSCAR for customs failed our validator, and
        // the file was left failed without a receipt.
        var seal = numbered(2)
        seal.containers[0].seals = ["SEAL-2026-000000001"]  // Code35 in the XSD; SEL 9308 is an..10
        var voyage = numbered(3)
        voyage.transport.voyage = "VOYAGE-2026-EASTBOUND-01"  // TDT 8028 is an..17
        var lateModel = numbered(4)
        lateModel.transport.arrival = Date(timeIntervalSince1970: 1_780_000_000)
        var late = String(decoding: try XMLManifestWriter.manifest(lateModel), as: UTF8.self)
        let arrival = try #require(late.range(of: #"<ArrivalTime>[^<]*</ArrivalTime>"#, options: .regularExpression))
        late.replaceSubrange(arrival, with: "<ArrivalTime>9999-12-31T23:00:00-14:00</ArrivalTime>")  // year 10000 in UTC
        _ = try scratch.write("partners/CARRIERX/drop/a-good.xml", try XMLManifestWriter.manifest(numbered(1)))
        _ = try scratch.write("partners/CARRIERX/drop/b-seal.xml", try XMLManifestWriter.manifest(seal))
        _ = try scratch.write("partners/CARRIERX/drop/c-voyage.xml", try XMLManifestWriter.manifest(voyage))
        _ = try scratch.write("partners/CARRIERX/drop/d-late.xml", late)
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("4 files: 1 accepted, 3 rejected"), "\(run)")
        #expect(run.stdout.contains("the copy for CUSTOMS (cuscar-d95b) cannot carry it") && run.stdout.contains("SEL 9308 (Container/Seal) is 19 characters long"),
                "\(run)")
        #expect(run.stdout.contains("TDT 8028 (Transport/Voyage) is 24 characters long; at most 17 allowed"), "\(run)")
        #expect(run.stdout.contains("outside the years 0001 to 9999"), "\(run)")
        #expect(files(scratch, "CUSTOMS") == ["CUSCAR-CARRIERX-MAN-XC-1-v1.edi"])
        #expect(try ledger(scratch, "SELECT count(*) AS n FROM manifest")[0]["n"] == 1, "nothing refused is filed")
        #expect(try ledger(scratch, "SELECT count(*) AS n FROM job WHERE state <> 'succeeded'")[0]["n"] == 0)
    }

    @Test("SIGKILL at random points while manifests are filed and routed: each filed once, each copy delivered once")
    func killedWhileRouting() throws {
        // 300 manifests: three chunks of process jobs (128 a chunk).
        let count = 300
        let (files, expected) = try routingLoad(count: count, prefix: "KILL")
        func fill() throws -> Scratch {
            let scratch = try spool()
            for (name, bytes) in files { _ = try scratch.write("partners/CARRIERX/drop/" + name, bytes) }
            return scratch
        }
        // Calibrate on a spool of its own, unkilled.
        let calibration = try fill()
        let t0 = Date()
        let calibrated = try calibration.gateway("run", "--once", "--config", "gateway.toml")
        let runSeconds = Date().timeIntervalSince(t0)
        try #require(calibrated.status == 0 && calibrated.stdout.contains("\(count) files: \(count) accepted"), "\(calibrated)")

        let scratch = try fill()
        var rng = SplitMix64(state: UInt64(Date().timeIntervalSince1970 * 1000))
        var log: [String] = []
        var kills = 0
        for round in 0..<40 where kills < 16 {
            let process = try startRunOnce(in: scratch)
            // Short enough that most runs die somewhere in the middle: pickup, mapping, filing, generating, committing,
            // delivering; each run starts with what the last one left. An eighth of the unkilled run at most, and up to
            // 16 kills: that run also pays for a fresh store and cold caches (on PostgreSQL it took 37 s where the work
            // then took about 25), and with a quarter four kills once finished the work, before the five this test
            // asks for. Four kills of at most an eighth cannot finish work that takes more than half the calibration.
            let delay = Double.random(in: 0.03...max(0.04, runSeconds / 8), using: &rng)
            usleep(useconds_t(delay * 1_000_000))
            let wasRunning = process.isRunning
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if wasRunning && process.terminationReason == .uncaughtSignal { kills += 1 }
            log.append(String(format: "round %d: %.0f ms, %@", round, delay * 1000, wasRunning ? "killed" : "finished"))
        }
        let final = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        let story = "unkilled run \(String(format: "%.2f", runSeconds)) s, \(kills) kills\n" + log.joined(separator: "\n") + "\nfinal: \(final)"
        #expect(final.status == 0, "\(story)")
        #expect(kills >= 5, "too few kills landed mid-run: \(story)")
        try expectRoutedOnce(scratch, expected, manifests: count, story)
    }

    @Test("full disk while routing: the run fails cleanly and loses nothing; once space is freed every copy goes out once",
          .enabled(if: Tmpfs.usable, "needs root with CAP_SYS_ADMIN to `mount -t tmpfs`"))
    func fullDisk() throws {
        let count = 24
        let (files, expected) = try routingLoad(count: count, prefix: "FULL")
        // The whole spool on a 3 MiB tmpfs, filled to several levels, so that storing the bytes, filing,
        // storing the copies, committing or delivering runs out of space first.
        for freeKiB in [0, 250, 600] {
            let scratch = try Scratch()
            try #require(Tmpfs.mount(scratch.url, size: "3m"), "mount failed")
            defer { Tmpfs.unmount(scratch.url) }
            _ = try scratch.write("gateway.toml", routingConfig)
            try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop"), withIntermediateDirectories: true)
            let first = try scratch.gateway("run", "--once", "--config", "gateway.toml")
            try #require(first.status == 0, "\(first)")
            for (name, bytes) in files { _ = try scratch.write("partners/CARRIERX/drop/" + name, bytes) }
            let filler = Tmpfs.fill(scratch.url, leavingKiB: freeKiB)
            let full = try scratch.gateway("run", "--once", "--config", "gateway.toml")
            var story = "[\(freeKiB) KiB left] full run: \(full)"
            #expect(full.status == 0 || full.status == 1, "no crash\n\(story)")
            #expect(!full.stderr.contains("Fatal error"), "\(story)")
            if full.status == 1 {
                #expect(full.stderr.contains("No space left on device") || full.stderr.contains("disk is full"), "says why\n\(story)")
            }
            try FileManager.default.removeItem(at: filler)
            // Space is back: retried jobs run when due (the first backoff is 5 s).
            for attempt in 0..<4 {
                let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
                story += "\n--- after freeing space (\(attempt + 1)): \(run)"
                #expect(run.status == 0, "\(story)")
                let due = try ledger(scratch, "SELECT max(next_run_at) AS due FROM job WHERE state IN ('queued', 'retrying')")[0]["due"] as Date?
                guard let due else { break }
                Thread.sleep(forTimeInterval: min(max(due.timeIntervalSinceNow + 0.3, 0.1), 8))
            }
            try expectRoutedOnce(scratch, expected, manifests: count, story)
        }
    }

    @Test("an agency's instruction leased in the chunk after its manifest's is read once that manifest is filed")
    func instructionWaitsForTheChunkBefore() throws {
        // 260 manifests: the first 256 process jobs are two chunks (128 a chunk), and the customs release of a bill
        // in the first manifest comes in the third. That chunk is decided while the second is filed; the release must
        // still find the bill in the library, as it would have had the chunks before it been filed before it was read.
        let scratch = try spool()
        for (name, bytes) in try routingLoad(count: 260, prefix: "TURN").files {
            _ = try scratch.write("partners/CARRIERX/drop/\(name)", bytes)
        }
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CUSTOMS/drop"), withIntermediateDirectories: true)
        _ = try scratch.write("partners/CUSTOMS/drop/release.edi",
                              cusres(["GIS+4", "RFF+AFB:MAN-TURN-0", "RFF+BM:BLLAPTOP002"], sender: "CNCUSTOMS:ZZZ", reference: "REL-TURN"))
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("CUSTOMS release.edi: accepted") && run.stdout.contains("instruction REL-TURN: release bill BLLAPTOP002"),
                "\(run.stdout.split(separator: "\n").filter { $0.hasPrefix("CUSTOMS ") })")
        #expect(!run.stdout.contains("instruction.unknown-object"), "\(run.stdout.split(separator: "\n").filter { $0.hasPrefix("CUSTOMS ") })")
        // The release really was in a later chunk: 260 process jobs were leased before it.
        let jobs = try ledger(scratch, "SELECT partner FROM job WHERE kind = 'process' ORDER BY id").map { $0["partner"] as String }
        #expect(jobs.firstIndex(of: "CUSTOMS") == 260, "\(jobs.count) process jobs")
        #expect(try ledger(scratch, "SELECT count(*) AS n FROM instruction WHERE object_ref = 'BLLAPTOP002' AND reference = 'REL-TURN'")[0]["n"] == 1)
    }

    @Test("a crash between filing and the job's commit: the job runs again, finds its filing, routes the same copies once")
    func filedBeforeCrash() throws {
        let scratch = try spool()
        let manifest = mixedManifest()
        _ = try scratch.write("partners/CARRIERX/drop/manifest.edi", try carrierFile(manifest, reference: "CRASH0001"))
        let configuration = try ConfigurationLoader.load(path: scratch.url.appendingPathComponent("gateway.toml").path)
        let pipeline = try GatewayPipeline(configuration: configuration)
        _ = pipeline.pickupJob(try #require(configuration.partner(id: "CARRIERX")))
        // What the first attempt's filing transaction left before the process died: the filing, no copy, no commit.
        let batch = try #require(try pipeline.store.read { try Int64.fetchOne($0, sql: "SELECT id FROM batch") })
        let first = try pipeline.store.fileAll([ManifestFilingItem(manifest: manifest, partner: "CARRIERX", batchId: batch)], now: Date())
        #expect(try first[0].get().version == 1)
        let run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("already filed as version 1; routed to CUSTOMS, CIQ, BORDER, DGDESK"), "\(run)")
        #expect(files(scratch, "CUSTOMS") == ["CUSCAR-CARRIERX-MAN-ROUTE-01-v1.edi"])
        #expect(try ledger(scratch, "SELECT count(*) AS n FROM manifest_version")[0]["n"] == 1)
        // The same manifest from another batch is a second filing, refused as an original filed twice.
        let other = try pipeline.store.fileAll([ManifestFilingItem(manifest: manifest, partner: "CARRIERX", batchId: nil)], now: Date())
        #expect(throws: ManifestFilingError.self) { try other[0].get() }
    }
}

@Suite("Pipeline: process chunks")
struct ProcessChunkTests {
    @Test("a full lease goes down whole; a short one (the last jobs due) in pieces of 32 or more, in order, none lost")
    func leasePieces() {
        func sizes(_ count: Int) -> [Int] { GatewayPipeline.pieces(Array(0..<count), leased: 128).map(\.count) }
        #expect(sizes(128) == [128])
        #expect(sizes(104) == [35, 35, 34])
        #expect(sizes(64) == [32, 32])
        #expect(sizes(63) == [63])
        #expect(sizes(1) == [1])
        #expect(sizes(0) == [])
        #expect(GatewayPipeline.pieces(Array(0..<127), leased: 128).flatMap { $0 } == Array(0..<127))
    }

    @Test("a drop is claimed 32 files first, then 256 at a time, every file once")
    func pickupChunks() {
        #expect(GatewayPipeline.pickupChunks(1000) == [0..<32, 32..<288, 288..<544, 544..<800, 800..<1000])
        #expect(GatewayPipeline.pickupChunks(20) == [0..<20])
        #expect(GatewayPipeline.pickupChunks(0) == [])
    }
}
