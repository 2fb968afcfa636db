import Foundation
import GRDB

/// What filing a manifest did to the library.
public struct ManifestFiling: Sendable, Hashable {
    public var manifestId: Int64
    /// The version this filing became.
    public var version: Int
    /// Bills of lading added, replaced (or changed), and cancelled by it.
    public var added: [String]
    public var updated: [String]
    public var cancelled: [String]
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
        try pool.write { db in try Self.file(manifest, partner: partner, batchId: batchId, now: now, db) }
    }

    static func file(_ manifest: Manifest, partner: String, batchId: Int64?, now: Date,
                     _ db: Database) throws -> Result<ManifestFiling, ManifestFilingError> {
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
            try db.execute(sql: """
                INSERT INTO manifest (partner, document_number, state, current_version, mode, voyage, means_id, means_name,
                                      departure_port, arrival_port, updated_at)
                VALUES (?, ?, 'active', 1, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [partner, number, t.mode.rawValue, t.voyage, t.meansId, t.meansName, t.departurePort, t.arrivalPort, now])
            manifestId = db.lastInsertedRowID
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
        let json = String(decoding: try JSONEncoder.sortedISO.encode(manifest), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO manifest_version (manifest_id, version, function, batch_id, filed_at, model_json) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [manifestId, version, manifest.function.rawValue, batchId, now, json])

        var filing = ManifestFiling(manifestId: manifestId, version: version, added: [], updated: [], cancelled: [])
        let current = Set(try String.fetchAll(db, sql: "SELECT bill_of_lading FROM consignment WHERE manifest_id = ? AND state = 'active'",
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
        for consignment in manifest.consignments {
            let bill = consignment.billOfLading
            if let id = try Int64.fetchOne(db, sql: "SELECT id FROM consignment WHERE manifest_id = ? AND bill_of_lading = ?",
                                           arguments: [manifestId, bill]) {
                try db.execute(sql: """
                    UPDATE consignment SET master_bill = ?, loading_port = ?, discharge_port = ?, state = 'active', version = ? WHERE id = ?
                    """, arguments: [consignment.masterBillOfLading, consignment.loadingPort, consignment.dischargePort, version, id])
                try db.execute(sql: "DELETE FROM goods_item WHERE consignment_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM container_use WHERE consignment_id = ?", arguments: [id])
                try insertContents(consignment, id: id, db)
                filing.updated.append(bill)
            } else {
                try db.execute(sql: """
                    INSERT INTO consignment (manifest_id, bill_of_lading, master_bill, loading_port, discharge_port, state, version)
                    VALUES (?, ?, ?, ?, ?, 'active', ?)
                    """, arguments: [manifestId, bill, consignment.masterBillOfLading, consignment.loadingPort,
                                     consignment.dischargePort, version])
                try insertContents(consignment, id: db.lastInsertedRowID, db)
                filing.added.append(bill)
            }
        }
        return .success(filing)
    }

    private static func insertContents(_ consignment: Consignment, id: Int64, _ db: Database) throws {
        for item in consignment.goods {
            try db.execute(sql: """
                INSERT INTO goods_item (consignment_id, sequence, description, hs_code, packages, package_type, gross_weight_kg, un_numbers)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, item.sequence, item.description, item.hsCode, item.packages, item.packageType, item.grossWeightKg,
                                 item.dangerousGoods.isEmpty ? nil : item.dangerousGoods.map(\.unNumber).joined(separator: ",")])
        }
        for container in consignment.containerNumbers {
            try db.execute(sql: "INSERT INTO container_use (consignment_id, container) VALUES (?, ?)", arguments: [id, container])
        }
    }

    /// The versions of a manifest, oldest first: function, batch, time, and the model as filed.
    public func manifestVersions(partner: String, documentNumber: String) throws -> [(version: Int, function: ManifestFunction, batchId: Int64?, model: Manifest)] {
        try pool.read { db in
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

    /// Active consignments carrying a bill of lading or a container: manifest number, bill, state, version.
    public func consignments(matching reference: String) throws -> [(manifest: String, billOfLading: String, state: String, version: Int)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT m.document_number, c.bill_of_lading, c.state, c.version FROM consignment c JOIN manifest m ON m.id = c.manifest_id
                WHERE c.bill_of_lading = ?1 OR c.id IN (SELECT consignment_id FROM container_use WHERE container = ?1)
                ORDER BY c.id
                """, arguments: [reference]).map { ($0[0], $0[1], $0[2], $0[3]) }
        }
    }
}

extension JSONEncoder {
    /// Sorted keys and ISO 8601 dates: the same model gives the same bytes.
    static var sortedISO: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

extension JSONDecoder {
    static var iso: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
