import Foundation
import GRDB
import Testing

@testable import Gateway

// The trade document library: filing originals, changes, replacements and cancellations keeps every
// version and never overwrites silently; bills of lading and containers are found again.

private func consignment(_ bill: String, container: String = "MSCU1234566", goods: String = "GOODS") -> Consignment {
    Consignment(billOfLading: bill, goods: [GoodsItem(sequence: 1, description: goods, hsCode: "090111",
                                                      containers: [ContainerShare(container: container)])])
}

private func filing(_ function: ManifestFunction, _ consignments: [Consignment]) -> Manifest {
    Manifest(documentNumber: "MAN1", function: function, sender: "CARRIERX",
             transport: TransportMeans(mode: .sea, voyage: "V1"), consignments: consignments)
}

@Suite("Manifest library")
struct ManifestLibraryTests {
    /// A fresh store, and what must live as long as it (its folder).
    func store(_ kind: StoreKind) throws -> (GatewayStore, TestStore) {
        let fresh = try TestStore(kind)
        return (try fresh.open(), fresh)
    }

    @Test("original, change, replace and cancel: each a version, the consignments as the last one left them", arguments: StoreKind.underTest)
    func lifecycle(_ kind: StoreKind) throws {
        let (store, folder) = try store(kind)
        defer { withExtendedLifetime(folder) {} }
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        let first = try store.file(filing(.original, [consignment("BL1"), consignment("BL2", container: "TGHU7654320")]),
                                   partner: "CARRIERX", batchId: nil, now: now).get()
        #expect(first.version == 1 && first.added == ["BL1", "BL2"])

        let change = try store.file(filing(.change, [consignment("BL2", container: "CSQU3054383", goods: "OTHER"), consignment("BL3")]),
                                    partner: "CARRIERX", batchId: nil, now: now).get()
        #expect(change.version == 2 && change.updated == ["BL2"] && change.added == ["BL3"] && change.cancelled.isEmpty)
        #expect(try store.consignments(matching: "CSQU3054383").map(\.billOfLading) == ["BL2"])
        #expect(try store.consignments(matching: "TGHU7654320").isEmpty, "the change moved BL2 to another container")

        let replace = try store.file(filing(.replace, [consignment("BL1")]), partner: "CARRIERX", batchId: nil, now: now).get()
        #expect(replace.version == 3 && replace.updated == ["BL1"] && replace.cancelled == ["BL2", "BL3"])
        #expect(try store.consignments(matching: "BL2").map(\.state) == ["cancelled"])

        let cancel = try store.file(filing(.cancel, []), partner: "CARRIERX", batchId: nil, now: now).get()
        #expect(cancel.version == 4 && cancel.cancelled == ["BL1"])

        let versions = try store.manifestVersions(partner: "CARRIERX", documentNumber: "MAN1")
        #expect(versions.map(\.function) == [.original, .change, .replace, .cancel])
        #expect(versions[1].model.consignments.map(\.billOfLading) == ["BL2", "BL3"], "each version keeps the model as filed")
    }

    @Test("what the library refuses: a second original, a change to nothing, anything after a cancel; nothing is written", arguments: StoreKind.underTest)
    func refusals(_ kind: StoreKind) throws {
        let (store, folder) = try store(kind)
        defer { withExtendedLifetime(folder) {} }
        let now = Date()
        #expect(refusal(try store.file(filing(.change, [consignment("BL1")]), partner: "CARRIERX", batchId: nil, now: now)) == "manifest.not-filed")
        _ = try store.file(filing(.original, [consignment("BL1")]), partner: "CARRIERX", batchId: nil, now: now).get()
        #expect(refusal(try store.file(filing(.original, [consignment("BL9")]), partner: "CARRIERX", batchId: nil, now: now)) == "manifest.already-filed")
        // Another carrier may use the same document number.
        #expect(try store.file(filing(.original, [consignment("BL1")]), partner: "CARRIERY", batchId: nil, now: now).get().version == 1)
        _ = try store.file(filing(.cancel, []), partner: "CARRIERX", batchId: nil, now: now).get()
        #expect(refusal(try store.file(filing(.change, [consignment("BL1")]), partner: "CARRIERX", batchId: nil, now: now)) == "manifest.cancelled")
        #expect(try store.manifestVersions(partner: "CARRIERX", documentNumber: "MAN1").count == 2)
        // The schema itself keeps versions append-only and one bill of lading per manifest.
        #expect(throws: (any Error).self) { try store.write { try $0.execute(sql: "DELETE FROM manifest_version") } }
        #expect(throws: (any Error).self) {
            try store.write { try $0.execute(sql: "INSERT INTO consignment (manifest_id, bill_of_lading, state, version) VALUES (1, 'BL1', 'active', 1)") }
        }
    }

    @Test("a manifest of 150 goods items and 75 container uses is filed row for row, across several many-row statements",
          arguments: StoreKind.underTest)
    func manyRows(_ kind: StoreKind) throws {
        let (store, folder) = try store(kind)
        defer { withExtendedLifetime(folder) {} }
        // 75 consignments of 2 goods items each, a container each: 150 goods rows are two statements of 64 and one
        // of 22; 75 container uses, one of 64 and one of 11. The change re-files 70 of them (two statements again).
        let numbers = ["MSCU1234566", "TGHU7654320", "CSQU3054383"]
        func consignments(_ count: Int, _ text: String) -> [Consignment] {
            (1...count).map { n in
                Consignment(billOfLading: "BL\(n)", goods: (1...2).map { s in
                    GoodsItem(sequence: s, packages: n, packageType: "CT", description: "\(text) \(n)/\(s)", grossWeightKg: Double(n) + 0.5,
                              hsCode: s == 1 ? "090111" : nil, dangerousGoods: n % 10 == 0 && s == 2 ? [DangerousGoods(unNumber: "1263", hazardClass: "3")] : [],
                              containers: [ContainerShare(container: numbers[n % 3])])
                })
            }
        }
        _ = try store.file(filing(.original, consignments(75, "GOODS")), partner: "CARRIERX", batchId: nil, now: Date()).get()
        _ = try store.file(filing(.change, consignments(70, "AMENDED")), partner: "CARRIERX", batchId: nil, now: Date()).get()
        let rows = try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.bill_of_lading, g.sequence, g.description, g.hs_code, g.packages, g.package_type, g.gross_weight_kg, g.un_numbers
                FROM goods_item g JOIN consignment c ON c.id = g.consignment_id ORDER BY c.id, g.sequence
                """)
        }
        #expect(rows.count == 150)
        for (index, row) in rows.enumerated() {
            let n = index / 2 + 1, s = index % 2 + 1
            let expected: [String?] = ["BL\(n)", "\(s)", "\(n <= 70 ? "AMENDED" : "GOODS") \(n)/\(s)", s == 1 ? "090111" : nil, "\(n)", "CT",
                                       "\(Double(n) + 0.5)", n % 10 == 0 && s == 2 ? "1263" : nil]
            let found: [String?] = [row["bill_of_lading"] as String, String(row["sequence"] as Int), row["description"] as String,
                                    row["hs_code"] as String?, (row["packages"] as Int?).map(String.init), row["package_type"] as String?,
                                    (row["gross_weight_kg"] as Double?).map { "\($0)" }, row["un_numbers"] as String?]
            #expect(found == expected, "row \(index)")
        }
        let uses = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT c.bill_of_lading, u.container FROM container_use u JOIN consignment c ON c.id = u.consignment_id ORDER BY c.id")
        }
        #expect(uses.map { "\($0["bill_of_lading"] as String) \($0["container"] as String)" } == (1...75).map { "BL\($0) \(numbers[$0 % 3])" })
    }

    @Test("a manifest the schema's invariants refuse is refused alone: the others filed with it in one transaction are kept",
          arguments: StoreKind.underTest)
    func constraintRefusedAlone(_ kind: StoreKind) throws {
        let (store, folder) = try store(kind)
        defer { withExtendedLifetime(folder) {} }
        // Two goods items numbered 1 in one consignment: the mappings refuse this, so only a model built by hand
        // (or a mapping bug) reaches the library with it. Before, the whole chunk of manifests failed with it.
        var twice = consignment("BL2")
        twice.goods.append(GoodsItem(sequence: 1, description: "AGAIN"))
        var bad = filing(.original, [twice])
        bad.documentNumber = "MAN2"
        var after = filing(.original, [consignment("BL3")])
        after.documentNumber = "MAN3"
        let results = try store.fileAll([ManifestFilingItem(manifest: filing(.original, [consignment("BL1")]), partner: "CARRIERX", batchId: nil),
                                         ManifestFilingItem(manifest: bad, partner: "CARRIERX", batchId: nil),
                                         ManifestFilingItem(manifest: after, partner: "CARRIERX", batchId: nil)], now: Date())
        #expect(results.map(refusal) == [nil, "manifest.unfileable", nil])
        if case .failure(let error) = results[1] { #expect(error.message.contains("MAN2"), "\(error.message)") }
        #expect(try store.manifestVersions(partner: "CARRIERX", documentNumber: "MAN1").count == 1)
        #expect(try store.manifestVersions(partner: "CARRIERX", documentNumber: "MAN2").isEmpty, "nothing of it is written")
        #expect(try store.manifestVersions(partner: "CARRIERX", documentNumber: "MAN3").count == 1)
        #expect(try store.consignments(matching: "BL2").isEmpty)
    }

    @Test("consignments filed in one transaction by originals, a change and a refused manifest each keep their own goods",
          arguments: StoreKind.underTest)
    func consignmentIdsInOneTransaction(_ kind: StoreKind) throws {
        let (store, folder) = try store(kind)
        defer { withExtendedLifetime(folder) {} }
        func named(_ number: String, _ function: ManifestFunction, _ consignments: [Consignment]) -> ManifestFilingItem {
            var manifest = filing(function, consignments)
            manifest.documentNumber = number
            return ManifestFilingItem(manifest: manifest, partner: "CARRIERX", batchId: nil)
        }
        _ = try store.fileAll([named("MAN1", .original, [consignment("BL1", goods: "ONE")])], now: Date())
        // One transaction: a change of MAN1 (BL1 again, BL2 new), an original refused for its repeated bill (its rows
        // undone after they were given ids), then an original: every new row gets an id of its own.
        let results = try store.fileAll([
            named("MAN1", .change, [consignment("BL1", goods: "ONE AGAIN"), consignment("BL2", goods: "TWO")]),
            named("MAN2", .original, [consignment("BL3", goods: "THREE"), consignment("BL3", goods: "THREE AGAIN")]),
            named("MAN3", .original, [consignment("BL4", goods: "FOUR"), consignment("BL5", goods: "FIVE")]),
        ], now: Date())
        #expect(results.map(refusal) == [nil, "manifest.unfileable", nil])
        _ = try store.fileAll([named("MAN4", .original, [consignment("BL6", goods: "SIX")])], now: Date())
        let rows = try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.document_number, c.id, c.bill_of_lading, g.description FROM consignment c
                JOIN manifest m ON m.id = c.manifest_id JOIN goods_item g ON g.consignment_id = c.id ORDER BY c.bill_of_lading
                """)
        }
        #expect(rows.map { "\($0["document_number"] as String) \($0["bill_of_lading"] as String) \($0["description"] as String)" }
                == ["MAN1 BL1 ONE AGAIN", "MAN1 BL2 TWO", "MAN3 BL4 FOUR", "MAN3 BL5 FIVE", "MAN4 BL6 SIX"])
        #expect(Set(rows.map { $0["id"] as Int64 }).count == 5)
    }
}

/// The refusal's code, nil for an accepted filing.
private func refusal(_ result: Result<ManifestFiling, ManifestFilingError>) -> String? {
    if case .failure(let error) = result { return error.code }
    return nil
}
