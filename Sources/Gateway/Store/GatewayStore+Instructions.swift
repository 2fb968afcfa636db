import Foundation
import GRDB

/// The combined state of one consignment: per container (or for its loose goods), with every fact and copy
/// behind it.
public struct ConsignmentVerdict: Sendable, Hashable, Codable {
    public var manifest: String
    public var carrier: String
    public var billOfLading: String
    /// The consignment's state: the weightiest of its units' (held over inspection over pending over released).
    public var state: CombinedState
    /// One verdict per container the consignment's goods are in, or one with `container` nil for goods in none.
    public var units: [Unit]
    /// Every fact that applies to the consignment, in the order the merge reads them.
    public var facts: [InstructionFact]
    /// When the consignment's manifest was first filed (the silence window counts from there).
    public var filedAt: Date

    public struct Unit: Sendable, Hashable, Codable {
        public var container: String?
        public var verdict: Verdict
    }
}

extension GatewayStore {
    /// Records instruction facts; a repeat (same agency, reference, action and object) is kept once.
    /// Returns how many were new.
    @discardableResult
    static func insertInstructions(_ facts: [InstructionFact], _ db: Database) throws -> Int {
        var added = 0
        for f in facts {
            try db.cachedExecute(sql: """
                INSERT INTO instruction (agency, reference, action, object_kind, object_ref, scope_manifest, issued_at, received_at,
                                         batch_id, signer_sha256, verification, note)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [f.agency, f.reference, f.action.rawValue, f.object.kind.rawValue, f.object.reference, f.object.manifest,
                                 f.issuedAt, f.receivedAt, f.batchId, f.signer, f.verification, f.note])
            added += db.changesCount
        }
        return added
    }

    /// Records instruction facts outside a job (tests, tools).
    @discardableResult
    public func recordInstructions(_ facts: [InstructionFact]) throws -> Int {
        try pool.write { db in try Self.insertInstructions(facts, db) }
    }

    /// The facts recorded from a batch, in arrival order.
    public func instructions(batchId: Int64) throws -> [InstructionFact] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM instruction WHERE batch_id = ? ORDER BY id", arguments: [batchId]).compactMap(Self.fact)
        }
    }

    /// Whether the library holds an object an instruction names (a filed manifest, bill of lading or container).
    public func knows(_ object: InstructionObject) throws -> Bool {
        try pool.read { db in
            let (sql, arguments): (String, StatementArguments)
            switch object.kind {
            case .manifest:
                (sql, arguments) = ("SELECT 1 FROM manifest WHERE document_number = ?", [object.reference])
            case .bill:
                (sql, arguments) = ("""
                    SELECT 1 FROM consignment c JOIN manifest m ON m.id = c.manifest_id
                    WHERE c.bill_of_lading = ?1 AND (?2 IS NULL OR m.document_number = ?2)
                    """, [object.reference, object.manifest])
            case .container:
                (sql, arguments) = ("SELECT 1 FROM container_use WHERE container = ?", [object.reference])
            }
            return try Bool.fetchOne(db, sql: sql + " LIMIT 1", arguments: arguments) ?? false
        }
    }

    /// The verdicts of the active consignments that `reference` names: a bill of lading, a container number or a
    /// manifest number (every consignment in it).
    public func verdicts(matching reference: String, now: Date, silence: TimeInterval) throws -> [ConsignmentVerdict] {
        try pool.read { db in
            let ids = try Int64.fetchAll(db, sql: """
                SELECT c.id FROM consignment c JOIN manifest m ON m.id = c.manifest_id
                WHERE c.state = 'active' AND (c.bill_of_lading = ?1 OR m.document_number = ?1
                      OR c.id IN (SELECT consignment_id FROM container_use WHERE container = ?1))
                ORDER BY c.id
                """, arguments: [reference])
            return try Self.verdicts(consignmentIds: ids, now: now, silence: silence, db)
        }
    }

    /// The verdicts of every active consignment, oldest first, at most `limit`.
    public func allVerdicts(now: Date, silence: TimeInterval, limit: Int) throws -> [ConsignmentVerdict] {
        try pool.read { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM consignment WHERE state = 'active' ORDER BY id LIMIT ?", arguments: [limit])
            return try Self.verdicts(consignmentIds: ids, now: now, silence: silence, db)
        }
    }

    static func verdicts(consignmentIds: [Int64], now: Date, silence: TimeInterval, _ db: Database) throws -> [ConsignmentVerdict] {
        var results: [ConsignmentVerdict] = []
        var copiesByManifest: [Int64: [Row]] = [:]
        for id in consignmentIds {
            guard let row = try Row.fetchOne(db, sql: """
                SELECT c.manifest_id, c.bill_of_lading, m.document_number, m.partner,
                       (SELECT MIN(filed_at) FROM manifest_version WHERE manifest_id = m.id) AS filed_at
                FROM consignment c JOIN manifest m ON m.id = c.manifest_id WHERE c.id = ?
                """, arguments: [id]) else { continue }
            let manifestId: Int64 = row["manifest_id"]
            let bill: String = row["bill_of_lading"]
            let number: String = row["document_number"]
            let containers = try String.fetchAll(db, sql: "SELECT container FROM container_use WHERE consignment_id = ? ORDER BY container",
                                                 arguments: [id])
            if copiesByManifest[manifestId] == nil {
                copiesByManifest[manifestId] = try Row.fetchAll(db, sql: """
                    SELECT agency, function, bills_json FROM routed_copy WHERE manifest_id = ? ORDER BY version, id
                    """, arguments: [manifestId])
            }
            // An agency holds the consignment when its latest copy of the manifest carries the bill and is no
            // cancellation (a replacement that no longer selects it withdrew what it had).
            var latest: [String: Bool] = [:]
            for copy in copiesByManifest[manifestId] ?? [] {
                let bills = (try? JSONDecoder().decode([String].self, from: Data((copy["bills_json"] as String).utf8))) ?? []
                latest[copy["agency"]] = (copy["function"] as String) != ManifestFunction.cancel.rawValue && bills.contains(bill)
            }
            let routedTo = latest.filter(\.value).map(\.key).sorted()
            let placeholders = Array(repeating: "?", count: containers.count + 2).joined(separator: ", ")
            let facts = try Row.fetchAll(db, sql: """
                SELECT * FROM instruction WHERE object_ref IN (\(placeholders)) ORDER BY id
                """, arguments: StatementArguments([bill, number] + containers)).compactMap(Self.fact).filter { fact in
                    switch fact.object.kind {
                    case .manifest: fact.object.reference == number
                    case .bill: fact.object.reference == bill && (fact.object.manifest == nil || fact.object.manifest == number)
                    case .container: containers.contains(fact.object.reference) && (fact.object.manifest == nil || fact.object.manifest == number)
                    }
                }
            let filedAt: Date = row["filed_at"]
            let shared = facts.filter { $0.object.kind != .container }
            let units: [ConsignmentVerdict.Unit] = containers.isEmpty
                ? [.init(container: nil, verdict: VerdictMerge.merge(routedTo: routedTo, facts: shared, firstSeen: filedAt, now: now, silence: silence))]
                : containers.map { container in
                    let applying = shared + facts.filter { $0.object.kind == .container && $0.object.reference == container }
                    return .init(container: container,
                                 verdict: VerdictMerge.merge(routedTo: routedTo, facts: applying, firstSeen: filedAt, now: now, silence: silence))
                }
            results.append(ConsignmentVerdict(manifest: number, carrier: row["partner"], billOfLading: bill,
                                              state: VerdictMerge.container(units.map(\.verdict.state)), units: units,
                                              facts: facts, filedAt: filedAt))
        }
        return results
    }

    static func fact(_ row: Row) -> InstructionFact? {
        guard let action = InstructionAction(rawValue: row["action"]), let kind = InstructionObjectKind(rawValue: row["object_kind"]) else { return nil }
        return InstructionFact(id: row["id"], agency: row["agency"], reference: row["reference"], action: action,
                               object: InstructionObject(kind: kind, reference: row["object_ref"], manifest: row["scope_manifest"]),
                               issuedAt: row["issued_at"], receivedAt: row["received_at"], batchId: row["batch_id"],
                               signer: row["signer_sha256"], verification: row["verification"], note: row["note"])
    }
}
