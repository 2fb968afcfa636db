import Foundation
import GRDB

/// A manifest to file, from whom, received in which batch, with its library JSON in UTF-8 (computed beforehand, off
/// the writer's thread, when the caller has cores to spare).
public struct ManifestFilingItem: Sendable {
    public var manifest: Manifest
    public var partner: String
    public var batchId: Int64?
    public var modelJSON: [UInt8]

    public init(manifest: Manifest, partner: String, batchId: Int64?, modelJSON: [UInt8]? = nil) {
        self.manifest = manifest
        self.partner = partner
        self.batchId = batchId
        self.modelJSON = modelJSON ?? LibraryJSON.manifestUTF8(manifest)
    }
}

/// The library's bulk inserts, prepared once per filing transaction (see `RawInsert` for why).
final class LibraryInserts {
    let version: RawInsert
    let goods, container: RowsInsert
    private let db: StoreConnection
    /// PostgreSQL: one consignment a statement, its id given back by the server.
    private let consignment: RawInsert?
    /// SQLite: many consignments a statement, their ids given here (see `consignments`).
    private let consignmentRows: RowsInsert?
    private var lastConsignmentId: Int64?

    init(_ db: StoreConnection) throws {
        self.db = db
        version = try RawInsert(db, sql: """
            INSERT INTO manifest_version (manifest_id, version, function, batch_id, filed_at, model_json) VALUES (?, ?, ?, ?, ?, ?)
            """)
        if db.dialect == .postgres {
            consignment = try RawInsert(db, sql: """
                INSERT INTO consignment (manifest_id, bill_of_lading, master_bill, loading_port, discharge_port, state, version)
                VALUES (?, ?, ?, ?, ?, 'active', ?)
                """, returnsId: true)
            consignmentRows = nil
        } else {
            consignment = nil
            consignmentRows = RowsInsert(db, into: """
                consignment (id, manifest_id, bill_of_lading, master_bill, loading_port, discharge_port, state, version)
                """, row: "(?, ?, ?, ?, ?, ?, 'active', ?)")
        }
        goods = RowsInsert(db, into: "goods_item (consignment_id, sequence, description, hs_code, packages, package_type, gross_weight_kg, un_numbers)",
                           row: "(?, ?, ?, ?, ?, ?, ?, ?)")
        container = RowsInsert(db, into: "container_use (consignment_id, container)", row: "(?, ?)")
    }

    /// Inserts new consignments of a manifest (as active, in `version`) and returns their ids, in order.
    ///
    /// On SQLite many rows a statement, with ids given here: one past the table's largest, read once per transaction
    /// (the only writer), then counting up. A filing that is undone leaves a gap, never a reused id. Its 50
    /// consignments were 50 statements, a seventh of filing a manifest. PostgreSQL's ids come from its sequence.
    func consignments(_ consignments: [Consignment], manifestId: Int64, version: Int) throws -> [Int64] {
        // The columns after the id, in order.
        func bind(_ insert: RawInsert, _ c: Consignment) {
            insert.bind(manifestId)
            insert.bind(c.billOfLading)
            insert.bind(c.masterBillOfLading)
            insert.bind(c.loadingPort)
            insert.bind(c.dischargePort)
            insert.bind(version)
        }
        guard let rows = consignmentRows else {
            return try consignments.map { c in
                bind(consignment!, c)
                return try consignment!.run()
            }
        }
        guard !consignments.isEmpty else { return [] }
        let first = try lastConsignmentId ?? Int64.fetchOne(db, sql: "SELECT max(id) FROM consignment") ?? 0
        let ids = (1...Int64(consignments.count)).map { first + $0 }
        lastConsignmentId = ids.last
        try rows.insert(Array(zip(ids, consignments))) { insert, row in
            insert.bind(row.0)
            bind(insert, row.1)
        }
        return ids
    }

    /// The goods items and container uses of `consignments` (by index in it, with its row id), many rows a statement.
    func contents(of consignments: [Consignment], filed: [(index: Int, id: Int64)]) throws {
        var items: [(id: Int64, consignment: Int, item: Int)] = []
        var uses: [(id: Int64, container: String)] = []
        for (index, id) in filed {
            let consignment = consignments[index]
            for item in consignment.goods.indices { items.append((id, index, item)) }
            for number in consignment.containerNumbers { uses.append((id, number)) }
        }
        try goods.insert(items) { insert, row in
            let item = consignments[row.consignment].goods[row.item]
            insert.bind(row.id)
            insert.bind(item.sequence)
            insert.bind(item.description)
            insert.bind(item.hsCode)
            insert.bind(item.packages)
            insert.bind(item.packageType)
            insert.bind(item.grossWeightKg)
            insert.bind(item.dangerousGoods.isEmpty ? nil : item.dangerousGoods.map(\.unNumber).joined(separator: ","))
        }
        try container.insert(uses) { insert, use in
            insert.bind(use.id)
            insert.bind(use.container)
        }
    }
}

/// An INSERT of up to `maxRows` rows in one statement (`VALUES (...), (...), ...`), prepared once per row count.
///
/// Why: a manifest of 50 consignments has about 100 goods items and 60 container uses. One statement per row
/// made SQLite start, run and reset a program for each; many rows a statement took a sixth less time for the same
/// rows (C harness, 1 000 manifests: 0.50 s against 0.42 s), on the filing thread every manifest waits for.
final class RowsInsert {
    static let maxRows = 64
    private let db: StoreConnection
    private let head: String
    private let row: String
    private var prepared: [Int: RawInsert] = [:]

    /// `into`: the table and its columns, `goods_item (a, b)`; `row`: one row's placeholders, `(?, ?)`.
    init(_ db: StoreConnection, into: String, row: String) {
        self.db = db
        self.head = "INSERT INTO " + into + " VALUES "
        self.row = row
    }

    /// Inserts one row per element of `rows`, `bind` binding an element's values in column order.
    ///
    /// Statements of 64 rows, then the rest by powers of two (32, 16, ... 1): at most seven statements to prepare
    /// per transaction, where one per remainder count compiled up to 64 of them, each of hundreds of parameters.
    func insert<Row>(_ rows: [Row], bind: (RawInsert, Row) -> Void) throws {
        var start = 0
        while start < rows.count {
            let left = rows.count - start
            let end = start + (left >= Self.maxRows ? Self.maxRows : 1 << (Int.bitWidth - 1 - left.leadingZeroBitCount))
            let statement = try self.statement(rows: end - start)
            for index in start..<end { bind(statement, rows[index]) }
            try statement.run()
            start = end
        }
    }

    private func statement(rows count: Int) throws -> RawInsert {
        if let statement = prepared[count] { return statement }
        let statement = try RawInsert(db, sql: head + Array(repeating: row, count: count).joined(separator: ", "))
        prepared[count] = statement
        return statement
    }
}

/// What filing a manifest did to the library.
public struct ManifestFiling: Sendable, Hashable {
    public var manifestId: Int64
    /// The version this filing became.
    public var version: Int
    /// Bills of lading added, replaced (or changed), and cancelled by it.
    public var added: [String]
    public var updated: [String]
    public var cancelled: [String]
    /// True when this batch had filed this very manifest before (a rerun): nothing was written again.
    public var alreadyFiled: Bool = false
    /// Agencies that were routed a copy of an earlier version (agency → format), as the ledger had them.
    public var priorRecipients: [String: String] = [:]
}

/// Why a filing was refused by the library (an application error for the filer).
public struct ManifestFilingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `manifest.already-filed`, `manifest.not-filed`, `manifest.cancelled`.
    public var code: String
    public var message: String
    public var description: String { "[\(code)] \(message)" }
}

extension GatewayStore {
    /// Files `manifest` (from `partner`, received as batch `batchId`) into the library in one transaction:
    /// an original creates it; a replace swaps all its consignments; a change replaces the consignments it
    /// lists and keeps the others; a cancel withdraws it. Every filing is kept as a version with its model.
    public func file(_ manifest: Manifest, partner: String, batchId: Int64?, now: Date) throws -> Result<ManifestFiling, ManifestFilingError> {
        try fileAll([ManifestFilingItem(manifest: manifest, partner: partner, batchId: batchId)], now: now)[0]
    }

    /// Files several manifests in order in one transaction (a chunk of process jobs): one durable write for
    /// all. A manifest its batch filed before (same batch, same model) is not filed again: its filing is
    /// returned with `alreadyFiled`, so a rerun of a process job routes the same copies and no more.
    public func fileAll(_ items: [ManifestFilingItem], now: Date) throws -> [Result<ManifestFiling, ManifestFilingError>] {
        try database.write { db in
            let inserts = try LibraryInserts(db)
            return try items.map { item in
                var result: Result<ManifestFiling, ManifestFilingError> = .failure(ManifestFilingError(code: "manifest.not-filed", message: ""))
                do {
                    try db.inSavepoint {
                        result = try Self.file(item, now: now, inserts, db)
                        // A first version has no earlier one to have been routed: no query (a thousand a run).
                        if case .success(var filing) = result, filing.version > 1 {
                            filing.priorRecipients = try Self.recipients(manifestId: filing.manifestId, before: filing.version, db)
                            result = .success(filing)
                        }
                        return .commit
                    }
                } catch {
                    // A manifest the library's invariants refuse, which the mapping did not catch: it alone is
                    // refused (by APERAK), and the other manifests of the chunk are filed, not failed with it.
                    guard let violation = StoreConnection.constraintViolation(error) else { throw error }
                    result = .failure(ManifestFilingError(code: "manifest.unfileable",
                                                          message: "the library refuses manifest \(item.manifest.documentNumber): \(violation)"))
                }
                return result
            }
        }
    }

    /// Agencies holding a copy of `manifestId` before `version` (the format of the latest each got): routed one
    /// and not since sent its cancellation.
    static func recipients(manifestId: Int64, before version: Int, _ db: StoreConnection) throws -> [String: String] {
        var result: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT agency, format, function FROM routed_copy WHERE manifest_id = ? AND version < ? ORDER BY version",
                                    arguments: [manifestId, version]) {
            result[row["agency"]] = (row["function"] as String) == ManifestFunction.cancel.rawValue ? nil : row["format"] as String
        }
        return result
    }

    static func file(_ item: ManifestFilingItem, now: Date, _ inserts: LibraryInserts,
                     _ db: StoreConnection) throws -> Result<ManifestFiling, ManifestFilingError> {
        let (manifest, partner, batchId, json) = (item.manifest, item.partner, item.batchId, item.modelJSON)
        // The model is compared here, not in the query: nearly always no version of this batch matches, and the
        // query need not be handed the 47 KB text each time.
        if let batchId, let row = try Row.fetchAll(db, sql: """
            SELECT v.manifest_id, v.version, v.model_json FROM manifest_version v JOIN manifest m ON m.id = v.manifest_id
            WHERE v.batch_id = ? AND m.partner = ? AND m.document_number = ? ORDER BY v.version
            """, arguments: [batchId, partner, manifest.documentNumber]).first(where: { (($0["model_json"] as String?) ?? "").utf8.elementsEqual(json) }) {
            return .success(ManifestFiling(manifestId: row["manifest_id"], version: row["version"], added: [], updated: [],
                                           cancelled: [], alreadyFiled: true))
        }
        let existing = try Row.fetchOne(db, sql: "SELECT id, state, current_version FROM manifest WHERE partner = ? AND document_number = ?",
                                        arguments: [partner, manifest.documentNumber])
        let number = manifest.documentNumber
        func refuse(_ code: String, _ message: String) -> Result<ManifestFiling, ManifestFilingError> {
            .failure(ManifestFilingError(code: code, message: message))
        }
        let t = manifest.transport
        let manifestId: Int64
        let version: Int
        switch (manifest.function, existing) {
        case (.original, .some):
            return refuse("manifest.already-filed", "manifest \(number) was already filed; send a replace (5) or change (4)")
        case (.replace, nil), (.change, nil), (.cancel, nil):
            return refuse("manifest.not-filed", "manifest \(number) was never filed; its \(manifest.function.rawValue) has nothing to apply to")
        case (_, .some(let row)) where (row["state"] as String) == "cancelled":
            return refuse("manifest.cancelled", "manifest \(number) was cancelled; file it again under a new number")
        case (.original, nil):
            manifestId = try db.insert(sql: """
                INSERT INTO manifest (partner, document_number, state, current_version, mode, voyage, means_id, means_name,
                                      departure_port, arrival_port, updated_at)
                VALUES (?, ?, 'active', 1, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [partner, number, t.mode.rawValue, t.voyage, t.meansId, t.meansName, t.departurePort, t.arrivalPort, now])
            version = 1
        case (_, .some(let row)):
            manifestId = row["id"]
            version = (row["current_version"] as Int) + 1
            try db.execute(sql: """
                UPDATE manifest SET current_version = ?, state = ?, mode = ?, voyage = ?, means_id = ?, means_name = ?,
                                    departure_port = ?, arrival_port = ?, updated_at = ? WHERE id = ?
                """, arguments: [version, manifest.function == .cancel ? "cancelled" : "active", t.mode.rawValue, t.voyage,
                                 t.meansId, t.meansName, t.departurePort, t.arrivalPort, now, manifestId])
        }
        let v = inserts.version
        v.bind(manifestId)
        v.bind(version)
        v.bind(manifest.function.rawValue)
        v.bind(batchId)
        v.bind(now)
        v.bind(utf8: json)
        try v.run()

        var filing = ManifestFiling(manifestId: manifestId, version: version, added: [], updated: [], cancelled: [])
        // A new manifest has no consignments yet: nothing to look up before inserting.
        let fresh = manifest.function == .original
        let current = fresh ? [] : Set(try String.fetchAll(db, sql: "SELECT bill_of_lading FROM consignment WHERE manifest_id = ? AND state = 'active'",
                                                           arguments: [manifestId]))
        switch manifest.function {
        case .cancel:
            try db.execute(sql: "UPDATE consignment SET state = 'cancelled', version = ? WHERE manifest_id = ? AND state = 'active'",
                           arguments: [version, manifestId])
            filing.cancelled = current.sorted()
            return .success(filing)
        case .replace:
            // Consignments the replacement no longer lists are withdrawn.
            let listed = Set(manifest.consignments.map(\.billOfLading))
            for gone in current.subtracting(listed).sorted() {
                try db.execute(sql: "UPDATE consignment SET state = 'cancelled', version = ? WHERE manifest_id = ? AND bill_of_lading = ?",
                               arguments: [version, manifestId, gone])
                filing.cancelled.append(gone)
            }
        case .original, .change:
            break
        }
        var filed: [(index: Int, id: Int64)] = []
        filed.reserveCapacity(manifest.consignments.count)
        var added: [Int] = []
        for (index, consignment) in manifest.consignments.enumerated() {
            let bill = consignment.billOfLading
            if !fresh, let id = try Int64.fetchOne(db, sql: "SELECT id FROM consignment WHERE manifest_id = ? AND bill_of_lading = ?",
                                           arguments: [manifestId, bill]) {
                try db.execute(sql: """
                    UPDATE consignment SET master_bill = ?, loading_port = ?, discharge_port = ?, state = 'active', version = ? WHERE id = ?
                    """, arguments: [consignment.masterBillOfLading, consignment.loadingPort, consignment.dischargePort, version, id])
                try db.execute(sql: "DELETE FROM goods_item WHERE consignment_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM container_use WHERE consignment_id = ?", arguments: [id])
                filed.append((index, id))
                filing.updated.append(bill)
            } else {
                added.append(index)
                filing.added.append(bill)
            }
        }
        let ids = try inserts.consignments(added.map { manifest.consignments[$0] }, manifestId: manifestId, version: version)
        filed += zip(added, ids).map { ($0, $1) }
        try inserts.contents(of: manifest.consignments, filed: filed)
        return .success(filing)
    }

    /// The versions of a manifest, oldest first: function, batch, time, and the model as filed.
    public func manifestVersions(partner: String, documentNumber: String) throws -> [(version: Int, function: ManifestFunction, batchId: Int64?, model: Manifest)] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT v.version, v.function, v.batch_id, v.model_json FROM manifest_version v JOIN manifest m ON m.id = v.manifest_id
                WHERE m.partner = ? AND m.document_number = ? ORDER BY v.version
                """, arguments: [partner, documentNumber]).compactMap { row in
                    guard let function = ManifestFunction(rawValue: row["function"]),
                          let model = try? JSONDecoder.iso.decode(Manifest.self, from: Data((row["model_json"] as String).utf8)) else { return nil }
                    return (row["version"], function, row["batch_id"], model)
                }
        }
    }

    /// A manifest's latest version without its consignments (number, transport, declared containers), nil when
    /// it was never filed. The database empties the consignments before the model is decoded: decoding the whole
    /// model was a tenth of a notice sweep.
    public func latestHeader(manifestId: Int64) throws -> Manifest? {
        try database.read { db in
            try String.fetchOne(db, sql: """
                SELECT \(db.dialect == .postgres ? "jsonb_set(model_json::jsonb, '{consignments}', '[]')::text"
                                                  : "json_set(model_json, '$.consignments', json('[]'))") FROM manifest_version WHERE manifest_id = ?
                ORDER BY version DESC LIMIT 1
                """, arguments: [manifestId]).flatMap { try? JSONDecoder.iso.decode(Manifest.self, from: Data($0.utf8)) }
        }
    }

    /// Active consignments carrying a bill of lading or a container: manifest number, bill, state, version.
    public func consignments(matching reference: String) throws -> [(manifest: String, billOfLading: String, state: String, version: Int)] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.document_number, c.bill_of_lading, c.state, c.version FROM consignment c JOIN manifest m ON m.id = c.manifest_id
                WHERE c.bill_of_lading = ?1 OR c.id IN (SELECT consignment_id FROM container_use WHERE container = ?1)
                ORDER BY c.id
                """, arguments: [reference]).map { ($0["document_number"], $0["bill_of_lading"], $0["state"], $0["version"]) }
        }
    }
}

/// What routing one filed manifest version decided, and the copies it sent, for the ledger.
public struct RoutingRecord: Sendable {
    public var manifestId: Int64
    public var version: Int
    /// Every rule's decision (selected or not, with reasons), as JSON.
    public var decisionsJSON: String
    public var copies: [RoutedCopyRecord]
}

/// One copy routed to an agency: which rule, what is in it, the file and the key of its delivery job.
public struct RoutedCopyRecord: Sendable, Hashable, Codable {
    public var agency: String
    public var format: String
    public var function: String
    /// The rule's reason (`customs: 50 of 50 consignment(s) (any transport mode)`).
    public var rule: String
    public var bills: [String]
    public var containers: [String]
    public var fileName: String
    public var sha256: String
    public var signed: Bool
    public var deliverKey: String
}

extension GatewayStore {
    static func insertRouting(_ record: RoutingRecord, now: Date, _ db: StoreConnection) throws {
        guard let batchId = try Int64.fetchOne(db, sql: "SELECT batch_id FROM manifest_version WHERE manifest_id = ? AND version = ?",
                                                     arguments: [record.manifestId, record.version]) else {
            throw StoreError(.refused, "manifest \(record.manifestId) has no version \(record.version) to route")
        }
        try db.execute(sql: """
            INSERT INTO routing_decision (manifest_id, version, decided_at, decisions_json) VALUES (?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """, arguments: [record.manifestId, record.version, now, record.decisionsJSON])
        for copy in record.copies {
            try db.execute(sql: """
                INSERT INTO routed_copy (manifest_id, version, batch_id, agency, format, function, rule, bills_json, containers_json,
                                         file_name, sha256, signed, deliver_key, routed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [record.manifestId, record.version, batchId, copy.agency, copy.format, copy.function, copy.rule,
                                 LibraryJSON.strings(copy.bills), LibraryJSON.strings(copy.containers), copy.fileName, copy.sha256, copy.signed ? 1 : 0,
                                 copy.deliverKey, now])
        }
    }

    /// The copies routed for a batch's manifests, in routing order.
    public func routedCopies(batchId: Int64) throws -> [RoutedCopyRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM routed_copy WHERE batch_id = ? ORDER BY id", arguments: [batchId]).map(Self.routedCopy)
        }
    }

    static func routedCopy(_ row: Row) -> RoutedCopyRecord {
        let decode = { (text: String?) in (text.flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }) ?? [] }
        return RoutedCopyRecord(agency: row["agency"], format: row["format"], function: row["function"], rule: row["rule"],
                                bills: decode(row["bills_json"]), containers: decode(row["containers_json"]),
                                fileName: row["file_name"], sha256: row["sha256"], signed: (row["signed"] as Int) == 1,
                                deliverKey: row["deliver_key"])
    }
}

extension JSONDecoder {
    static var iso: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
