import Foundation
import GRDB

/// One thing that happened to a traced reference: a file received, a signature checked, a job's step,
/// a manifest filed, a routing decision, a copy routed and delivered, a receipt delivered, a pickup noticed.
public struct TraceEvent: Sendable, Codable, Hashable {
    public var at: Date
    /// `received`, `signature`, `job`, `judged`, `filed`, `routing`, `routed`, `delivered`, `collected`.
    public var kind: String
    public var batchId: Int64?
    public var jobId: Int64?
    /// The partner (carrier or agency) it concerns.
    public var partner: String?
    /// The file it concerns (a delivered receipt or copy), when it is one.
    public var file: String? = nil
    /// One line an operator reads.
    public var summary: String
}

/// What a reference matched in the ledger, and its story in time order.
public struct Trace: Sendable, Codable, Hashable {
    public var reference: String
    /// What the reference was found as: `batch`, `interchange`, `file`, `manifest`, `bill-of-lading`, `container`.
    public var matchedAs: [String]
    public var batches: [Int64]
    public var manifests: [String]
    public var events: [TraceEvent]
}

extension GatewayStore {
    /// Everything the ledger knows about `reference` (a bill of lading, container number, manifest number,
    /// batch id (`42` or `B42`), interchange reference or dropped file name), in time order. Batches are
    /// capped at `limit` (newest kept) so a reference that is everywhere cannot flood the answer.
    public func trace(_ reference: String, limit: Int = 200) throws -> Trace {
        try database.read { db in
            var matched: [String] = []
            var batchIds = Set<Int64>()
            var manifestIds = Set<Int64>()
            let batchNumber = Int64(reference.hasPrefix("B") ? String(reference.dropFirst()) : reference)
            if let id = batchNumber, try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM batch WHERE id = ?)", arguments: [id]) == true {
                batchIds.insert(id)
                matched.append("batch")
            }
            let byInterchange = try Int64.fetchAll(db, sql: "SELECT id FROM batch WHERE interchange_ref = ? LIMIT ?", arguments: [reference, limit])
            if !byInterchange.isEmpty { matched.append("interchange"); batchIds.formUnion(byInterchange) }
            let byName = try Int64.fetchAll(db, sql: "SELECT id FROM batch WHERE original_name = ? OR member_name = ? LIMIT ?",
                                            arguments: [reference, reference, limit])
            if !byName.isEmpty { matched.append("file"); batchIds.formUnion(byName) }
            let byNumber = try Int64.fetchAll(db, sql: "SELECT id FROM manifest WHERE document_number = ?", arguments: [reference])
            if !byNumber.isEmpty { matched.append("manifest"); manifestIds.formUnion(byNumber) }
            let byBill = try Int64.fetchAll(db, sql: "SELECT DISTINCT manifest_id FROM consignment WHERE bill_of_lading = ?", arguments: [reference])
            if !byBill.isEmpty { matched.append("bill-of-lading"); manifestIds.formUnion(byBill) }
            let byContainer = try Int64.fetchAll(db, sql: """
                SELECT DISTINCT c.manifest_id FROM container_use u JOIN consignment c ON c.id = u.consignment_id WHERE u.container = ?
                """, arguments: [reference])
            if !byContainer.isEmpty { matched.append("container"); manifestIds.formUnion(byContainer) }
            // The manifests of the batches found, and the batches of every version of the manifests found.
            if !batchIds.isEmpty {
                manifestIds.formUnion(try Int64.fetchAll(db, sql: "SELECT DISTINCT manifest_id FROM manifest_version WHERE batch_id IN (\(storeIdList(batchIds)))"))
            }
            if !manifestIds.isEmpty {
                batchIds.formUnion(try Int64.fetchAll(db, sql: "SELECT batch_id FROM manifest_version WHERE manifest_id IN (\(storeIdList(manifestIds))) AND batch_id IS NOT NULL"))
            }
            // Archive members bring their archive.
            if !batchIds.isEmpty {
                batchIds.formUnion(try Int64.fetchAll(db, sql: "SELECT parent_batch_id FROM batch WHERE id IN (\(storeIdList(batchIds))) AND parent_batch_id IS NOT NULL"))
            }
            let bill = matched.contains("bill-of-lading") || matched.contains("container") ? reference : nil
            // The agencies' instructions about it (their files' own story comes with them) and the terminals' notices.
            let (verdictEvents, instructionBatches) = manifestIds.isEmpty ? ([], []) : try Self.verdictEvents(Array(manifestIds), only: bill, db)
            batchIds.formUnion(instructionBatches)
            let batches = Array(batchIds.sorted().suffix(limit))
            var events: [TraceEvent] = verdictEvents
            if !batches.isEmpty { events += try Self.batchEvents(batches, db) }
            if !manifestIds.isEmpty { events += try Self.manifestEvents(Array(manifestIds), only: bill, db) }
            let excluded = Set(events.filter { $0.kind == "excluded" }.map { "\($0.partner ?? "")/\($0.file ?? "")" })
            events.removeAll { $0.kind == "excluded" || ($0.file != nil && excluded.contains("\($0.partner ?? "")/\($0.file ?? "")")) }
            events.sort { ($0.at, Self.order($0.kind)) < ($1.at, Self.order($1.kind)) }
            let numbers = manifestIds.isEmpty ? [] : try String.fetchAll(db, sql: """
                SELECT partner || '/' || document_number FROM manifest WHERE id IN (\(storeIdList(manifestIds))) ORDER BY id
                """)
            return Trace(reference: reference, matchedAs: matched, batches: batches, manifests: numbers, events: events)
        }
    }


    /// Ties in time keep the order things happen in.
    private static func order(_ kind: String) -> Int {
        ["received", "signature", "job", "judged", "filed", "routing", "routed", "instruction", "notice", "delivered", "collected"]
            .firstIndex(of: kind) ?? 11
    }

    /// The instructions that apply to the manifests' goods (only to `reference`'s consignments when it is a bill or
    /// a container: about its bill, its manifest or its boxes), with the batches they came in, and the notices
    /// terminals were sent about their containers.
    private static func verdictEvents(_ manifests: [Int64], only reference: String?, _ db: StoreConnection) throws
        -> (events: [TraceEvent], batches: [Int64])
    {
        let ids = storeIdList(manifests)
        let consignments = """
            SELECT c.id FROM consignment c WHERE c.manifest_id IN (\(ids))
            AND (CAST(?1 AS TEXT) IS NULL OR c.bill_of_lading = ?1 OR c.id IN (SELECT consignment_id FROM container_use WHERE container = ?1))
            """
        let containers = "SELECT container FROM container_use WHERE consignment_id IN (\(consignments))"
        var events: [TraceEvent] = []
        var batches: [Int64] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT * FROM instruction WHERE object_ref IN (
                SELECT bill_of_lading FROM consignment WHERE id IN (\(consignments))
                UNION \(containers) UNION SELECT document_number FROM manifest WHERE id IN (\(ids)))
            ORDER BY id
            """, arguments: [reference]) {
            guard let f = fact(row) else { continue }
            if let batch = f.batchId { batches.append(batch) }
            events.append(TraceEvent(at: f.receivedAt, kind: "instruction", batchId: f.batchId, partner: f.agency,
                                     summary: "\(f.agency) instructs \(f.action.rawValue) of \(f.object.kind.rawValue) \(f.object.reference) "
                                         + "(\(f.reference)" + (f.issuedAt.map { ", issued \(XMLTimestamp.format($0))" } ?? "")
                                         + ", signature \(f.verification))"))
        }
        var files: [String: (at: Date, terminal: String, kind: String, reference: String, containers: [String])] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT * FROM terminal_notice WHERE manifest_id IN (\(ids)) AND container IN (\(containers)) ORDER BY id
            """, arguments: [reference]) {
            guard let n = notice(row) else { continue }
            files[n.fileName, default: (n.sentAt ?? Date(), n.terminal, n.kind.rawValue, n.reference, [])].containers.append(n.container)
        }
        for (file, n) in files {
            events.append(TraceEvent(at: n.at, kind: "notice", partner: n.terminal, file: file,
                                     summary: "\(n.kind) \(n.reference) sent to \(n.terminal) as \(file): \(n.containers.joined(separator: ", "))"))
        }
        return (events, batches)
    }

    private static func batchEvents(_ batches: [Int64], _ db: StoreConnection) throws -> [TraceEvent] {
        var events: [TraceEvent] = []
        let ids = storeIdList(batches)
        for row in try Row.fetchAll(db, sql: "SELECT * FROM batch WHERE id IN (\(ids))") {
            let id: Int64 = row["id"]
            let member = (row["member_name"] as String?).map { " (member \($0) of batch \(row["parent_batch_id"] as Int64))" } ?? ""
            let interchange = (row["interchange_ref"] as String?).map { ", interchange \($0)" } ?? ""
            events.append(TraceEvent(at: row["received_at"], kind: "received", batchId: id, partner: row["partner"],
                                     summary: "received \(row["original_name"] as String)\(member), \(row["size"] as Int64) bytes\(interchange), sha256 \((row["sha256"] as String).prefix(12))…"))
            let state: String = row["state"]
            if state != "received" {
                events.append(TraceEvent(at: row["updated_at"], kind: "judged", batchId: id, partner: row["partner"],
                                         summary: "batch \(id) \(state)" + ((row["reason"] as String?).map { ": \($0)" } ?? "")))
            }
        }
        for row in try Row.fetchAll(db, sql: "SELECT * FROM signature_verdict WHERE batch_id IN (\(ids))") {
            let valid = (row["valid"] as Int) == 1
            events.append(TraceEvent(at: row["verified_at"], kind: "signature", batchId: row["batch_id"], jobId: row["job_id"], partner: nil,
                                     summary: valid ? "signature verified: \(row["signer_subject"] as String? ?? "?"), agency \(row["trust"] as String? ?? "?")"
                                         : "signature refused [\(row["code"] as String? ?? "?")]: \(row["reason"] as String? ?? "")"))
        }
        // Process jobs' steps, and every delivery (receipts to the carrier, copies to agencies) with its pickup.
        for row in try Row.fetchAll(db, sql: """
            SELECT j.id, j.kind, j.partner, j.batch_id, j.input, e.at, e.to_state, e.message
            FROM job j JOIN job_event e ON e.job_id = j.id WHERE j.batch_id IN (\(ids)) ORDER BY e.id
            """) {
            let kind: String = row["kind"], to: String = row["to_state"]
            let message = (row["message"] as String?).map { ": \($0)" } ?? ""
            if kind == "deliver" {
                guard to == "succeeded" || to == "failed" || to == "retrying" || to == "quarantined" else { continue }
                let file = JobJSON.decode(DeliverInput.self, row["input"])
                events.append(TraceEvent(at: row["at"], kind: "delivered", batchId: row["batch_id"], jobId: row["id"], partner: row["partner"],
                                         file: file?.file, summary: (to == "succeeded" ? "delivered " : "delivery \(to) ") + "\(file?.kind ?? "file") \(file?.file ?? "?") to \(row["partner"] as String? ?? "?")"
                                             + (to == "succeeded" ? "" : message)))
            } else {
                events.append(TraceEvent(at: row["at"], kind: "job", batchId: row["batch_id"], jobId: row["id"], partner: row["partner"],
                                         summary: "\(kind) job \(row["id"] as Int64) \(to)\(message)"))
            }
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT c.noticed_at, c.partner, c.file_name, c.job_id, j.batch_id FROM collected c JOIN job j ON j.id = c.job_id
            WHERE j.batch_id IN (\(ids))
            """) {
            events.append(TraceEvent(at: row["noticed_at"], kind: "collected", batchId: row["batch_id"], jobId: row["job_id"],
                                     partner: row["partner"], file: row["file_name"], summary: "\(row["partner"] as String) picked up \(row["file_name"] as String)"))
        }
        return events
    }

    /// Filings, routing decisions and copies of the manifests; with `only` (a bill or container), the
    /// decisions and copies that concern it.
    private static func manifestEvents(_ manifests: [Int64], only reference: String?, _ db: StoreConnection) throws -> [TraceEvent] {
        var events: [TraceEvent] = []
        let ids = storeIdList(manifests)
        for row in try Row.fetchAll(db, sql: """
            SELECT m.partner, m.document_number, v.version, v.function, v.batch_id, v.filed_at, \(db.jsonArrayLength("v.model_json", key: "consignments")) AS n
            FROM manifest_version v JOIN manifest m ON m.id = v.manifest_id WHERE v.manifest_id IN (\(ids))
            """) {
            events.append(TraceEvent(at: row["filed_at"], kind: "filed", batchId: row["batch_id"], partner: row["partner"],
                                     summary: "manifest \(row["document_number"] as String) version \(row["version"] as Int) filed "
                                         + "(\(row["function"] as String), \(row["n"] as Int? ?? 0) consignment(s))"))
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT d.decided_at, d.decisions_json, d.version, m.document_number, v.batch_id FROM routing_decision d
            JOIN manifest m ON m.id = d.manifest_id JOIN manifest_version v ON v.manifest_id = d.manifest_id AND v.version = d.version
            WHERE d.manifest_id IN (\(ids))
            """) {
            guard let decisions = JobJSON.decode([RoutingDecision].self, row["decisions_json"]) else { continue }
            for d in decisions {
                var line = "\(d.agency): " + (d.selected ? "selected" : "not selected") + " — \(d.reason)"
                if let reference, let choice = d.consignments.first(where: { $0.billOfLading == reference }) {
                    line = "\(d.agency): \(reference) " + (choice.selected ? "selected" : "not selected") + " — \(choice.reason)"
                }
                events.append(TraceEvent(at: row["decided_at"], kind: "routing", batchId: row["batch_id"], partner: d.agency,
                                         summary: "routing of \(row["document_number"] as String) v\(row["version"] as Int), \(line)"))
            }
        }
        for row in try Row.fetchAll(db, sql: "SELECT * FROM routed_copy WHERE manifest_id IN (\(ids)) ORDER BY id") {
            let copy = routedCopy(row)
            if let reference, !copy.bills.isEmpty, !copy.bills.contains(reference), !copy.containers.contains(reference) {
                // Not about it: neither is its delivery.
                events.append(TraceEvent(at: row["routed_at"], kind: "excluded", partner: copy.agency, file: copy.fileName, summary: ""))
                continue
            }
            events.append(TraceEvent(at: row["routed_at"], kind: "routed", batchId: row["batch_id"], partner: copy.agency,
                                     summary: "routed \(copy.fileName) (\(copy.format), \(copy.function), \(copy.bills.count) consignment(s)"
                                         + (copy.signed ? ", signed" : "") + ") to \(copy.agency) — \(copy.rule)"))
        }
        return events
    }
}
