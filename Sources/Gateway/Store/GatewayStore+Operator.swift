import Foundation
import GRDB

// Read-only queries the operator's verbs need beyond the ledger's own (`jobs`, `jobStory`, `quarantine`,
// `status`, `conflicts`). Kept in their own file so the pipeline's store code can change without them.
extension GatewayStore {
    /// Batches by id, for listings that show each job's or conflict's file name; unknown ids are left out.
    public func batches(ids: some Collection<Int64>) throws -> [Int64: BatchRecord] {
        let unique = Array(Set(ids))
        if unique.isEmpty { return [:] }
        return try database.read { db in
            var result: [Int64: BatchRecord] = [:]
            // SQLite caps bound parameters (32766 in current builds); chunks keep a long listing under it.
            for start in stride(from: 0, to: unique.count, by: 500) {
                let chunk = Array(unique[start..<min(start + 500, unique.count)])
                let rows = try BatchRecord.fetchAll(
                    db, sql: "SELECT * FROM batch WHERE id IN (\(storeQuestionMarks(count: chunk.count)))",
                    arguments: StoreArguments(chunk))
                for batch in rows { result[batch.id] = batch }
            }
            return result
        }
    }

    /// The jobs about each of these batches, oldest first, so a listing of batches (archive members,
    /// conflicts) can name the job an operator would `jobs show`.
    public func jobs(forBatches batchIds: some Collection<Int64>) throws -> [Int64: [JobRecord]] {
        let unique = Array(Set(batchIds))
        if unique.isEmpty { return [:] }
        return try database.read { db in
            var result: [Int64: [JobRecord]] = [:]
            for start in stride(from: 0, to: unique.count, by: 500) {
                let chunk = Array(unique[start..<min(start + 500, unique.count)])
                let rows = try JobRecord.fetchAll(
                    db,
                    sql: "SELECT * FROM job WHERE batch_id IN (\(storeQuestionMarks(count: chunk.count))) ORDER BY id",
                    arguments: StoreArguments(chunk))
                for job in rows { result[job.batchId!, default: []].append(job) }
            }
            return result
        }
    }
}
