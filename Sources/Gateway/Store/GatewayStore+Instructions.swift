import Foundation
import GRDB

/// The combined state of one consignment: per container (or for its loose goods), with every fact and copy
/// behind it.
public struct ConsignmentVerdict: Sendable, Hashable, Codable {
    public var manifestId: Int64
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
    /// Facts about its bill, manifest or containers that arrived longer than `[verdict]
    /// unknown_object_wait_seconds` before it was filed: kept, shown, but not applied.
    public var expired: [InstructionFact] = []

    public struct Unit: Sendable, Hashable, Codable {
        public var container: String?
        public var verdict: Verdict
    }
}

extension GatewayStore {
    /// Records instruction facts; a repeat (same agency, reference, action and object) is kept once.
    /// Returns how many were new.
    @discardableResult
    static func insertInstructions(_ facts: [InstructionFact], _ db: StoreConnection) throws -> Int {
        var added = 0
        for f in facts {
            try db.execute(sql: """
                INSERT INTO instruction (agency, reference, action, object_kind, object_ref, scope_manifest, issued_at, received_at,
                                         batch_id, signer_sha256, verification, note)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [f.agency, f.reference, f.action.rawValue, f.object.kind.rawValue, f.object.reference, f.object.manifest,
                                 f.issuedAt, f.receivedAt, f.batchId, f.signer, f.verification, f.note])
            added += db.changes()
        }
        return added
    }

    /// Records instruction facts outside a job (tests, tools).
    @discardableResult
    public func recordInstructions(_ facts: [InstructionFact]) throws -> Int {
        try database.write { db in try Self.insertInstructions(facts, db) }
    }

    /// The facts recorded from a batch, in arrival order.
    public func instructions(batchId: Int64) throws -> [InstructionFact] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM instruction WHERE batch_id = ? ORDER BY id", arguments: [batchId]).compactMap(Self.fact)
        }
    }

    /// The objects of `objects` the library holds (a filed manifest, bill of lading or container), read in one
    /// transaction.
    public func known(_ objects: [InstructionObject]) throws -> Set<InstructionObject> {
        try database.read { db in
            var known: Set<InstructionObject> = []
            for object in objects {
                let found: Bool?
                switch object.kind {
                case .manifest:
                    found = try Bool.fetchOne(db, sql: "SELECT 1 FROM manifest WHERE document_number = ? LIMIT 1", arguments: [object.reference])
                case .bill:
                    found = try Bool.fetchOne(db, sql: """
                        SELECT 1 FROM consignment c JOIN manifest m ON m.id = c.manifest_id
                        WHERE c.bill_of_lading = ?1 AND (CAST(?2 AS TEXT) IS NULL OR m.document_number = ?2) LIMIT 1
                        """, arguments: [object.reference, object.manifest])
                case .container:
                    found = try Bool.fetchOne(db, sql: "SELECT 1 FROM container_use WHERE container = ? LIMIT 1", arguments: [object.reference])
                }
                if found == true { known.insert(object) }
            }
            return known
        }
    }

    /// The verdicts of the active consignments that `reference` names: a bill of lading, a container number or a
    /// manifest number (every consignment in it).
    public func verdicts(matching reference: String, now: Date, settings: VerdictSettings) throws -> [ConsignmentVerdict] {
        try database.read { db in
            let ids = try Int64.fetchAll(db, sql: """
                SELECT c.id FROM consignment c JOIN manifest m ON m.id = c.manifest_id
                WHERE c.state = 'active' AND (c.bill_of_lading = ?1 OR m.document_number = ?1
                      OR c.id IN (SELECT consignment_id FROM container_use WHERE container = ?1))
                ORDER BY c.id
                """, arguments: [reference])
            return try Self.verdicts(consignmentIds: ids, now: now, settings: settings, db)
        }
    }

    /// The verdicts of every active consignment, oldest first, at most `limit`.
    public func allVerdicts(now: Date, settings: VerdictSettings, limit: Int) throws -> [ConsignmentVerdict] {
        try database.read { db in
            let ids = try Int64.fetchAll(db, sql: "SELECT id FROM consignment WHERE state = 'active' ORDER BY id LIMIT ?", arguments: [limit])
            return try Self.verdicts(consignmentIds: ids, now: now, settings: settings, db)
        }
    }

    /// How far the last notice sweep looked: the last instruction and manifest version it saw, and when.
    public struct SweepMark: Sendable, Hashable {
        public var instructionId: Int64
        public var versionId: Int64
        public var sweptAt: Date
    }

    /// The verdicts a notice sweep must look at, and the mark to record once its notices are: the active
    /// consignments of every manifest an instruction recorded since `mark` applies to (to the manifest, one of
    /// its bills or one of its containers), of every manifest filed again since `mark` that any instruction
    /// applies to, and of every manifest whose silence window closed since the last sweep. Manifests nothing
    /// new touched are not read: at a library's size that is most of it.
    public func verdictsToSweep(now: Date, settings: VerdictSettings) throws -> (verdicts: [ConsignmentVerdict], mark: SweepMark) {
        try database.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT instruction_id, version_id, swept_at FROM notice_sweep WHERE id = 1")
            let (i0, v0): (Int64, Int64) = (row?["instruction_id"] ?? 0, row?["version_id"] ?? 0)
            let sweptAt: Date = row?["swept_at"] ?? .distantPast
            let i1 = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM instruction") ?? 0
            let v1 = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM manifest_version") ?? 0
            let mark = SweepMark(instructionId: i1, versionId: v1, sweptAt: now)
            let silence = TimeInterval(settings.silenceSeconds)
            // Manifests first filed in (sweptAt - silence, now - silence]: their silence window closed since.
            let silenced = try Int64.fetchAll(db, sql: """
                SELECT manifest_id FROM manifest_version GROUP BY manifest_id HAVING MIN(filed_at) > ? AND MIN(filed_at) <= ?
                """, arguments: [sweptAt.addingTimeInterval(-silence), now.addingTimeInterval(-silence)])
            guard i1 > i0 || v1 > v0 || !silenced.isEmpty else { return ([], mark) }
            let ids = try Int64.fetchAll(db, sql: Self.sweepCandidatesSQL(silenced: silenced), arguments: [i0, v0])
            return (try Self.verdicts(consignmentIds: ids, now: now, settings: settings, db), mark)
        }
    }

    /// The sweep's active consignments (`?1`: the last instruction id swept, `?2`: the last manifest version id swept).
    ///
    /// The instructions' references are IN lists, which the planners look up by the indexes on bills and containers.
    /// Written as joins, SQLite (no statistics) walked every container use of the library instead, twice a sweep:
    /// 18 ms of the sweep after 1 000 manifests were filed, and growing with the library.
    static func sweepCandidatesSQL(silenced: [Int64]) -> String {
        let spokenFor = { (since: String) in """
            SELECT c.manifest_id FROM consignment c
            WHERE c.bill_of_lading IN (SELECT object_ref FROM instruction WHERE object_kind = 'bill' AND id > \(since))
            UNION SELECT m.id FROM manifest m
            WHERE m.document_number IN (SELECT object_ref FROM instruction WHERE object_kind = 'manifest' AND id > \(since))
            UNION SELECT c.manifest_id FROM container_use u JOIN consignment c ON c.id = u.consignment_id
            WHERE u.container IN (SELECT object_ref FROM instruction WHERE object_kind = 'container' AND id > \(since))
            """ }
        return """
            SELECT c.id FROM consignment c WHERE c.state = 'active' AND (c.manifest_id IN (
                \(spokenFor("?1"))
                UNION SELECT v.manifest_id FROM manifest_version v WHERE v.id > ?2 AND v.manifest_id IN (\(spokenFor("0"))))
                OR c.manifest_id IN (\(storeIdList(silenced))))
            ORDER BY c.manifest_id, c.id
            """
    }

    static func verdicts(consignmentIds: [Int64], now: Date, settings: VerdictSettings, _ db: StoreConnection) throws -> [ConsignmentVerdict] {
        var results: [ConsignmentVerdict] = []
        var copiesByManifest: [Int64: [(agency: String, cancel: Bool, bills: Set<String>)]] = [:]
        // Read in slices of a few hundred consignments, a handful of queries each (one per consignment was most of
        // a sweep's time).
        var start = 0
        while start < consignmentIds.count {
            let slice = Array(consignmentIds[start..<min(start + 400, consignmentIds.count)])
            start += slice.count
            results += try verdicts(slice: slice, copies: &copiesByManifest, now: now, settings: settings, db)
        }
        return results
    }

    private static func verdicts(slice: [Int64], copies copiesByManifest: inout [Int64: [(agency: String, cancel: Bool, bills: Set<String>)]],
                                 now: Date, settings: VerdictSettings, _ db: StoreConnection) throws -> [ConsignmentVerdict] {
        let silence = TimeInterval(settings.silenceSeconds)
        let wait = TimeInterval(settings.unknownObjectWaitSeconds)
        let ids = storeIdList(slice)
        var rows: [Int64: Row] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT c.id, c.manifest_id, c.bill_of_lading, m.document_number, m.partner
            FROM consignment c JOIN manifest m ON m.id = c.manifest_id WHERE c.id IN (\(ids))
            """) { rows[row["id"]] = row }
        let manifestIds = Set(rows.values.map { $0["manifest_id"] as Int64 })
        var filed: [Int64: Date] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT manifest_id, MIN(filed_at) AS filed_at FROM manifest_version WHERE manifest_id IN (\(storeIdList(manifestIds)))
            GROUP BY manifest_id
            """) { filed[row["manifest_id"]] = row["filed_at"] }
        var containersOf: [Int64: [String]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT consignment_id, container FROM container_use WHERE consignment_id IN (\(ids)) ORDER BY container") {
            containersOf[row["consignment_id"], default: []].append(row["container"])
        }
        for manifestId in manifestIds.sorted() where copiesByManifest[manifestId] == nil {
            copiesByManifest[manifestId] = try Row.fetchAll(db, sql: """
                SELECT agency, function, bills_json FROM routed_copy WHERE manifest_id = ? ORDER BY version, id
                """, arguments: [manifestId]).map { copy in
                    let bills = (try? JSONDecoder().decode([String].self, from: Data((copy["bills_json"] as String).utf8))) ?? []
                    return (copy["agency"], (copy["function"] as String) == ManifestFunction.cancel.rawValue, Set(bills))
                }
        }
        // Every fact about the slice's bills, manifests and containers, by the object it names.
        var references: Set<String> = []
        for row in rows.values { references.insert(row["bill_of_lading"]); references.insert(row["document_number"]) }
        for list in containersOf.values { references.formUnion(list) }
        var factsAbout: [String: [InstructionFact]] = [:]
        if !references.isEmpty {
            let placeholders = Array(repeating: "?", count: references.count).joined(separator: ", ")
            for row in try Row.fetchAll(db, sql: "SELECT * FROM instruction WHERE object_ref IN (\(placeholders)) ORDER BY id",
                                        arguments: StoreArguments(Array(references))) {
                if let fact = Self.fact(row) { factsAbout[fact.object.reference, default: []].append(fact) }
            }
        }
        var results: [ConsignmentVerdict] = []
        for id in slice {
            guard let row = rows[id] else { continue }
            let manifestId: Int64 = row["manifest_id"]
            let bill: String = row["bill_of_lading"]
            let number: String = row["document_number"]
            let containers = containersOf[id] ?? []
            // An agency holds the consignment when its latest copy of the manifest carries the bill and is no
            // cancellation (a replacement that no longer selects it withdrew what it had).
            var latest: [String: Bool] = [:]
            for (agency, cancel, bills) in copiesByManifest[manifestId] ?? [] { latest[agency] = !cancel && bills.contains(bill) }
            let routedTo = latest.filter(\.value).map(\.key).sorted()
            let found = Set([bill, number] + containers).flatMap { factsAbout[$0] ?? [] }.filter { fact in
                switch fact.object.kind {
                case .manifest: fact.object.reference == number
                case .bill: fact.object.reference == bill && (fact.object.manifest == nil || fact.object.manifest == number)
                case .container: containers.contains(fact.object.reference) && (fact.object.manifest == nil || fact.object.manifest == number)
                }
            }.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
            guard let filedAt = filed[manifestId] else { continue }
            // An instruction that arrived before the goods were filed waited for them; longer than the wait, it
            // was about other goods (or none) and does not apply.
            let expired = found.filter { filedAt.timeIntervalSince($0.receivedAt) > wait }
            let facts = found.filter { filedAt.timeIntervalSince($0.receivedAt) <= wait }
            let shared = facts.filter { $0.object.kind != .container }
            let units: [ConsignmentVerdict.Unit] = containers.isEmpty
                ? [.init(container: nil, verdict: VerdictMerge.merge(routedTo: routedTo, facts: shared, firstSeen: filedAt, now: now, silence: silence))]
                : containers.map { container in
                    let applying = shared + facts.filter { $0.object.kind == .container && $0.object.reference == container }
                    return .init(container: container,
                                 verdict: VerdictMerge.merge(routedTo: routedTo, facts: applying, firstSeen: filedAt, now: now, silence: silence))
                }
            results.append(ConsignmentVerdict(manifestId: manifestId, manifest: number, carrier: row["partner"], billOfLading: bill,
                                              state: VerdictMerge.container(units.map(\.verdict.state)), units: units,
                                              facts: facts, filedAt: filedAt, expired: expired))
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

/// One container in a release order, cancellation, inspection or hold notice sent to a terminal.
public struct TerminalNotice: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable { case release, cancel, inspection, hold }

    public var terminal: String
    public var manifestId: Int64
    public var container: String
    public var kind: Kind
    /// The release number (a cancellation carries the number of the release it withdraws).
    public var reference: String
    /// The agencies inspecting or holding the container (comma-separated), for those notices.
    public var agencies: String?
    public var fileName: String
    public var sha256: String
    public var deliverKey: String
    public var sentAt: Date?

    public init(terminal: String, manifestId: Int64, container: String, kind: Kind, reference: String, agencies: String? = nil,
                fileName: String, sha256: String, deliverKey: String, sentAt: Date? = nil) {
        self.terminal = terminal
        self.manifestId = manifestId
        self.container = container
        self.kind = kind
        self.reference = reference
        self.agencies = agencies
        self.fileName = fileName
        self.sha256 = sha256
        self.deliverKey = deliverKey
        self.sentAt = sentAt
    }
}

extension GatewayStore {
    /// The latest notice each terminal got about each container of each manifest.
    public func lastNotices() throws -> [TerminalNotice] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM terminal_notice n WHERE id = (SELECT MAX(id) FROM terminal_notice
                    WHERE terminal = n.terminal AND manifest_id = n.manifest_id AND container = n.container)
                """).compactMap(Self.notice)
        }
    }

    /// Every notice about a container or a manifest's containers, oldest first.
    public func notices(manifestId: Int64) throws -> [TerminalNotice] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM terminal_notice WHERE manifest_id = ? ORDER BY id", arguments: [manifestId])
                .compactMap(Self.notice)
        }
    }

    /// How many notices of `kind` a terminal was sent for a manifest (the next one's number follows).
    public func noticeCount(terminal: String, manifestId: Int64, kind: TerminalNotice.Kind) throws -> Int {
        try database.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT reference) FROM terminal_notice WHERE terminal = ? AND manifest_id = ? AND kind = ?
                """, arguments: [terminal, manifestId, kind.rawValue]) ?? 0
        }
    }

    /// The last combined status each partner was sent about each consignment, and what it was told of the
    /// agencies' positions: "partner manifestId bill" → both.
    public func lastStatuses() throws -> [String: (state: CombinedState, detail: String?)] {
        try database.read { db in
            var result: [String: (state: CombinedState, detail: String?)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT partner, manifest_id, bill_of_lading, state, detail FROM status_notice ORDER BY id") {
                guard let state = CombinedState(rawValue: row["state"]) else { continue }
                result["\(row["partner"] as String) \(row["manifest_id"] as Int64) \(row["bill_of_lading"] as String)"] = (state, row["detail"])
            }
            return result
        }
    }

    /// How many status files a partner was sent about a manifest (the next one's number follows).
    public func statusFileCount(partner: String, manifestId: Int64) throws -> Int {
        try database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT file_name) FROM status_notice WHERE partner = ? AND manifest_id = ?",
                             arguments: [partner, manifestId]) ?? 0
        }
    }

    /// Records notices, enqueues their deliveries and moves the sweep's mark in one transaction; returns the
    /// delivery jobs' ids.
    public func recordNotices(_ notices: [TerminalNotice], statuses: [StatusNotice] = [], enqueue: [JobRequest], mark: SweepMark,
                              now: Date) throws -> [Int64] {
        try database.write { db in
            for n in statuses {
                try db.execute(sql: """
                    INSERT INTO status_notice (partner, manifest_id, bill_of_lading, state, detail, file_name, sha256, sent_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """, arguments: [n.partner, n.manifestId, n.billOfLading, n.state.rawValue, n.detail, n.fileName, n.sha256, now])
            }
            try db.execute(sql: "UPDATE notice_sweep SET instruction_id = ?, version_id = ?, swept_at = ? WHERE id = 1",
                           arguments: [mark.instructionId, mark.versionId, mark.sweptAt])
            for n in notices {
                try db.execute(sql: """
                    INSERT INTO terminal_notice (terminal, manifest_id, container, kind, reference, agencies, file_name, sha256,
                                                 deliver_key, sent_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """, arguments: [n.terminal, n.manifestId, n.container, n.kind.rawValue, n.reference, n.agencies, n.fileName,
                                     n.sha256, n.deliverKey, now])
            }
            return try enqueue.map { try Self.insertJob($0, now: now, message: "a release notice to a terminal", db) }
        }
    }

    static func notice(_ row: Row) -> TerminalNotice? {
        guard let kind = TerminalNotice.Kind(rawValue: row["kind"]) else { return nil }
        return TerminalNotice(terminal: row["terminal"], manifestId: row["manifest_id"], container: row["container"], kind: kind,
                              reference: row["reference"], agencies: row["agencies"], fileName: row["file_name"], sha256: row["sha256"],
                              deliverKey: row["deliver_key"], sentAt: row["sent_at"])
    }
}

/// A consignment's combined status sent to its carrier or to an agency it was routed to.
public struct StatusNotice: Sendable, Hashable {
    public var partner: String
    public var manifestId: Int64
    public var billOfLading: String
    public var state: CombinedState
    /// What an agency was told of the agencies' positions (nil for a carrier).
    public var detail: String?
    public var fileName: String
    public var sha256: String
}

/// A notice file a terminal was sent about some consignments' containers, and whether it picked it up.
public struct NoticeStory: Sendable, Hashable {
    public var terminal: String
    public var kind: TerminalNotice.Kind
    public var reference: String
    public var fileName: String
    public var containers: [String]
    public var sentAt: Date
    /// Its deliver job succeeded: the file is in the terminal's pickup directory (or was).
    public var delivered: Bool
    /// When the gateway noticed the file gone from the pickup directory (the terminal took it).
    public var collectedAt: Date?
}

extension GatewayStore {
    /// The notices terminals were sent about the verdicts' containers, oldest first, with their delivery and pickup.
    public func noticeStory(_ verdicts: [ConsignmentVerdict]) throws -> [NoticeStory] {
        var containers: [Int64: Set<String>] = [:]
        for v in verdicts { containers[v.manifestId, default: []].formUnion(v.units.compactMap(\.container)) }
        return try database.read { db in
            var stories: [NoticeStory] = []
            for (manifestId, boxes) in containers.sorted(by: { $0.key < $1.key }) where !boxes.isEmpty {
                let placeholders = Array(repeating: "?", count: boxes.count).joined(separator: ", ")
                var byFile: [String: Int] = [:]
                for row in try Row.fetchAll(db, sql: """
                    SELECT n.*, j.state AS job_state, c.noticed_at FROM terminal_notice n
                    LEFT JOIN job j ON j.idempotency_key = n.deliver_key LEFT JOIN collected c ON c.job_id = j.id
                    WHERE n.manifest_id = ? AND n.container IN (\(placeholders)) ORDER BY n.id
                    """, arguments: StoreArguments([manifestId] + boxes.sorted())) {
                    guard let n = Self.notice(row) else { continue }
                    if let i = byFile[n.fileName] { stories[i].containers.append(n.container); continue }
                    byFile[n.fileName] = stories.count
                    stories.append(NoticeStory(terminal: n.terminal, kind: n.kind, reference: n.reference, fileName: n.fileName,
                                               containers: [n.container], sentAt: n.sentAt ?? Date(),
                                               delivered: (row["job_state"] as String?) == "succeeded", collectedAt: row["noticed_at"]))
                }
            }
            return stories.sorted { $0.sentAt < $1.sentAt }
        }
    }
}

extension GatewayStore {
    /// How many instruction facts the library holds.
    public func instructionCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM instruction") ?? 0 }
    }
}
