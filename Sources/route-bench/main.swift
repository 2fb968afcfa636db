// route-bench: realistic carrier manifests for the routing benchmark (issue 6), `scripts/bench-routing.sh`.
//
//   route-bench generate --manifests N --consignments K --out DIR [--seed S] [--config PATH] [--d96a-percent P]
//
// Writes N CUSCAR interchanges `M000001.edi` ... into DIR, from the carrier CARRIERX:ZZZ to the gateway (the
// [gateway] identity of --config, else SWGATEWAY:ZZZ), each holding one original manifest (BGM function 9, a
// unique document number and interchange reference) of K consignments, written from canonical `Manifest`
// models by the gateway's own CUSCARWriter (which runs our validator over what it wrote). A mix of D95B and
// D96A (P% D96A, default 30). The mix is a container line's: sea transport mostly (some inland waterway, rail
// and road), a quarter of the voyages calling at KEMBA, 1-3 goods items per consignment with HS codes (about
// 30% of consignments carrying goods of the inspection chapters 01-24 and 44), about 3% of goods items
// dangerous, 10% house bills under a master, containers with valid ISO 6346 check digits, shipper, consignee
// and notify parties (Latin-1 names, some needing the release character). Deterministic for a seed.
//
// Every file is read back through the gateway's CUSCAR mapping (it must map without an error) and routed
// with the rules of --config (default: the sample configuration's presets), so the counts printed are what
// the pipeline should produce. Output on stdout, one `key=value` a line: files, manifests, consignments,
// goods, containers, bytes, d95b, d96a, then for each agency `copies.AGENCY=...` (manifests it gets a copy
// of), `consignments.AGENCY=...` (consignments in its copies) and `format.AGENCY=...`.
//
//   route-bench components --dir DIR [--config PATH] [--repeat R] [--store DIR] [--only TEXT]
//
// Times, in this one process and thread, each in-memory step the pipeline takes for the files in DIR (best of
// R passes, default 3), and prints microseconds per manifest and the share of their sum: the syntax check,
// the CUSCAR mapping, the router, the ledger's model JSON, the decisions JSON, each agency's copy (the CUSCAR
// writer with its own validation; the XML writers with their XSD validation) and, apart, the validations alone,
// SHA-256 of the copies, and filing in a fresh SQLite library (GatewayStore.fileAll, 256 a transaction, as a
// chunk does, without batch ids, so the "filed by this batch before?" lookup is skipped; in --store DIR, default
// a temporary directory beside DIR). It explains where a routed run's time goes without a profiler's
// distortion. --only TEXT runs only the steps whose name contains TEXT (to profile one).

import EDIFACT
import Foundation
import Gateway
import SplitMix

#if canImport(Glibc)
import Glibc
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("route-bench: \(message)\n".utf8))
    exit(2)
}

func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

// MARK: - Reference data

enum Samples {
    static let vessels: [(callSign: String, name: String, flag: String)] = [
        ("VRPE9", "CARRIERX UNIVERSE", "HK"), ("3FZO7", "CARRIERX PIONEER", "PA"), ("9V3311", "CARRIERX ORIENT", "SG"),
        ("BTCQ88", "CHANGJIANG STAR 88", "CN"), ("D5BL4", "CARRIERX HARMONY", "LR"), ("5BQM3", "CARRIERX ATLANTIC", "CY"),
    ]
    static let ports = ["CNSHA", "CNNGB", "CNCKG", "SGSIN", "NLRTM", "DEHAM", "BEANR", "ESVLC", "FRLEH", "GBFXT", "TZDAR",
                        "ZADUR", "AEJEA", "USLAX", "KRPUS", "JPTYO", "INNSA", "EGPSD"]
    static let owners = ["CRXU", "CBHU", "OOLU", "FCIU", "TGHU", "MSKU", "TCNU", "GESU"]
    static let sizeTypes = ["22G1", "22G1", "42G1", "45G1", "45G1", "45G1", "22R1", "45R1", "22U1", "42P1"]
    static let packageTypes = ["CT", "CT", "CT", "PK", "PL", "BG", "BX", "CS", "DR", "RO"]
    /// (HS code, description): chapters the inspection preset takes (01-24, 44).
    static let inspectionGoods: [(String, String)] = [
        ("020230", "FROZEN BONELESS BEEF"), ("030617", "FROZEN SHRIMPS AND PRAWNS"), ("040221", "MILK POWDER IN BAGS"),
        ("080810", "FRESH APPLES"), ("090111", "GREEN COFFEE BEANS NOT ROASTED"), ("100630", "MILLED RICE"),
        ("120190", "SOYA BEANS FOR CRUSHING"), ("150710", "CRUDE SOYA BEAN OIL"), ("170114", "RAW CANE SUGAR"),
        ("190230", "INSTANT NOODLES"), ("200911", "FROZEN ORANGE JUICE CONCENTRATE"), ("220421", "RED WINE IN BOTTLES"),
        ("230400", "SOYA BEAN MEAL ANIMAL FEED"), ("24012000", "TOBACCO PARTLY STRIPPED"), ("440710", "SAWN PINE TIMBER"),
        ("441231", "PLYWOOD TROPICAL WOOD FACE PLY"), ("44219190", "BAMBOO KITCHEN ARTICLES"),
    ]
    /// (HS code, description): everything else.
    static let otherGoods: [(String, String)] = [
        ("847130", "LAPTOP COMPUTERS"), ("851712", "MOBILE TELEPHONES"), ("852872", "LCD TELEVISION SETS 55 INCH"),
        ("840731", "MOTORCYCLE ENGINES"), ("870899", "AUTOMOBILE PARTS AND ACCESSORIES"), ("940360", "WOODEN FURNITURE FLAT PACKED"),
        ("950300", "TOYS AND PUZZLES"), ("610910", "COTTON T-SHIRTS KNITTED"), ("620342", "MENS COTTON TROUSERS"),
        ("640399", "LEATHER FOOTWEAR"), ("392690", "PLASTIC HOUSEHOLD ARTICLES"), ("730890", "STEEL STRUCTURES AND PARTS"),
        ("721049", "GALVANISED STEEL COILS"), ("401110", "NEW PNEUMATIC TYRES FOR CARS"), ("901839", "MEDICAL CATHETERS AND NEEDLES"),
        ("300490", "MEDICAMENTS IN MEASURED DOSES"), ("290511", "METHANOL"), ("841810", "REFRIGERATOR-FREEZERS"),
        ("850440", "STATIC CONVERTERS POWER SUPPLIES"), ("847150", "SERVER PROCESSING UNITS"),
    ]
    /// (UN number, class, HS code, description).
    static let dangerous: [(String, String, String, String)] = [
        ("1263", "3", "320890", "PAINT FLAMMABLE LIQUID"), ("3481", "9", "850760", "LITHIUM ION BATTERIES PACKED WITH EQUIPMENT"),
        ("3480", "9", "850760", "LITHIUM ION BATTERIES"), ("1950", "2.1", "340590", "AEROSOLS FLAMMABLE"),
        ("1993", "3", "271019", "FLAMMABLE LIQUID N.O.S. (DIESEL FUEL)"), ("2794", "8", "850710", "BATTERIES WET FILLED WITH ACID"),
        ("1230", "3", "290511", "METHANOL IN DRUMS"), ("1072", "2.2", "280440", "OXYGEN COMPRESSED IN CYLINDERS"),
    ]
    /// Shippers: (name, address "street, city", country, coded id or "").
    static let shippers: [(String, String, String, String)] = [
        ("CHONGQING LAPTOP EXPORT CO LTD", "18 HUANGSHAN AVENUE, LIANGJIANG NEW AREA, CHONGQING", "CN", "91500000MA5U000001"),
        ("NINGBO HOUSEWARE MANUFACTURING CO", "88 ZHONGSHAN ROAD, NINGBO", "CN", "91330200MA2GQ1234X"),
        ("SHENZHEN MOBILE DEVICES LIMITED", "1 KEJI ROAD, NANSHAN DISTRICT, SHENZHEN", "CN", ""),
        ("HAMBURGER MASCHINENBAU GMBH", "KAISERKAI 12, HAMBURG", "DE", "DE811234567"),
        ("SOCIÉTÉ GÉNÉRALE D'EXPORTATION SA", "12 RUE DE LA RÉPUBLIQUE, LE HAVRE", "FR", ""),
        ("MOMBASA COFFEE TRADERS LTD", "MOI AVENUE, MOMBASA", "KE", ""),
        ("O'NEILL + SONS TIMBER (PTY) LTD", "3 DOCK ROAD, DURBAN", "ZA", ""),
        ("FAZENDA SÃO JOÃO EXPORTAÇÃO LTDA", "RUA DO PORTO 45, SANTOS", "BR", ""),
        ("ROTTERDAM FOOD PRODUCTS BV", "WAALHAVEN 7, ROTTERDAM", "NL", "NL001234567B01"),
        ("SINGAPORE PRECISION TOOLS PTE LTD", "21 TUAS AVENUE 3, SINGAPORE", "SG", ""),
    ]
    static let consignees: [(String, String, String, String)] = [
        ("HAMBURG ELECTRONICS GMBH", "KAISERKAI 1, HAMBURG", "DE", ""),
        ("KEMBA RIVER IMPORTS LTD", "PORT ROAD 5, MOMBASA", "KE", "P051234567X"),
        ("SHANGHAI AUTO IMPORT CO", "1000 PUDONG AVENUE, SHANGHAI", "CN", "91310000MA1FL0000A"),
        ("CHONGQING FOOD DISTRIBUTION CO LTD", "66 JIEFANGBEI, YUZHONG, CHONGQING", "CN", ""),
        ("ÅRHUS MØBLER A/S", "HAVNEGADE 2, AARHUS", "DK", ""),
        ("DAR ES SALAAM HARDWARE SUPPLIES", "NYERERE ROAD 14, DAR ES SALAAM", "TZ", ""),
        ("VALENCIA FRUTAS Y VERDURAS S.L.", "AVENIDA DEL PUERTO 100, VALENCIA", "ES", ""),
        ("ACME 50% DISCOUNT STORES? INC", "500 HARBOR BLVD, LOS ANGELES", "US", ""),
        ("NHAVA SHEVA PHARMA DISTRIBUTORS", "JNPT ROAD, NAVI MUMBAI", "IN", ""),
        ("BUSAN GENERAL TRADING CO", "JUNGANG-DAERO 1, BUSAN", "KR", ""),
    ]
    static let notifyParties = ["SAME AS CONSIGNEE", "GLOBAL CUSTOMS BROKERS LTD", "CQ FORWARDING LTD", "PORT CLEARING AGENTS & CO"]
}

// MARK: - Generation

struct Generator {
    var rng: SplitMix64
    let seed: UInt64
    let consignmentsPerManifest: Int
    /// Seconds since 1970 of the first voyage's departure (2025-03-01 00:00 UTC).
    let base: TimeInterval = 1_740_787_200

    init(seed: UInt64, consignments: Int) {
        self.seed = seed
        rng = SplitMix64(state: seed)
        consignmentsPerManifest = consignments
    }

    mutating func containerNumber() -> String {
        let first10 = rng.pick(Samples.owners) + pad(rng.int(0...999_999), 6)
        return first10 + String(ISO6346.checkDigit(first10)!)
    }

    mutating func manifest(_ index: Int) -> Manifest {
        let tag = pad(Int(seed % 1000), 3) + pad(index, 6)
        let modeRoll = rng.int(0...99)
        let mode: TransportMode = modeRoll < 85 ? .sea : modeRoll < 91 ? .inlandWaterway : modeRoll < 96 ? .rail : .road
        let vessel = rng.pick(Samples.vessels)
        let departurePort = rng.pick(Samples.ports)
        var arrivalPort = rng.chance(25) ? "KEMBA" : rng.pick(Samples.ports)
        while arrivalPort == departurePort { arrivalPort = rng.pick(Samples.ports) }
        let departure = Date(timeIntervalSince1970: base + Double(index * 3600 + rng.int(0...59) * 60))
        let arrival = departure.addingTimeInterval(Double(rng.int(2...30) * 86_400))
        var transport = TransportMeans(mode: mode, voyage: pad(rng.int(1...999), 3) + rng.pick(["E", "W", "N", "S"]),
                                       departurePort: departurePort, arrivalPort: arrivalPort,
                                       departure: departure, arrival: arrival)
        switch mode {
        case .sea, .inlandWaterway:
            transport.meansId = vessel.callSign
            transport.meansName = vessel.name
            transport.nationality = vessel.flag
        case .rail:
            transport.meansId = "X" + pad(rng.int(1...9999), 4)
            transport.meansName = "CHONGQING-EUROPE EXPRESS"
            transport.nationality = "CN"
        default:
            transport.meansId = "YU" + pad(rng.int(1...99999), 5)
            transport.nationality = "CN"
        }
        transport.carrier = "CARRIERX"

        var containers: [Container] = []
        var used: Set<String> = []
        func newContainer() -> String {
            var number = containerNumber()
            while used.contains(number) { number = containerNumber() }
            used.insert(number)
            var seals = [String(rng.pick(["CX", "SH", "CU"])) + pad(rng.int(0...9_999_999), 7)]
            if rng.chance(20) { seals.append("CU" + pad(rng.int(0...9_999_999), 7)) }
            containers.append(Container(number: number, sizeType: rng.pick(Samples.sizeTypes), seals: seals,
                                        isFull: true, grossWeightKg: Double(rng.int(3_000...28_000))))
            return number
        }

        var consignments: [Consignment] = []
        for c in 1...consignmentsPerManifest {
            let number = pad(c, consignmentsPerManifest > 999 ? 4 : 3)
            let master = "CRXB" + tag + number
            let house = rng.chance(10)
            var consignment = Consignment(billOfLading: house ? "HBL" + tag + number : master,
                                          masterBillOfLading: house ? master : nil,
                                          loadingPort: departurePort,
                                          dischargePort: rng.chance(90) ? arrivalPort : rng.pick(Samples.ports + ["KEMBA"]))
            let shipper = rng.pick(Samples.shippers), consignee = rng.pick(Samples.consignees)
            consignment.parties = [
                Party(role: .shipper, id: shipper.3.isEmpty ? nil : shipper.3, name: shipper.0, address: shipper.1, country: shipper.2),
                Party(role: .consignee, id: consignee.3.isEmpty ? nil : consignee.3, name: consignee.0, address: consignee.1,
                      country: consignee.2),
            ]
            let notify = rng.pick(Samples.notifyParties)
            consignment.parties.append(Party(role: .notify, name: notify == "SAME AS CONSIGNEE" ? consignee.0 : notify))
            // Its containers: most consignments fill their own (FCL), some share the previous one's (LCL).
            var boxes: [String] = []
            if rng.chance(15), let last = containers.last {
                boxes = [last.number]
            } else {
                boxes = [newContainer()]
                if rng.chance(25) { boxes.append(newContainer()) }
            }
            let inspection = rng.chance(30)
            let items = rng.int(1...3)
            for g in 1...items {
                var item = GoodsItem(sequence: g, packages: rng.int(1...1200), packageType: rng.pick(Samples.packageTypes),
                                     description: "")
                if g == 1 && inspection {
                    let goods = rng.pick(Samples.inspectionGoods)
                    item.hsCode = goods.0
                    item.description = goods.1
                } else if rng.chance(3) {
                    let dg = rng.pick(Samples.dangerous)
                    item.dangerousGoods = [DangerousGoods(unNumber: dg.0, hazardClass: dg.1)]
                    item.hsCode = dg.2
                    item.description = dg.3
                } else {
                    let goods = rng.pick(Samples.otherGoods)
                    item.hsCode = goods.0
                    item.description = goods.1
                    if rng.chance(5) { item.hsCode = nil }  // an HS code is not always given
                }
                if rng.chance(20) { item.description += " AS PER PROFORMA INVOICE NO " + pad(rng.int(1...99999), 5) + " DATED 2025-02-14" }
                item.grossWeightKg = rng.chance(70) ? Double(rng.int(50...22_000)) : Double(rng.int(500...220_000)) / 10
                let packages = item.packages ?? 1
                if boxes.count == 2 && packages > 1 && rng.chance(50) {
                    let first = packages / 2
                    item.containers = [ContainerShare(container: boxes[0], packages: first),
                                       ContainerShare(container: boxes[1], packages: packages - first)]
                } else {
                    item.containers = [ContainerShare(container: rng.pick(boxes), packages: packages)]
                }
                consignment.goods.append(item)
            }
            consignments.append(consignment)
        }
        return Manifest(documentNumber: "CXM-" + tag, function: .original,
                        issuedAt: departure.addingTimeInterval(-86_400), sender: "CARRIERX", transport: transport,
                        containers: containers, consignments: consignments)
    }
}

// MARK: - Components

func monotonicSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// The pipeline's in-memory steps over the files of `options.dir`, each timed alone (best of `options.repeats`).
func components(_ options: Options, rules: [RoutingRule], recipient: [String]) {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: options.dir)) ?? []).filter { $0.hasSuffix(".edi") }.sorted()
    guard !names.isEmpty else { fail("no .edi files in \(options.dir)") }
    let files: [[UInt8]] = names.map { [UInt8](FileManager.default.contents(atPath: options.dir + "/" + $0) ?? Data()) }
    let manifests: [Manifest] = zip(names, files).map { name, bytes in
        guard let first = CUSCARMapping.manifests(from: bytes).first, case .success(let manifest) = first else {
            fail("\(name) does not map to a manifest")
        }
        return manifest
    }
    let consignmentCount = manifests.reduce(0) { $0 + $1.consignments.count }
    let generatedAt = Date(timeIntervalSince1970: 1_740_830_400)
    let date = EDIFACTDateTime(year: 2025, month: 3, day: 1, hour: 12, minute: 0)
    func write(_ rule: RoutingRule, _ m: Manifest) -> [UInt8] {
        let written = Result { () throws -> [UInt8] in
            switch rule.format {
            case .cuscarD95B, .cuscarD96A:
                return try CUSCARWriter(directory: rule.format == .cuscarD95B ? .d95B : .d96A, sender: recipient,
                                        recipient: [rule.agency, "ZZZ"], segmentSuffix: "\n")
                    .interchange([m], reference: "R1X0", at: date)
            case .manifestXML: return try XMLManifestWriter.manifest(m)
            case .ciqXML: return try XMLManifestWriter.ciqCopy(m, generatedAt: generatedAt)
            case .borderXML: return try XMLManifestWriter.borderCopy(m, generatedAt: generatedAt)
            }
        }
        switch written {
        case .success(let bytes): return bytes
        case .failure(let error): fail("copy of \(m.documentNumber) for \(rule.agency) not written: \(error)")
        }
    }
    // The copies routing makes (computed once for the stages that start from them).
    var copies: [(rule: RoutingRule, manifest: Manifest)] = []
    for manifest in manifests {
        for (rule, decision) in zip(rules, Router.route(manifest, rules: rules)) where decision.selected {
            copies.append((rule, Router.copy(of: manifest, for: decision)))
        }
    }
    let outputs = copies.map { write($0.rule, $0.manifest) }

    // Wall time and CPU time (user + system) of the best pass: on a shared machine CPU time is the steadier one.
    var results: [(name: String, seconds: Double, cpu: Double, part: Bool)] = []
    var sink = 0
    func time(_ name: String, part: Bool = false, _ body: () -> Int) {
        if let only = options.only, !name.contains(only) { return }
        var best = Double.infinity, bestCPU = Double.infinity
        for _ in 0..<options.repeats {
            let t0 = monotonicSeconds(), c0 = cpuSeconds()
            sink &+= body()
            best = min(best, monotonicSeconds() - t0)
            bestCPU = min(bestCPU, cpuSeconds() - c0)
        }
        results.append((name, best, bestCPU, part))
    }
    time("syntax check of the files (EDIFACTValidator; also done with routing off)") {
        files.reduce(0) { $0 + EDIFACTValidator.validate($1).count }
    }
    time("CUSCAR mapping to the model (CUSCARMapping.map)") { files.reduce(0) { $0 + CUSCARMapping.map($1).count } }
    time("router: decisions and copy models (Router.route, Router.copy)") {
        manifests.reduce(0) { total, m in
            total + zip(rules, Router.route(m, rules: rules)).reduce(0) { $0 + ($1.1.selected ? Router.copy(of: m, for: $1.1).consignments.count : 0) }
        }
    }
    time("decisions JSON for the ledger (LibraryJSON.decisions)") {
        manifests.reduce(0) { $0 + LibraryJSON.decisions(Router.route($1, rules: rules)).utf8.count }
    }
    let formats = rules.map(\.format).reduce(into: [RoutedFormat]()) { if !$0.contains($1) { $0.append($1) } }
    for format in formats {
        let these = zip(copies, outputs).filter { $0.0.rule.format == format }
        let agencies = Set(these.map(\.0.rule.agency)).sorted().joined(separator: ",")
        let schema: ManifestSchema? = switch format {
        case .ciqXML: .ciqManifest
        case .borderXML: .border
        case .manifestXML: .manifest
        default: nil
        }
        let what = schema == nil ? "CUSCAR writer + its EDIFACT validation" : "XML writer + its XSD validation"
        time("\(these.count) copies \(format.rawValue) for \(agencies) (\(what))") { these.reduce(0) { $0 + write($1.0.rule, $1.0.manifest).count } }
        if let schema {
            time("  of which: XSD validation, \(schema.fileName) (libxml2, validated as read: no tree)", part: true) {
                these.reduce(0) { total, item in total + ((try? XMLSchemaValidator.shipped(schema).validate(item.1, maxBytes: Int.max, generated: true))?.count ?? 0) }
            }
        } else {
            time("  of which: EDIFACT validation of the copies (OutboundEDIFACT.check)", part: true) {
                these.reduce(0) { $0 + EDIFACTValidator.validate($1.1).count }
            }
        }
    }
    time("SHA-256 of the copies (RawStore.put)") { outputs.reduce(0) { $0 + ((try? SHA256Digest.hash($1))?.hex.count ?? 0) } }
    time("  model JSON of each manifest (the ledger's model_json, LibraryJSON.manifest)", part: true) {
        manifests.reduce(0) { $0 + LibraryJSON.manifest($1).utf8.count }
    }
    let storeRoot = options.store ?? (options.dir + "/../components-store")
    var pass = 0
    // The model JSON is written before filing (in parallel, by the pipeline's mapping step); timed above.
    let filingItems = manifests.map { ManifestFilingItem(manifest: $0, partner: "CARRIERX", batchId: nil) }
    time("filing in a fresh SQLite library (GatewayStore.fileAll, 256 a transaction, durable; model JSON written before)") {
        pass += 1
        let directory = storeRoot + "/pass\(pass)"
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let store = try GatewayStore(path: directory + "/gateway.sqlite")
            var filed = 0
            var start = 0
            while start < manifests.count {
                filed += try store.fileAll(Array(filingItems[start..<min(start + 256, manifests.count)]), now: generatedAt).count
                start += 256
            }
            return filed
        } catch {
            fail("filing: \(error)")
        }
    }
    try? FileManager.default.removeItem(atPath: storeRoot)

    let total = results.filter { !$0.part }.reduce(0) { $0 + $1.seconds }
    let totalCPU = results.filter { !$0.part }.reduce(0) { $0 + $1.cpu }
    let n = Double(manifests.count)
    print("\(manifests.count) manifests, \(consignmentCount) consignments, \(copies.count) copies; best of \(options.repeats) passes, one thread")
    print("  " + "step".padding(toLength: 90, withPad: " ", startingAt: 0) + "  wall ms    CPU ms  CPU us/manifest   CPU share")
    func row(_ name: String, _ wall: Double, _ cpu: Double, _ share: String) {
        print("  " + name.padding(toLength: 90, withPad: " ", startingAt: 0)
              + String(format: "%9.1f %9.1f %16.0f   ", wall * 1000, cpu * 1000, cpu / n * 1e6) + share)
    }
    for r in results {
        row(r.name, r.seconds, r.cpu, r.part ? "(\(String(format: "%4.1f", r.cpu / totalCPU * 100))%)" : String(format: "%5.1f%%", r.cpu / totalCPU * 100))
    }
    row("sum of the steps (lines in parentheses are parts of the line above them)", total, totalCPU, "100.0%")
    print(String(format: "  these steps alone allow at most %.0f manifests/s, %.0f consignments/s (by CPU time, one core)", n / totalCPU,
                 Double(consignmentCount) / totalCPU))
    // Does the copies' generation scale over threads, as the pipeline runs it? Same work, 1 thread then all cores.
    final class Slots: @unchecked Sendable { var counts: [Int]; init(_ n: Int) { counts = Array(repeating: 0, count: n) } }
    let work = copies
    nonisolated(unsafe) let writeCopy = write
    func generateAll(threads: Int) -> Double {
        let slots = Slots(threads)
        let t0 = monotonicSeconds()
        DispatchQueue.concurrentPerform(iterations: threads) { stripe in
            var bytes = 0
            for index in stride(from: stripe, to: work.count, by: threads) { bytes += writeCopy(work[index].rule, work[index].manifest).count }
            slots.counts[stripe] = bytes
        }
        sink &+= slots.counts.reduce(0, +)
        return monotonicSeconds() - t0
    }
    let cores = ProcessInfo.processInfo.activeProcessorCount
    if cores > 1, options.only == nil {
        let one = (0..<options.repeats).map { _ in generateAll(threads: 1) }.min()!
        let all = (0..<options.repeats).map { _ in generateAll(threads: cores) }.min()!
        print(String(format: "  all %d copies generated on 1 thread: %.2f s; on %d threads: %.2f s (%.2fx)", copies.count, one, cores, all, one / all))
    }
    keep(sink)
}

/// Keeps a result the optimizer would otherwise drop with the work that made it.
nonisolated(unsafe) var kept = 0
@inline(never) func keep(_ value: Int) { kept &+= value }

// MARK: - Command

struct Options {
    var manifests = 1000
    var consignments = 50
    var out = ""
    var seed: UInt64 = 7
    var config: String?
    var d96aPercent = 30
    var dir = ""
    var repeats = 3
    var store: String?
    /// components: only the steps whose name contains this (for a profiler).
    var only: String?
}

let usage = """
    usage: route-bench generate --manifests N --consignments K --out DIR [--seed S] [--config PATH] [--d96a-percent P]
           route-bench components --dir DIR [--config PATH] [--repeat R] [--store DIR] [--only TEXT]
    """
var arguments = CommandLine.arguments.dropFirst()
let verb = arguments.popFirst()
guard verb == "generate" || verb == "components" else { fail(usage) }
var options = Options()
while let argument = arguments.popFirst() {
    guard let value = arguments.popFirst() else { fail("\(argument) needs a value") }
    func number(_ allowZero: Bool = false) -> Int {
        guard let number = Int(value), number > 0 || (allowZero && number == 0) else { fail("\(argument) wants a positive number") }
        return number
    }
    switch argument {
    case "--manifests": options.manifests = number()
    case "--consignments": options.consignments = number()
    case "--out": options.out = value
    case "--seed": options.seed = UInt64(number(true))
    case "--config": options.config = value
    case "--d96a-percent": options.d96aPercent = min(100, number(true))
    case "--dir": options.dir = value
    case "--repeat": options.repeats = number()
    case "--store": options.store = value
    case "--only": options.only = value
    default: fail("unknown option \(argument)")
    }
}

var recipient = ["SWGATEWAY", "ZZZ"]
var rules = [
    RoutingRule(agency: "CUSTOMS", preset: .customs),
    RoutingRule(agency: "CIQ", preset: .inspection),
    RoutingRule(agency: "BORDER", preset: .border),
    RoutingRule(agency: "MSA", preset: .maritime, ports: ["KEMBA"]),
]
if let path = options.config {
    do {
        let configuration = try ConfigurationLoader.load(path: path)
        recipient = [configuration.identity.id] + (configuration.identity.qualifier.map { [$0] } ?? [])
        rules = configuration.partners.compactMap(\.routing)
    } catch {
        fail("\(path): \(error)")
    }
}
if verb == "components" {
    guard !options.dir.isEmpty else { fail("--dir DIR is required") }
    components(options, rules: rules, recipient: recipient)
    exit(0)
}
guard !options.out.isEmpty else { fail("--out DIR is required") }
// CUSCAR's consignment group (CNI) repeats at most 9 999 times in a message.
guard options.consignments <= 9_999 else { fail("--consignments is at most 9999") }

try? FileManager.default.createDirectory(atPath: options.out, withIntermediateDirectories: true)

var generator = Generator(seed: options.seed, consignments: options.consignments)
var formatRng = SplitMix64(state: options.seed ^ 0xD96A)
var totals: [String: Int] = ["files": 0, "manifests": 0, "consignments": 0, "goods": 0, "containers": 0, "bytes": 0,
                             "d95b": 0, "d96a": 0, "dangerous": 0]
var copies: [String: Int] = [:], copyConsignments: [String: Int] = [:]
for rule in rules { copies[rule.agency] = 0; copyConsignments[rule.agency] = 0 }

for index in 1...options.manifests {
    let manifest = generator.manifest(index)
    let d96a = formatRng.int(0...99) < options.d96aPercent
    let writer = CUSCARWriter(directory: d96a ? .d96A : .d95B, sender: ["CARRIERX", "ZZZ"], recipient: recipient,
                              segmentSuffix: "\n")
    let reference = "RB" + pad(Int(options.seed % 1000), 3) + pad(index, 8)
    let minutes = index % 1440
    let bytes: [UInt8]
    do {
        bytes = try writer.interchange([manifest], reference: reference,
                                       at: EDIFACTDateTime(year: 2025, month: 3, day: 1, hour: minutes / 60, minute: minutes % 60))
    } catch {
        fail("manifest \(index) could not be written: \(error)")
    }
    // What the gateway will see: the file read back through its mapping, then routed.
    let mapped = CUSCARMapping.manifests(from: bytes)
    guard mapped.count == 1, case .success(let back) = mapped[0] else {
        fail("manifest \(index) does not map back: \(mapped)")
    }
    for decision in Router.route(back, rules: rules) where decision.selected {
        copies[decision.agency, default: 0] += 1
        copyConsignments[decision.agency, default: 0] += decision.consignments.filter(\.selected).count
    }
    let path = options.out + "/M" + pad(index, 6) + ".edi"
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fail("cannot write \(path)") }
    totals["files"]! += 1
    totals["manifests"]! += 1
    totals["consignments"]! += back.consignments.count
    totals["goods"]! += back.consignments.reduce(0) { $0 + $1.goods.count }
    totals["dangerous"]! += back.consignments.reduce(0) { $0 + $1.goods.filter { !$0.dangerousGoods.isEmpty }.count }
    totals["containers"]! += back.containers.count
    totals["bytes"]! += bytes.count
    totals[d96a ? "d96a" : "d95b"]! += 1
}

var lines: [String] = []
for key in ["files", "manifests", "consignments", "goods", "dangerous", "containers", "bytes", "d95b", "d96a"] {
    lines.append("\(key)=\(totals[key]!)")
}
for rule in rules {
    lines.append("copies.\(rule.agency)=\(copies[rule.agency] ?? 0)")
    lines.append("consignments.\(rule.agency)=\(copyConsignments[rule.agency] ?? 0)")
    lines.append("format.\(rule.agency)=\(rule.format.rawValue)")
}
lines.append("agencies=\(rules.map(\.agency).joined(separator: ","))")
print(lines.joined(separator: "\n"))
