import Foundation

/// `gateway conflicts list`: interchange references reused with different content (ISO 9735 code 26),
/// kept for an operator to decide which batch is the real one.
public enum ConflictsVerb {
    /// Lists open conflicts (all with `includeResolved`), oldest first, with both batches' files and the
    /// conflicting batch's job. Exit status: 0 (an empty listing included), 1 when the ledger cannot be read,
    /// 2 on a configuration error.
    public static func list(configPath: String, includeResolved: Bool, json: Bool, out: OutputSink, err: OutputSink)
        -> OperatorStatus
    {
        OperatorSession.with(path: configPath, out: out, err: err) { session in
            let conflicts = try session.store?.conflicts(includeResolved: includeResolved) ?? []
            let batches = try session.store?.batches(ids: conflicts.flatMap { [$0.batchId, $0.existingBatchId] }) ?? [:]
            let jobs = try session.store?.jobs(forBatches: conflicts.map(\.batchId)) ?? [:]
            let lines = conflicts.map { c in
                Line(c, existing: batches[c.existingBatchId], conflicting: batches[c.batchId],
                     jobIds: (jobs[c.batchId] ?? []).map(\.id))
            }
            if json {
                out.line(OperatorFormat.json(ListDocument(conflicts: lines)))
                return .success
            }
            if lines.isEmpty {
                out.line(includeResolved ? "no conflicts" : "no open conflicts")
                return .success
            }
            var header = ["ID", "PARTNER", "SENDER", "REFERENCE", "FIRST BATCH", "CONFLICTING BATCH", "JOB", "DETECTED"]
            if includeResolved { header += ["RESOLVED", "RESOLUTION"] }
            let rows = lines.map { c in
                var row = [String(c.id), c.partner, c.sender ?? "-", c.interchangeRef,
                           batchCell(c.existingBatchId, c.existingFileName), batchCell(c.batchId, c.fileName),
                           c.jobIds.isEmpty ? "-" : c.jobIds.map(String.init).joined(separator: ","), c.detectedAt]
                if includeResolved { row += [c.resolvedAt ?? "open", c.resolution ?? ""] }
                return row
            }
            for line in OperatorFormat.table(header, rows, alignments: [.right]) { out.line(line) }
            return .success
        }
    }

    private static func batchCell(_ id: Int64, _ name: String?) -> String {
        "\(id)" + (name.map { " \($0)" } ?? "")
    }

    /// What `conflicts list --json` prints.
    struct ListDocument: Encodable {
        var conflicts: [Line]
    }

    /// One conflict with the files on both sides.
    struct Line: Encodable {
        var id: Int64
        var partner: String
        @Nullable var sender: String?
        var interchangeRef: String
        /// The batch that used the reference first (the one that stands).
        var existingBatchId: Int64
        @Nullable var existingFileName: String?
        /// The batch that reused it (state `conflict`).
        var batchId: Int64
        @Nullable var fileName: String?
        /// Jobs about the conflicting batch, for `gateway jobs show`.
        var jobIds: [Int64]
        var detectedAt: String
        @Nullable var resolvedAt: String?
        @Nullable var resolution: String?

        init(_ conflict: ConflictRecord, existing: BatchRecord?, conflicting: BatchRecord?, jobIds: [Int64]) {
            id = conflict.id
            partner = conflict.partner
            sender = conflict.senderId
            interchangeRef = conflict.interchangeRef
            existingBatchId = conflict.existingBatchId
            existingFileName = existing?.originalName
            batchId = conflict.batchId
            fileName = conflicting?.originalName
            self.jobIds = jobIds
            detectedAt = OperatorFormat.time(conflict.detectedAt)
            resolvedAt = conflict.resolvedAt.map(OperatorFormat.time)
            resolution = conflict.resolution
        }
    }
}
