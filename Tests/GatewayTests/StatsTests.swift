import Foundation
import GRDB
import Testing

@testable import Gateway

// `gateway stats` end to end: a scratch spool with two carriers whose files go through the real pipeline
// (pickup, process, deliver) over three UTC days, with the clock fixed at each step so arrival and judgment
// times are known to the second; then the real `gateway` executable, checked for what an operator sees.

private func time(_ text: String) -> Date { ConfigurationCheck.parseTimestamp(text)! }

private func fixture(_ path: String) throws -> String {
    try String(contentsOf: CLI.fixtures.appendingPathComponent(path), encoding: .utf8)
}

/// A good CUSCAR from `sender` with interchange reference `reference`.
private func good(_ reference: String, sender: String = "CARRIERX") throws -> String {
    try fixture("valid/cuscar-d95b-notes.edi").replacingOccurrences(of: "CUS000123", with: reference)
        .replacingOccurrences(of: "+CARRIERX:ZZZ+", with: "+\(sender):ZZZ+")
}

/// A POSIX tar of `members`, so an archive goes through the pipeline without a tool to make one.
private func tar(_ members: [(name: String, bytes: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = []
    for member in members {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) { for (i, b) in text.utf8.enumerated() { header[offset + i] = b } }
        func octal(_ value: Int, _ width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: width - digits.count) + digits
        }
        put(member.name, at: 0)
        put("0000644", at: 100); put("0000000", at: 108); put("0000000", at: 116)
        put(octal(member.bytes.count, 11), at: 124)
        put(octal(1_740_000_000, 11), at: 136)
        put("        ", at: 148)
        header[156] = UInt8(ascii: "0")
        put("ustar", at: 257); put("00", at: 263)
        put(octal(header.reduce(0) { $0 + Int($1) }, 6), at: 148)
        header[154] = 0
        header[155] = UInt8(ascii: " ")
        out += header + member.bytes + [UInt8](repeating: 0, count: (512 - member.bytes.count % 512) % 512)
    }
    return out + [UInt8](repeating: 0, count: 1024)
}

/// The spool after three days of traffic, and the sizes of what each partner dropped each day.
private struct Spool {
    let scratch = try! Scratch()
    /// Bytes dropped per "day partner".
    var bytes: [String: Int] = [:]

    func gateway(_ arguments: String...) throws -> CLIRun {
        try CLI.run(arguments + ["--config", "gateway.toml"], in: scratch.url)
    }

    /// Receipts sitting in a partner's pickup directory (what the deliveries put there).
    func pickedUp(_ partner: String) -> Int {
        let dir = scratch.url.appendingPathComponent("partners/\(partner)/pickup").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).count
    }
}

/// Drops files, picks them up and judges them with the clock set to the given times:
///
/// - 2025-03-03: CARRIERX drops good.edi (picked up 10:00:00) and bad.edi (UNT count wrong, 10:00:10);
///   CARRIERY drops good.edi (10:00:00); all judged at 10:00:20: times 20 s, 10 s and 20 s.
/// - 2025-03-04: CARRIERX drops bundle.edi, a tar of two good interchanges (09:00:00, judged 09:00:05), and
///   junk.edi, not EDIFACT (23:59:50, quarantined after midnight at 00:00:20: 30 s, still the 4th's); a
///   manifest with two consignments is filed for CARRIERX at 12:00.
/// - 2025-03-05: CARRIERY drops late.edi (08:00:00, judged 08:00:03) whose receipt cannot be delivered (its
///   pickup directory is a file); CARRIERX drops waiting.edi (09:00:00), picked up but never judged.
private func makeSpool() throws -> Spool {
    var spool = Spool()
    let root = spool.scratch.url
    _ = try spool.scratch.write("gateway.toml", twoCarriersConfig)
    let configuration = try ConfigurationLoader.load(path: root.appendingPathComponent("gateway.toml").path)
    func drop(_ partner: String, _ name: String, _ bytes: [UInt8], day: String) throws {
        let dir = root.appendingPathComponent("partners/\(partner)/drop")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(bytes).write(to: dir.appendingPathComponent(name))
        spool.bytes[day + " " + partner, default: 0] += bytes.count
    }
    func pickup(_ partner: String, at when: String) throws {
        let pipeline = try GatewayPipeline(configuration: configuration, now: { time(when) })
        let lines = pipeline.pickupJob(try #require(configuration.partner(id: partner)))
        #expect(!lines.isEmpty && lines.allSatisfy { $0.line.outcome != .failed }, "pickup of \(partner) at \(when): \(lines)")
    }
    func judge(at when: String) throws {
        let pipeline = try GatewayPipeline(configuration: configuration, now: { time(when) })
        let (runs, error) = pipeline.drain()
        #expect(error == nil && !runs.isEmpty, "drain at \(when): \(String(describing: error)) \(runs)")
    }

    try drop("CARRIERX", "good.edi", Array(try good("CUS000101").utf8), day: "2025-03-03")
    try drop("CARRIERY", "good.edi", Array(try good("CUS000102", sender: "CARRIERY").utf8), day: "2025-03-03")
    try pickup("CARRIERX", at: "2025-03-03T10:00:00Z")
    try pickup("CARRIERY", at: "2025-03-03T10:00:00Z")
    let bad = try fixture("invalid/29-unt-count.edi").replacingOccurrences(of: "CUS000123", with: "CUS000999")
    try drop("CARRIERX", "bad.edi", Array(bad.utf8), day: "2025-03-03")
    try pickup("CARRIERX", at: "2025-03-03T10:00:10Z")
    try judge(at: "2025-03-03T10:00:20Z")

    try drop("CARRIERX", "bundle.edi", tar([("one.edi", Array(try good("CUS000201").utf8)),
                                            ("two.edi", Array(try good("CUS000202").utf8))]), day: "2025-03-04")
    try pickup("CARRIERX", at: "2025-03-04T09:00:00Z")
    try judge(at: "2025-03-04T09:00:05Z")
    let store = try spool.scratch.openStore()
    let bills = ["BL1", "BL2"].map {
        Consignment(billOfLading: $0, goods: [GoodsItem(sequence: 1, description: "GOODS", hsCode: "090111",
                                                        containers: [ContainerShare(container: "MSCU1234566")])])
    }
    _ = try store.file(Manifest(documentNumber: "MAN1", function: .original, sender: "CARRIERX",
                                transport: TransportMeans(mode: .sea, voyage: "V1"), consignments: bills),
                       partner: "CARRIERX", batchId: nil, now: time("2025-03-04T12:00:00Z")).get()
    try drop("CARRIERX", "junk.edi", Array("this is not an interchange".utf8), day: "2025-03-04")
    try pickup("CARRIERX", at: "2025-03-04T23:59:50Z")
    try judge(at: "2025-03-05T00:00:20Z")

    try drop("CARRIERY", "late.edi", Array(try good("CUS000301", sender: "CARRIERY").utf8), day: "2025-03-05")
    try pickup("CARRIERY", at: "2025-03-05T08:00:00Z")
    let pickupDir = root.appendingPathComponent("partners/CARRIERY/pickup")
    let delivered = try FileManager.default.contentsOfDirectory(atPath: pickupDir.path)
    try FileManager.default.removeItem(at: pickupDir)
    _ = try spool.scratch.write("partners/CARRIERY/pickup", "not a directory")
    try judge(at: "2025-03-05T08:00:03Z")
    // Put back what was delivered before, so the pickup directory still shows every delivery made.
    try FileManager.default.removeItem(at: pickupDir)
    try FileManager.default.createDirectory(at: pickupDir, withIntermediateDirectories: true)
    for name in delivered { _ = try spool.scratch.write("partners/CARRIERY/pickup/\(name)", "receipt") }
    try drop("CARRIERX", "waiting.edi", Array(try good("CUS000401").utf8), day: "2025-03-05")
    try pickup("CARRIERX", at: "2025-03-05T09:00:00Z")
    return spool
}

/// Parses a JSON document printed on standard output.
private func json(_ run: CLIRun, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
    return try #require(object as? [String: Any], "not a JSON object: \(run)", sourceLocation: sourceLocation)
}

/// The rows of a `stats --json` document by "day partner".
private func rows(_ document: [String: Any]) throws -> [String: [String: Any]] {
    let rows = try #require(document["rows"] as? [[String: Any]], "\(document)")
    return Dictionary(uniqueKeysWithValues: rows.map { ("\($0["day"] ?? "?") \($0["partner"] ?? "?")", $0) })
}

/// The keys every row has beside `day` and `partner`, and the total has alone: the interface scripts read.
private let countKeys: Set<String> = [
    "files", "members", "bytes", "accepted", "rejected", "quarantined", "conflict", "pending", "unpacked",
    "delivered", "deliveryFailed", "deliveryRetrying", "processed", "processingMedianSeconds",
    "processingP95Seconds", "processingMaxSeconds", "manifests", "consignments",
]

/// Checks the integer counts of a row (or the total); keys not listed must be 0.
private func expectCounts(_ row: [String: Any]?, _ expected: [String: Int], _ label: String,
                          sourceLocation: SourceLocation = #_sourceLocation) {
    guard let row else {
        Issue.record("no row \(label)", sourceLocation: sourceLocation)
        return
    }
    for key in countKeys where !key.hasPrefix("processing") && key != "bytes" {
        #expect(row[key] as? Int == expected[key] ?? 0, "\(label): \(key) is \(row[key] ?? "missing"), expected \(expected[key] ?? 0)",
                sourceLocation: sourceLocation)
    }
}

/// Checks a row's processing times (nil: no judged batch, so null).
private func expectTimes(_ row: [String: Any]?, _ median: Double?, _ p95: Double?, _ max: Double?, _ label: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    for (key, value) in [("processingMedianSeconds", median), ("processingP95Seconds", p95), ("processingMaxSeconds", max)] {
        if let value {
            #expect(row?[key] as? Double == value, "\(label): \(key) is \(row?[key] ?? "missing"), expected \(value)",
                    sourceLocation: sourceLocation)
        } else {
            #expect(row?[key] is NSNull, "\(label): \(key) is \(row?[key] ?? "missing"), expected null", sourceLocation: sourceLocation)
        }
    }
}

/// The table line of `day` and `partner`, split into cells on runs of two or more spaces.
private func line(_ text: String, _ day: String, _ partner: String) -> [String]? {
    text.split(separator: "\n").map(String.init).first { $0.hasPrefix(day + "  " + partner + " ") }.map {
        $0.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

@Suite("gateway stats")
struct StatsTests {
    @Test("per partner and UTC day: files, members, bytes, outcomes, deliveries, processing times, manifests; a total")
    func perPartnerAndDay() throws {
        let spool = try makeSpool()
        let run = try spool.gateway("stats", "--from", "2025-03-03", "--to", "2025-03-05", "--json")
        #expect(run.status == 0, "\(run)")
        let document = try json(run)
        #expect(document["from"] as? String == "2025-03-03" && document["to"] as? String == "2025-03-05", "\(document)")
        #expect(document["start"] as? String == "2025-03-03T00:00:00Z" && document["end"] as? String == "2025-03-06T00:00:00Z")
        #expect(document["partner"] is NSNull)
        let list = try #require(document["rows"] as? [[String: Any]])
        #expect(list.map { "\($0["day"]!) \($0["partner"]!)" } == [
            "2025-03-03 CARRIERX", "2025-03-03 CARRIERY", "2025-03-04 CARRIERX", "2025-03-05 CARRIERX", "2025-03-05 CARRIERY",
        ], "sorted by day, then partner; a day without activity for a partner has no row")
        let byDay = try rows(document)
        for (key, row) in byDay {
            #expect(row["bytes"] as? Int == spool.bytes[key], "\(key): bytes of the files dropped, \(row)")
        }

        // Day 1: one accepted, one rejected (20 s and 10 s); CARRIERY one accepted (20 s). A receipt each.
        expectCounts(byDay["2025-03-03 CARRIERX"], ["files": 2, "accepted": 1, "rejected": 1, "delivered": 2, "processed": 2],
                     "2025-03-03 CARRIERX")
        expectTimes(byDay["2025-03-03 CARRIERX"], 10, 20, 20, "2025-03-03 CARRIERX")
        expectCounts(byDay["2025-03-03 CARRIERY"], ["files": 1, "accepted": 1, "delivered": 1, "processed": 1], "2025-03-03 CARRIERY")
        expectTimes(byDay["2025-03-03 CARRIERY"], 20, 20, 20, "2025-03-03 CARRIERY")
        // Day 2: the archive (unpacked, 5 s) and its two members (accepted, 5 s each), junk quarantined 30 s after
        // its pickup just before midnight: it counts on the day it arrived; its APERAK was delivered on day 3.
        expectCounts(byDay["2025-03-04 CARRIERX"], ["files": 2, "members": 2, "accepted": 2, "quarantined": 1, "unpacked": 1,
                                                    "delivered": 2, "processed": 4, "manifests": 1, "consignments": 2],
                     "2025-03-04 CARRIERX")
        expectTimes(byDay["2025-03-04 CARRIERX"], 5, 30, 30, "2025-03-04 CARRIERX")
        // Day 3: waiting.edi not judged yet (pending, no time); CARRIERY's receipt not delivered (retrying).
        expectCounts(byDay["2025-03-05 CARRIERX"], ["files": 1, "pending": 1, "delivered": 1], "2025-03-05 CARRIERX")
        expectTimes(byDay["2025-03-05 CARRIERX"], nil, nil, nil, "2025-03-05 CARRIERX")
        expectCounts(byDay["2025-03-05 CARRIERY"], ["files": 1, "accepted": 1, "deliveryRetrying": 1, "processed": 1],
                     "2025-03-05 CARRIERY")
        expectTimes(byDay["2025-03-05 CARRIERY"], 3, 3, 3, "2025-03-05 CARRIERY")

        // The total's times are over every judged batch (3, 5, 5, 5, 10, 20, 20, 30), not averages of the rows'.
        let total = try #require(document["total"] as? [String: Any])
        expectCounts(total, ["files": 7, "members": 2, "accepted": 5, "rejected": 1, "quarantined": 1, "pending": 1,
                             "unpacked": 1, "delivered": 6, "deliveryRetrying": 1, "processed": 8, "manifests": 1,
                             "consignments": 2], "total")
        expectTimes(total, 5, 30, 30, "total")
        #expect(total["bytes"] as? Int == spool.bytes.values.reduce(0, +))
        // Deliveries counted are the receipts in the partners' pickup directories.
        #expect(spool.pickedUp("CARRIERX") == 5 && spool.pickedUp("CARRIERY") == 1,
                "\(spool.pickedUp("CARRIERX")) \(spool.pickedUp("CARRIERY"))")
    }

    @Test("the table: a line per partner and day in order, then the total; manifests only when there are some")
    func table() throws {
        let spool = try makeSpool()
        var run = try spool.gateway("stats", "--from", "2025-03-03", "--to", "2025-03-05")
        #expect(run.status == 0, "\(run)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "from 2025-03-03 to 2025-03-05 (UTC days)", "\(run)")
        #expect(lines.dropFirst().first?.split(separator: " ").filter { !$0.isEmpty }.prefix(5) == ["DAY", "PARTNER", "FILES", "MEMBERS", "BYTES"],
                "\(run)")
        let order = lines.compactMap { l in ["2025-03-03  CARRIERX", "2025-03-03  CARRIERY", "2025-03-04  CARRIERX",
                                             "2025-03-05  CARRIERX", "2025-03-05  CARRIERY", "total  "].firstIndex { l.hasPrefix($0) } }
        #expect(order == [0, 1, 2, 3, 4, 5], "\(run)")
        let header = try #require(lines.dropFirst().first).components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        #expect(header == ["DAY", "PARTNER", "FILES", "MEMBERS", "BYTES", "ACCEPTED", "REJECTED", "QUARANTINED", "CONFLICT",
                           "PENDING", "DELIVERED", "DLV FAILED", "DLV RETRY", "P50", "P95", "MAX", "MANIFESTS", "CONSIGNMENTS"],
                "\(run)")
        let day2 = try #require(line(run.stdout, "2025-03-04", "CARRIERX"), "\(run)")
        #expect(day2.count == header.count, "\(day2)")
        let cell = Dictionary(uniqueKeysWithValues: zip(header, day2))
        #expect(cell["FILES"] == "2" && cell["MEMBERS"] == "2" && cell["ACCEPTED"] == "2" && cell["QUARANTINED"] == "1", "\(day2)")
        #expect(cell["P50"] == "5.0s" && cell["P95"] == "30s" && cell["MAX"] == "30s", "\(day2)")
        #expect(cell["MANIFESTS"] == "1" && cell["CONSIGNMENTS"] == "2", "\(day2)")
        #expect(cell["BYTES"] == "\(String(format: "%.1f", Double(spool.bytes["2025-03-04 CARRIERX"]!) / 1024)) KiB", "\(day2)")
        let pending = try #require(line(run.stdout, "2025-03-05", "CARRIERX"), "\(run)")
        #expect(Dictionary(uniqueKeysWithValues: zip(header, pending))["P50"] == "-", "no judged batch: \(pending)")
        let total = try #require(lines.first { $0.hasPrefix("total  ") }).components(separatedBy: "  ")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(total.prefix(4) == ["total", "2 partners", "7", "2"], "\(total)")
        #expect(run.stdout.contains("over 8 judged batches"), "\(run)")

        // No manifest filed in the window: no manifest columns.
        run = try spool.gateway("stats", "--from", "2025-03-05", "--to", "2025-03-05")
        #expect(run.status == 0 && !run.stdout.contains("MANIFESTS"), "\(run)")
    }

    @Test("--partner: only that partner's rows and total; an unknown one says no activity and exits 0")
    func partnerFilter() throws {
        let spool = try makeSpool()
        var run = try spool.gateway("stats", "--from", "2025-03-03", "--to", "2025-03-05", "--partner", "CARRIERY", "--json")
        #expect(run.status == 0, "\(run)")
        var document = try json(run)
        #expect(document["partner"] as? String == "CARRIERY")
        #expect(try rows(document).keys.sorted() == ["2025-03-03 CARRIERY", "2025-03-05 CARRIERY"], "\(document)")
        expectCounts(document["total"] as? [String: Any], ["files": 2, "accepted": 2, "delivered": 1, "deliveryRetrying": 1,
                                                           "processed": 2], "CARRIERY total")
        expectTimes(document["total"] as? [String: Any], 3, 20, 20, "CARRIERY total")

        run = try spool.gateway("stats", "--from", "2025-03-03", "--to", "2025-03-05", "--partner", "CARRIERY")
        #expect(run.stdout.hasPrefix("from 2025-03-03 to 2025-03-05 (UTC days), partner CARRIERY\n"), "\(run)")
        #expect(!run.stdout.contains("CARRIERX"), "\(run)")
        #expect(run.stdout.contains("\ntotal       CARRIERY  "), "\(run)")

        run = try spool.gateway("stats", "--from", "2025-03-03", "--to", "2025-03-05", "--partner", "NOBODY")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout == "no activity for partner NOBODY from 2025-03-03 to 2025-03-05 (no partner 'NOBODY' is configured)\n",
                "\(run)")
        run = try spool.gateway("stats", "--from", "2025-03-03", "--to", "2025-03-05", "--partner", "NOBODY", "--json")
        #expect(run.status == 0, "\(run)")
        document = try json(run)
        #expect((document["rows"] as? [Any])?.isEmpty == true, "\(document)")
        expectCounts(document["total"] as? [String: Any], [:], "NOBODY total")
        expectTimes(document["total"] as? [String: Any], nil, nil, nil, "NOBODY total")
        // A configured partner with nothing in the window: no activity, without the note.
        run = try spool.gateway("stats", "--from", "2025-03-04", "--to", "2025-03-04", "--partner", "CARRIERY")
        #expect(run.status == 0 && run.stdout == "no activity for partner CARRIERY on 2025-03-04\n", "\(run)")
    }

    @Test("--from and --to: inclusive UTC days, days outside left out; ISO 8601 times cut within a day")
    func window() throws {
        let spool = try makeSpool()
        var document = try json(try spool.gateway("stats", "--from", "2025-03-04", "--to", "2025-03-04", "--json"))
        #expect(try rows(document).keys.sorted() == ["2025-03-04 CARRIERX"], "\(document)")
        #expect(document["from"] as? String == "2025-03-04" && document["to"] as? String == "2025-03-04")
        // Only --to: the seven days up to it, so day 3's activity is left out.
        document = try json(try spool.gateway("stats", "--to", "2025-03-04", "--json"))
        #expect(try rows(document).keys.sorted() == ["2025-03-03 CARRIERX", "2025-03-03 CARRIERY", "2025-03-04 CARRIERX"],
                "\(document)")
        #expect(document["from"] as? String == "2025-02-26", "\(document)")
        // Only --from: up to today, which includes every day of the spool.
        document = try json(try spool.gateway("stats", "--from", "2025-03-05", "--json"))
        #expect(try rows(document).keys.sorted() == ["2025-03-05 CARRIERX", "2025-03-05 CARRIERY"], "\(document)")
        // Times: from 10:00:05 on day 1, only bad.edi (picked up at 10:00:10) of CARRIERX is in; offsets are honoured.
        document = try json(try spool.gateway("stats", "--from", "2025-03-03T11:00:05+01:00", "--to", "2025-03-03T10:00:10Z", "--json"))
        #expect(document["start"] as? String == "2025-03-03T10:00:05Z" && document["end"] as? String == "2025-03-03T10:00:10.001Z",
                "\(document)")
        let cut = try rows(document)
        #expect(cut.keys.sorted() == ["2025-03-03 CARRIERX"], "\(document)")
        expectCounts(cut["2025-03-03 CARRIERX"], ["files": 1, "rejected": 1, "processed": 1], "10:00:05 to 10:00:10")
        var run = try spool.gateway("stats", "--from", "2025-03-03T11:00:05+01:00", "--to", "2025-03-03T10:00:10Z")
        #expect(run.stdout.hasPrefix("from 2025-03-03T10:00:05Z to 2025-03-03T10:00:10Z\nDAY "), "both bounds as counted: \(run)")
        // Days with nothing: no activity, exit 0.
        run = try spool.gateway("stats", "--from", "2025-03-01", "--to", "2025-03-02")
        #expect(run.status == 0 && run.stdout == "no activity from 2025-03-01 to 2025-03-02\n", "\(run)")
        run = try spool.gateway("stats", "--from", "2025-03-03T10:00:01Z", "--to", "2025-03-03T10:00:02.5Z")
        #expect(run.status == 0 && run.stdout == "no activity from 2025-03-03T10:00:01Z to 2025-03-03T10:00:02.500Z\n", "\(run)")
    }

    @Test("JSON: the same keys in every row and in the total, absent times as null")
    func jsonKeys() throws {
        let spool = try makeSpool()
        let document = try json(try spool.gateway("stats", "--from", "2025-03-03", "--to", "2025-03-05", "--json"))
        #expect(Set(document.keys) == ["from", "to", "start", "end", "partner", "rows", "total"], "\(document.keys)")
        let list = try #require(document["rows"] as? [[String: Any]])
        for row in list { #expect(Set(row.keys) == countKeys.union(["day", "partner"]), "\(row.keys.sorted())") }
        #expect(Set(try #require(document["total"] as? [String: Any]).keys) == countKeys)
    }

    @Test("a date that cannot be read, or a window that ends before it starts, is a usage error (exit 2) naming the option")
    func badDates() throws {
        let spool = try makeSpool()
        for (arguments, message) in [
            (["--from", "2025-02-30"], "Invalid --from '2025-02-30'"),
            (["--to", "yesterday"], "Invalid --to 'yesterday'"),
            (["--from", "2025-03-03T10:00:00"], "Invalid --from '2025-03-03T10:00:00'"),
            (["--from", "2025-3-3"], "Invalid --from '2025-3-3'"),
            (["--from", "2025-03-05", "--to", "2025-03-03"], "Invalid --from '2025-03-05': it is after --to '2025-03-03'"),
        ] {
            for json in [false, true] {
                let run = try CLI.run(["stats"] + arguments + (json ? ["--json"] : []) + ["--config", "gateway.toml"],
                                      in: spool.scratch.url)
                #expect(run.status == 2, "\(arguments): \(run)")
                #expect(run.stdout.isEmpty, "\(arguments): \(run)")
                #expect(run.stderr.contains(message), "\(arguments): \(run)")
            }
        }
        let future = try spool.gateway("stats", "--from", "2999-01-01")
        #expect(future.status == 2 && future.stderr.contains("Invalid --from '2999-01-01': it is after today ("), "\(future)")
        #expect(try spool.gateway("stats", "--partner", "").status == 2)
        #expect(try CLI.run(["stats", "--config", "missing.toml"], in: spool.scratch.url).status == 2)
    }

    @Test("gateway run --once today, then stats with the default window (the last 7 days) shows it; before, no activity")
    func runOnceThenDefaultWindow() throws {
        let scratch = try Scratch()
        _ = try scratch.write("gateway.toml", runOnceConfig)
        var run = try scratch.gateway("stats", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout.hasPrefix("no activity from "), "\(run)")
        #expect(!FileManager.default.fileExists(atPath: scratch.url.appendingPathComponent("state").path), "no ledger is created")

        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                withIntermediateDirectories: true)
        _ = try scratch.write("partners/CARRIERX/drop/manifest.edi", try fixture("valid/cuscar-d95b-notes.edi"))
        run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout.contains("manifest.edi: accepted"), "\(run)")

        run = try scratch.gateway("stats", "--config", "gateway.toml", "--json")
        #expect(run.status == 0, "\(run)")
        let document = try json(run)
        let today = String(ConfigurationCheck.timestamp(Date()).prefix(10))
        let weekAgo = String(ConfigurationCheck.timestamp(Date().addingTimeInterval(-6 * 86_400)).prefix(10))
        #expect(document["to"] as? String == today && document["from"] as? String == weekAgo, "\(document)")
        let row = try #require(try rows(document)["\(today) CARRIERX"], "\(document)")
        expectCounts(row, ["files": 1, "accepted": 1, "delivered": 1, "processed": 1], "run --once")
        let seconds = try #require(row["processingMaxSeconds"] as? Double, "\(row)")
        #expect(seconds >= 0 && seconds < 60, "\(row)")
        run = try scratch.gateway("stats", "--config", "gateway.toml")
        #expect(run.stdout.contains("\(today)  CARRIERX  "), "\(run)")
    }

    @Test("help says what is counted, what the times measure and the exit statuses")
    func help() throws {
        let run = try CLI.run(["stats", "--help"], in: CLI.fixtures)
        #expect(run.status == 0, "\(run)")
        try Golden.check(run.stdout, "help-stats.txt")
    }
}
