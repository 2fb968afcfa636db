import Foundation
import GRDB

// `gateway stats`: what the ledger did per partner and UTC day over a window, computed by SQL aggregates
// over the existing indexes (batch by partner and arrival, jobs by state and last change, job history by
// job). Kept in its own file so the pipeline's store code can change without it.

/// One partner's activity on one UTC day, as the ledger records it.
public struct PartnerDayActivity: Sendable, Hashable {
    /// The UTC day, `YYYY-MM-DD`.
    public var day: String
    /// The partner id ("" for deliveries that belong to no partner).
    public var partner: String
    /// Files the partner dropped that day (top-level batches; archives count once, identical re-sends not at all).
    public var files = 0
    /// Archive members unpacked from those files (each a batch of its own).
    public var members = 0
    /// Bytes of the files dropped (archive members are inside their archive's bytes, so not added again).
    public var bytes: Int64 = 0
    /// Batches (files and members) by their state now.
    public var accepted = 0
    public var rejected = 0
    public var quarantined = 0
    public var conflict = 0
    /// Batches not judged yet (state `received`).
    public var pending = 0
    /// Archives unpacked (their members carry the outcome).
    public var unpacked = 0
    /// Deliver jobs to the partner that succeeded that day.
    public var delivered = 0
    /// Deliver jobs to the partner given up that day (failed, quarantined or cancelled).
    public var deliveryFailed = 0
    /// Deliver jobs to the partner whose last attempt that day failed and that will be retried.
    public var deliveryRetrying = 0
    /// Manifest filings (originals, replacements, changes, cancellations) of the partner that day.
    public var manifests = 0
    /// Consignments listed in those filings.
    public var consignments = 0
    /// Seconds from arrival to judgment, one per batch of that day judged so far (unordered).
    public var processingSeconds: [Double] = []

    /// An empty day for a partner.
    public init(day: String, partner: String) {
        self.day = day
        self.partner = partner
    }
}

extension GatewayStore {
    /// Per partner and UTC day, everything in `[start, end)`: batches by the day they arrived, deliveries by the
    /// day of their last change, manifest filings by the day they were filed. Only `partner`'s when given.
    /// Rows come sorted by day, then partner; days and partners without activity have no row.
    ///
    /// Processing time is measured per batch of the window that has a process job: from the batch's
    /// `received_at` (when the gateway picked the file up) to the first time its first process job reached
    /// a judgment (succeeded or quarantined) in the job history, so a later rerun or replay does not move it.
    public func activity(from start: Date, until end: Date, partner: String? = nil) throws -> [PartnerDayActivity] {
        try database.read { db in
            var rows: [String: PartnerDayActivity] = [:]
            func key(_ day: String, _ partner: String) -> String { day + "\u{0}" + partner }
            // In place: copying a row out and back would copy its durations array at every update.
            func update(_ day: String, _ partner: String, _ body: (inout PartnerDayActivity) -> Void) {
                body(&rows[key(day, partner), default: PartnerDayActivity(day: day, partner: partner)])
            }

            // Batches: the window on batch_partner_received, one partner at a time. Without a partner, the
            // partners are found by skipping through the same index (a loose index scan), because a range on
            // received_at alone could not use it and would read the whole table.
            let batches = Self.batchesInWindow(partner: partner)
            var counts = try Row.fetchCursor(db, sql: """
                \(batches.prefix)
                SELECT substr(b.received_at, 1, 10) AS day, b.partner AS partner,
                       sum(CASE WHEN b.parent_batch_id IS NULL THEN 1 ELSE 0 END) AS files,
                       sum(CASE WHEN b.parent_batch_id IS NOT NULL THEN 1 ELSE 0 END) AS members,
                       sum(CASE WHEN b.parent_batch_id IS NULL THEN b.size ELSE 0 END) AS bytes,
                       sum(CASE WHEN b.state = 'accepted' THEN 1 ELSE 0 END) AS accepted,
                       sum(CASE WHEN b.state = 'rejected' THEN 1 ELSE 0 END) AS rejected,
                       sum(CASE WHEN b.state = 'quarantined' THEN 1 ELSE 0 END) AS quarantined,
                       sum(CASE WHEN b.state = 'conflict' THEN 1 ELSE 0 END) AS conflict,
                       sum(CASE WHEN b.state = 'received' THEN 1 ELSE 0 END) AS pending,
                       sum(CASE WHEN b.state = 'unpacked' THEN 1 ELSE 0 END) AS unpacked
                FROM \(batches.from)
                WHERE \(batches.condition) b.received_at >= ? AND b.received_at < ?
                GROUP BY day, b.partner
                """, arguments: batches.arguments + [start, end])
            while let row = try counts.next() {
                update(row["day"], row["partner"]) { a in
                    a.files = row["files"] ?? 0
                    a.members = row["members"] ?? 0
                    a.bytes = row["bytes"] ?? 0
                    a.accepted = row["accepted"] ?? 0
                    a.rejected = row["rejected"] ?? 0
                    a.quarantined = row["quarantined"] ?? 0
                    a.conflict = row["conflict"] ?? 0
                    a.pending = row["pending"] ?? 0
                    a.unpacked = row["unpacked"] ?? 0
                }
            }

            // Processing times: one number per judged batch of the window, streamed (a cursor), so memory is
            // eight bytes per batch of the window, whatever the ledger's size.
            var times = try Row.fetchCursor(db, sql: """
                \(batches.prefix)
                SELECT day, partner, seconds FROM (
                    SELECT substr(b.received_at, 1, 10) AS day, b.partner AS partner,
                           \(db.secondsBetween("""
                               SELECT min(e.at) FROM job_event e
                               WHERE e.job_id = (SELECT min(j.id) FROM job j WHERE j.batch_id = b.id AND j.kind = 'process')
                                 AND e.to_state IN ('succeeded', 'quarantined')
                               """, "b.received_at")) AS seconds
                    FROM \(batches.from)
                    WHERE \(batches.condition) b.received_at >= ? AND b.received_at < ?) AS judged
                WHERE seconds IS NOT NULL
                """, arguments: batches.arguments + [start, end])
            // Rows come partner by partner in arrival order (the index), so a run of them shares one day and
            // partner: collected apart and added once per run, not looked up per row.
            var run: (day: String, partner: String, seconds: [Double])?
            func flush() {
                if let run { update(run.day, run.partner) { $0.processingSeconds += run.seconds } }
            }
            while let row = try times.next() {
                let day: String = row["day"], partner: String = row["partner"], seconds: Double = row["seconds"]
                if run?.day != day || run?.partner != partner {
                    flush()
                    run = (day, partner, [])
                }
                // Milliseconds are what the ledger stores; a clock stepped back must not show negative time.
                run!.seconds.append(max(0, (seconds * 1000).rounded() / 1000))
            }
            flush()

            // Deliveries by the day of their last change (job_state_updated: state, then the time range).
            var deliverySQL = """
                SELECT substr(updated_at, 1, 10) AS day, COALESCE(partner, '') AS partner,
                       sum(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END) AS delivered,
                       sum(CASE WHEN state IN ('failed', 'quarantined', 'cancelled') THEN 1 ELSE 0 END) AS failed,
                       sum(CASE WHEN state = 'retrying' THEN 1 ELSE 0 END) AS retrying
                FROM job
                WHERE kind = 'deliver' AND state IN ('succeeded', 'failed', 'quarantined', 'cancelled', 'retrying')
                  AND updated_at >= ? AND updated_at < ?
                """
            var deliveryArguments: StoreArguments = [start, end]
            if let partner { deliverySQL += " AND partner = ?"; deliveryArguments += [partner] }
            var deliveries = try Row.fetchCursor(db, sql: deliverySQL + " GROUP BY day, COALESCE(partner, '')",
                                                 arguments: deliveryArguments)
            while let row = try deliveries.next() {
                update(row["day"], row["partner"]) { a in
                    a.delivered = row["delivered"] ?? 0
                    a.deliveryFailed = row["failed"] ?? 0
                    a.deliveryRetrying = row["retrying"] ?? 0
                }
            }

            // Manifest filings, with the consignments each listed (from the model kept as filed).
            var manifestSQL = """
                SELECT substr(v.filed_at, 1, 10) AS day, m.partner AS partner, count(*) AS filings,
                       sum(COALESCE(\(db.jsonArrayLength("v.model_json", key: "consignments")), 0)) AS consignments
                FROM manifest_version v JOIN manifest m ON m.id = v.manifest_id
                WHERE v.filed_at >= ? AND v.filed_at < ?
                """
            var manifestArguments: StoreArguments = [start, end]
            if let partner { manifestSQL += " AND m.partner = ?"; manifestArguments += [partner] }
            var filings = try Row.fetchCursor(db, sql: manifestSQL + " GROUP BY day, m.partner", arguments: manifestArguments)
            while let row = try filings.next() {
                update(row["day"], row["partner"]) { a in
                    a.manifests = row["filings"] ?? 0
                    a.consignments = row["consignments"] ?? 0
                }
            }

            return rows.values.sorted { ($0.day, $0.partner) < ($1.day, $1.partner) }
        }
    }

    /// The `FROM` of a query over the window's batches (alias `b`), the condition that picks the partner (ends
    /// in `AND`), the CTE they need, and the condition's arguments (bound before the window's).
    private static func batchesInWindow(partner: String?)
        -> (prefix: String, from: String, condition: String, arguments: StoreArguments)
    {
        if let partner { return ("", "batch b", "b.partner = ? AND", [partner]) }
        return ("""
            WITH RECURSIVE partners(p) AS (
                SELECT min(partner) FROM batch
                UNION ALL
                SELECT (SELECT min(partner) FROM batch WHERE partner > p) FROM partners WHERE p IS NOT NULL)
            """, "partners JOIN batch b ON b.partner = partners.p", "", [])
    }
}
