import Foundation
import GRDB
import GRDBSQLite
import Jobs
import SplitMix
import Testing

@testable import Gateway

// The store against real SQLite files and real directories in fresh temporary folders.

/// A fresh temporary directory per test, removed when the value goes away.
final class StoreTempDir {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("store-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    var databasePath: String { path + "/ledger.sqlite" }
}

/// Fixed instants, so no test depends on the clock.
private let t0 = Date(timeIntervalSince1970: 1_750_000_000)
private func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

private func digest(_ text: String) throws -> SHA256Digest { try SHA256Digest.hash(Array(text.utf8)) }

private func intake(
    _ content: String, partner: String = "carrier-a", name: String = "manifest.edi", ref: String? = nil,
    sender: String? = "CARRIERA", job: Bool = true
) throws -> IntakeRecord {
    IntakeRecord(
        partner: partner, originalName: name, size: Int64(content.utf8.count), mtime: at(-5),
        digest: try digest(content), interchangeRef: ref, senderId: sender, receivedAt: t0,
        jobOnNew: job ? JobRequest(kind: "process", partner: partner) : nil,
        jobOnConflict: job ? JobRequest(kind: "reject-conflict", partner: partner) : nil)
}

@Suite("Store: SHA-256 and the raw store")
struct RawStoreTests {
    @Test("SHA-256 of \"abc\" is the FIPS 180-2 vector")
    func knownVector() throws {
        #expect(try digest("abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(try digest("").hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Digest(hex: "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD") == (try digest("abc")))
        #expect(SHA256Digest(hex: "../etc/passwd") == nil)
    }

    @Test("put and open round-trip; a multi-chunk file hashes like the same bytes in memory")
    func roundTrip() throws {
        let dir = try StoreTempDir()
        let store = try RawStore(root: dir.path + "/raw")
        let bytes = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }  // > 3 chunks
        let source = dir.path + "/drop.edi"
        _ = FileManager.default.createFile(atPath: source, contents: Data(bytes))
        let object = try store.put(fileAt: source)
        #expect(object.created)
        #expect(object.size == 200_000)
        #expect(object.digest == (try SHA256Digest.hash(bytes)))
        #expect(object.path.hasSuffix("/sha256/\(object.digest.hex.prefix(2))/\(object.digest.hex)"))
        #expect(object.path == store.path(for: object.digest))
        #expect(try store.open(object.digest).readAll() == bytes)
        #expect(store.contains(object.digest))
    }

    @Test("opening a store creates its 256 fan-out directories once; reopening keeps its objects")
    func fanOut() throws {
        let dir = try StoreTempDir()
        let store = try RawStore(root: dir.path + "/raw")
        let shards = try FileManager.default.contentsOfDirectory(atPath: dir.path + "/raw/sha256").sorted()
        #expect(shards.count == 256)
        #expect(shards.first == "00" && shards.last == "ff")
        let object = try store.put(bytes: Array("UNB+UNOA:2+A+B+250101:1200+7'".utf8))
        // A put creates no directory: the object lands in its existing fan-out directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/raw/sha256").count == 256)
        let reopened = try RawStore(root: dir.path + "/raw")
        #expect(reopened.contains(object.digest))
        #expect(try reopened.open(object.digest).readAll() == Array("UNB+UNOA:2+A+B+250101:1200+7'".utf8))
    }

    @Test("putting the same bytes twice is idempotent and leaves no temporaries")
    func idempotent() throws {
        let dir = try StoreTempDir()
        let store = try RawStore(root: dir.path + "/raw")
        let first = try store.put(bytes: Array("UNB+UNOA:2+A+B+250101:1200+1'".utf8))
        let second = try store.put(bytes: Array("UNB+UNOA:2+A+B+250101:1200+1'".utf8))
        #expect(first.created && !second.created)
        #expect(first.digest == second.digest && first.path == second.path)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/raw/tmp").isEmpty)
    }

    @Test("a file stored twice: the second put writes a temporary, finds the object there and keeps it as it was")
    func fileStoredTwice() throws {
        let dir = try StoreTempDir()
        let store = try RawStore(root: dir.path + "/raw")
        let source = dir.path + "/drop.edi"
        _ = FileManager.default.createFile(atPath: source, contents: Data("UNB+UNOA:2+A+B+250101:1200+2'".utf8))
        let first = try store.put(fileAt: source)
        func inode() -> UInt64? {
            var info = stat()
            return stat(first.path, &info) == 0 ? UInt64(info.st_ino) : nil
        }
        let before = try #require(inode())
        // put(fileAt:) learns the digest only as it writes: it is the rename that never replaces which finds the object.
        let second = try store.put(fileAt: source)
        #expect(first.created && !second.created)
        #expect(second.path == first.path && second.size == first.size)
        #expect(inode() == before, "the stored object is not replaced")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/raw/tmp").isEmpty)
    }

    @Test("a fan-out directory an operator removed is made again by the next put into it")
    func removedFanOut() throws {
        let dir = try StoreTempDir()
        let store = try RawStore(root: dir.path + "/raw")
        let content = Array("UNB+UNOA:2+A+B+250101:1200+3'".utf8)
        let shard = dir.path + "/raw/sha256/" + (try SHA256Digest.hash(content)).hex.prefix(2)
        try FileManager.default.removeItem(atPath: shard)
        let object = try store.put(bytes: content)
        #expect(object.created && object.path.hasPrefix(shard + "/"))
        #expect(try store.open(object.digest).readAll() == content)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/raw/tmp").isEmpty)
    }

    @Test("publishing into a pickup: a missing directory is made; a name already taken is never replaced nor left a temporary")
    func publishIntoPickup() throws {
        let dir = try StoreTempDir()
        let pickup = dir.path + "/partners/CUSTOMS/pickup"
        #expect(try FileOps.publish(Array("first".utf8), directory: pickup, name: "COPY-1.edi"))
        #expect(FileManager.default.contents(atPath: pickup + "/COPY-1.edi") == Data("first".utf8))
        // The partner's own file (or an earlier delivery) under the name: untouched, and the answer is false.
        #expect(try FileOps.publish(Array("second".utf8), directory: pickup, name: "COPY-1.edi") == false)
        #expect(FileManager.default.contents(atPath: pickup + "/COPY-1.edi") == Data("first".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: pickup) == ["COPY-1.edi"], "no temporary left behind")
        // A directory that cannot be made (a file is in the way) is an error that names the path, not a crash.
        _ = FileManager.default.createFile(atPath: dir.path + "/partners/MSA", contents: Data("in the way".utf8))
        do {
            _ = try FileOps.publish(Array("x".utf8), directory: dir.path + "/partners/MSA/pickup", name: "C.xml")
            Issue.record("a pickup under a file was published into")
        } catch {
            #expect(error.path.hasPrefix(dir.path + "/partners/MSA/pickup/") && error.message.contains("Not a directory"), "\(error)")
        }
    }

    @Test("a crash between temporary write and rename leaves no visible object; a later put succeeds")
    func crashBeforeRename() throws {
        let dir = try StoreTempDir()
        let store = try RawStore(root: dir.path + "/raw")
        let content = Array("half of what a crashed put wrote".utf8)
        let hash = try SHA256Digest.hash(content)
        // What a put killed before rename leaves behind: the full bytes under a temporary name (named by the
        // writer's pid: here one that cannot be running), and a young put of a live writer (our own pid).
        let leftover = dir.path + "/raw/tmp/\(Int32.max)-1-dead.part"
        _ = FileManager.default.createFile(atPath: leftover, contents: Data(content))
        let inFlight = dir.path + "/raw/tmp/\(getpid())-99-live.part"
        _ = FileManager.default.createFile(atPath: inFlight, contents: Data(content))
        #expect(!store.contains(hash))
        #expect(throws: RawStoreError.self) { try store.open(hash) }
        do { _ = try store.open(hash) } catch { #expect(error.code == .notFound) }
        let object = try store.put(bytes: content)
        #expect(object.created && object.digest == hash)
        #expect(try store.open(hash).readAll() == content)
        // Start-up sweep: a temporary whose writer is gone goes at once; a live writer's young one is spared
        // until it is older than the threshold.
        let now = Date().timeIntervalSince1970
        #expect(try store.removeStaleTemporaries(olderThanSeconds: 3600, now: now) == 1)
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(FileManager.default.fileExists(atPath: inFlight))
        #expect(try store.removeStaleTemporaries(olderThanSeconds: 0, now: now + 1) == 1)
        #expect(!FileManager.default.fileExists(atPath: inFlight))
    }

    @Test("errors carry a stable code, the path and errno text")
    func errors() throws {
        let dir = try StoreTempDir()
        let store = try RawStore(root: dir.path + "/raw")
        do {
            _ = try store.put(fileAt: dir.path + "/missing.edi")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .io)
            #expect(error.path == dir.path + "/missing.edi")
            #expect(error.errnoText == "No such file or directory")
            #expect(error.description.contains("cannot open"))
        }
    }
}

/// Inserts `count` due jobs in one transaction (synchronous, so it can be called from async tests).
private func seedJobs(_ store: GatewayStore, count: Int) throws {
    try store.write { db in
        for i in 0..<count {
            try db.execute(
                sql: """
                    INSERT INTO job (kind, state, max_attempts, next_run_at, created_at, updated_at, partner)
                    VALUES ('process', 'queued', 3, ?, ?, ?, ?)
                    """, arguments: [t0, t0, t0, "p\(i % 3)"])
        }
    }
}

@Suite("Store: the ledger")
struct GatewayStoreTests {
    @Test("migrations apply, are named, and reopening is idempotent", arguments: StoreKind.underTest)
    func migrations(_ kind: StoreKind) throws {
        let dir = try TestStore(kind)
        let first = try dir.open()
        #expect(try first.appliedMigrations() == ["v1_intake", "v1_jobs", "v2_claims", "v3_signatures", "v4_collected", "v5_manifests", "v6_routing", "v7_instructions", "v8_terminal_notices", "v9_sweep_time", "v10_check_comparisons"])
        let second = try dir.open()
        #expect(try second.appliedMigrations() == ["v1_intake", "v1_jobs", "v2_claims", "v3_signatures", "v4_collected", "v5_manifests", "v6_routing", "v7_instructions", "v8_terminal_notices", "v9_sweep_time", "v10_check_comparisons"])
        guard kind == .sqlite else { return }
        let (journal, synchronous) = try second.pool.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(journal == "wal")
        #expect(synchronous == 2)  // FULL
        // The writer is the connection that commits: GRDB sets it to NORMAL when it enables WAL; the store resets it.
        let writerSynchronous = try second.pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(writerSynchronous == 2)  // FULL: every commit fsyncs the WAL
    }

    @Test("the same claim recorded again (crash recovery) returns its first outcome and records nothing new", arguments: StoreKind.underTest)
    func sameClaimIsRecordedOnce(_ kind: StoreKind) throws {
        let dir = try TestStore(kind)
        let store = try dir.open()
        func claimed(_ text: String, ref: String, claim: String) throws -> IntakeRecord {
            var record = try intake(text, ref: ref)
            record.claim = claim
            return record
        }
        let first = try store.recordIntake(try claimed("interchange 1", ref: "REF1", claim: "c1"))
        guard case .new(let batchId, _) = first else { Issue.record("\(first)"); return }
        #expect(try store.recordIntake(try claimed("interchange 1", ref: "REF1", claim: "c1")) == .new(batchId: batchId, jobId: nil))

        let replay = try store.recordIntake(try claimed("interchange 1", ref: "REF1", claim: "c2"))
        #expect(replay == .identicalReplay(existingBatchId: batchId, jobId: nil))
        #expect(try store.recordIntake(try claimed("interchange 1", ref: "REF1", claim: "c2")) == replay)

        let conflict = try store.recordIntake(try claimed("interchange 1 (edited)", ref: "REF1", claim: "c3"))
        guard case .conflict(_, let conflictBatch, let conflictId, _) = conflict else { Issue.record("\(conflict)"); return }
        #expect(try store.recordIntake(try claimed("interchange 1 (edited)", ref: "REF1", claim: "c3"))
                == .conflict(existingBatchId: batchId, batchId: conflictBatch, conflictId: conflictId, jobId: nil))

        let (batches, replays, conflicts) = try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM batch")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM replay")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM conflict")!)
        }
        #expect((batches, replays, conflicts) == (2, 1, 1))
    }

    @Test("new, identical replay and conflict are told apart; the name is never the key", arguments: StoreKind.underTest)
    func classification(_ kind: StoreKind) throws {
        let dir = try TestStore(kind)
        let store = try dir.open()
        let first = try store.recordIntake(intake("interchange 1", ref: "REF1"))
        guard case .new(let batchId, let jobId?) = first else { Issue.record("\(first)"); return }
        #expect(try store.job(jobId)?.batchId == batchId)
        #expect(try store.job(jobId)?.state == .queued)

        // Same bytes under another name: replay, nothing new but the replay row.
        let replay = try store.recordIntake(intake("interchange 1", name: "renamed.edi", ref: "REF1"))
        #expect(replay == .identicalReplay(existingBatchId: batchId, jobId: nil))

        // Same reference, different bytes: a conflict batch and an operator-visible conflict.
        let conflict = try store.recordIntake(intake("interchange 1 (edited)", ref: "REF1"))
        guard case .conflict(let existing, let conflictBatch, let conflictId, let conflictJob?) = conflict else {
            Issue.record("\(conflict)"); return
        }
        #expect(existing == batchId)
        let conflicted = try #require(try store.batch(conflictBatch))
        #expect(conflicted.state == .conflict)
        #expect(conflicted.reason?.contains("code 26") == true)
        #expect(try store.conflicts().map(\.id) == [conflictId])
        #expect(try store.job(conflictJob)?.kind == "reject-conflict")
        // The conflicting bytes replayed again are an identical replay of the conflict batch.
        #expect(try store.recordIntake(intake("interchange 1 (edited)", ref: "REF1")).batchId == conflictBatch)

        // Same reference from another sender, or another partner: new.
        guard case .new = try store.recordIntake(intake("other sender", ref: "REF1", sender: "OTHER")) else {
            Issue.record("expected new"); return
        }
        guard case .new = try store.recordIntake(intake("interchange 1", partner: "carrier-b", ref: "REF1")) else {
            Issue.record("expected new for another partner"); return
        }
        let story = try #require(try store.jobStory(jobId))
        #expect(story.replayCount == 1)
        #expect(story.batch?.sha256 == (try digest("interchange 1")).hex)
        #expect(try store.jobs().count == 4)
    }

    @Test("the schema itself refuses a second accepted interchange with the same reference", arguments: StoreKind.underTest)
    func schemaInvariants(_ kind: StoreKind) throws {
        let dir = try TestStore(kind)
        let store = try dir.open()
        _ = try store.recordIntake(intake("a", ref: "R"))
        #expect(throws: (any Error).self) {
            try store.write { db in
                try db.execute(sql: """
                    INSERT INTO batch (partner, original_name, size, sha256, interchange_ref, sender_id, received_at,
                                       state, updated_at)
                    VALUES ('carrier-a', 'x', 1, ?, 'R', 'CARRIERA', '2025-01-01', 'received', '2025-01-01')
                    """, arguments: [String(repeating: "0", count: 64)])
            }
        }
        #expect(throws: (any Error).self) {
            try store.write { db in try db.execute(sql: "DELETE FROM job_event") }
        }
        #expect(throws: (any Error).self) {
            try store.write { db in try db.execute(sql: "UPDATE batch SET sha256 = ?", arguments: [String(repeating: "1", count: 64)]) }
        }
    }

    @Test("archive members are their own batches linked to the archive, in one transaction", arguments: StoreKind.underTest)
    func archiveMembers(_ kind: StoreKind) throws {
        let dir = try TestStore(kind)
        let store = try dir.open()
        let archive = try store.recordIntake(intake("zip bytes", name: "batch.zip", sender: nil))
        var m1 = try intake("member one", name: "batch.zip", ref: "M1")
        m1.memberName = "one.edi"
        var m2 = try intake("member two", name: "batch.zip", ref: "M2")
        m2.memberName = "two.edi"
        let outcomes = try store.recordMembers([m1, m2], of: archive.batchId, now: at(1))
        #expect(outcomes.count == 2)
        let members = try store.members(of: archive.batchId)
        #expect(members.map(\.memberName) == ["one.edi", "two.edi"])
        #expect(members.allSatisfy { $0.parentBatchId == archive.batchId })
        #expect(try store.batch(archive.batchId)?.state == .unpacked)
        let memberJob = try #require(outcomes[0].jobId)
        let story = try #require(try store.jobStory(memberJob))
        #expect(story.parentBatch?.id == archive.batchId)
        // A member of another partner's archive is refused by the schema.
        var foreign = try intake("member three", partner: "carrier-b", ref: "M3")
        foreign.memberName = "three.edi"
        #expect(throws: (any Error).self) { try store.recordMembers([foreign], of: archive.batchId, now: at(2)) }
        #expect(try store.members(of: archive.batchId).count == 2)  // the whole unit rolled back
    }

    @Test("two store instances claiming from several tasks never get the same job", arguments: StoreKind.underTest)
    func exclusiveClaim(_ kind: StoreKind) async throws {
        let dir = try TestStore(kind)
        let a = try dir.open()
        let b = try dir.open()
        let total = 300
        try seedJobs(a, count: total)
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for worker in 0..<6 {
                let store = worker.isMultiple(of: 2) ? a : b
                group.addTask {
                    var mine: [Int64] = []
                    while let job = try store.claimNextJob(now: at(1), leaseOwner: "w\(worker)", leaseSeconds: 60) {
                        mine.append(job.id)
                        try store.complete(job.id, leaseOwner: "w\(worker)", output: #"{"ok":true}"#, now: at(2))
                        await Task.yield()
                    }
                    return mine
                }
            }
            var all: [[Int64]] = []
            for try await ids in group { all.append(ids) }
            return all
        }
        let flat = claimed.flatMap { $0 }
        #expect(flat.count == total)
        #expect(Set(flat).count == total)
        #expect(claimed.filter { !$0.isEmpty }.count > 1)  // work really was shared
        #expect(try a.jobs(state: .succeeded, limit: 10_000).count == total)
        #expect(try a.jobs(state: .succeeded, limit: 10_000).allSatisfy { $0.attempts == 1 })
    }

    @Test("transient failures retry with backoff until attempts run out; permanent and quarantine are immediate", arguments: StoreKind.underTest)
    func retries(_ kind: StoreKind) throws {
        let dir = try TestStore(kind)
        let store = try dir.open()
        let retry = RetryStrategy(maxAttempts: 3, initialDelaySeconds: 10, multiplier: 2, maxDelaySeconds: 300)
        let id = try store.enqueue(JobRequest(kind: "deliver", partner: "customs", retry: retry), now: t0)

        var job = try #require(try store.claimNextJob(now: at(0), leaseOwner: "w", leaseSeconds: 30))
        #expect(try store.fail(id, leaseOwner: "w", code: "io.enospc", message: "disk full", retry: retry, now: at(1)) == .retrying)
        #expect(try store.job(id)?.nextRunAt == at(11))
        #expect(try store.claimNextJob(now: at(10), leaseOwner: "w", leaseSeconds: 30) == nil)  // not due yet
        job = try #require(try store.claimNextJob(now: at(11), leaseOwner: "w", leaseSeconds: 30))
        #expect(job.attempts == 2)
        #expect(try store.fail(id, leaseOwner: "w", code: "io.enospc", message: "disk full", retry: retry, now: at(12)) == .retrying)
        #expect(try store.job(id)?.nextRunAt == at(32))
        _ = try #require(try store.claimNextJob(now: at(32), leaseOwner: "w", leaseSeconds: 30))
        #expect(try store.fail(id, leaseOwner: "w", code: "io.enospc", message: "disk full", retry: retry, now: at(33)) == .failed)
        let failed = try #require(try store.job(id))
        #expect(failed.errorCode == "io.enospc" && failed.attempts == 3)
        #expect(try store.claimNextJob(now: at(1000), leaseOwner: "w", leaseSeconds: 30) == nil)
        #expect(try store.jobs(state: .failed, partner: "customs").map(\.id) == [id])

        // Operator rerun: back to queued with a fresh budget, history kept.
        try store.rerun(id, now: at(2000))
        #expect(try store.job(id)?.state == .queued)
        let story = try #require(try store.jobStory(id))
        #expect(story.events.map(\.toState) == ["queued", "running", "retrying", "running", "retrying", "running", "failed", "queued"])

        // Permanent and quarantine skip the retries.
        let bad = try store.enqueue(JobRequest(kind: "process", partner: "carrier-a"), now: t0)
        let bad2 = try store.enqueue(JobRequest(kind: "process", partner: "carrier-a"), now: t0)
        _ = try store.claimNextJob(kinds: ["process"], now: at(2001), leaseOwner: "w", leaseSeconds: 30)
        #expect(try store.fail(bad, leaseOwner: "w", code: "edifact.syntax", message: "UNZ missing", disposition: .quarantine, now: at(2002)) == .quarantined)
        _ = try store.claimNextJob(kinds: ["process"], now: at(2003), leaseOwner: "w", leaseSeconds: 30)
        #expect(try store.fail(bad2, leaseOwner: "w", code: "config.partner", message: "unknown partner", disposition: .permanent, now: at(2004)) == .failed)
        #expect(try store.quarantine().map(\.job.id) == [bad])
        // A worker that lost its lease cannot overwrite the outcome.
        #expect(throws: StoreError.self) { try store.complete(bad, leaseOwner: "w", now: at(2005)) }

        let status = try store.status(startOfDay: t0)
        let carrier = try #require(status.first { $0.partner == "carrier-a" })
        #expect(carrier.quarantined == 1 && carrier.failed == 1 && carrier.waiting == 0)
        let customs = try #require(status.first { $0.partner == "customs" })
        #expect(customs.waiting == 1 && customs.oldestWaiting == t0)
    }

    @Test("a job left running by a crash is requeued once its lease expires, with a history entry", arguments: StoreKind.underTest)
    func leaseExpiry(_ kind: StoreKind) throws {
        let dir = try TestStore(kind)
        let store = try dir.open()
        let id = try store.enqueue(JobRequest(kind: "process", partner: "carrier-a"), now: t0)
        _ = try #require(try store.claimNextJob(now: at(0), leaseOwner: "crashed-worker", leaseSeconds: 60))
        // The process "dies"; a fresh instance starts on the same file.
        let restarted = try dir.open()
        #expect(try restarted.requeueExpiredLeases(now: at(59)) == [])
        #expect(try restarted.requeueExpiredLeases(now: at(60)) == [id])
        let job = try #require(try restarted.job(id))
        #expect(job.state == .queued && job.leaseOwner == nil && job.attempts == 1)
        let last = try #require(try restarted.jobStory(id)?.events.last)
        #expect(last.fromState == "running" && last.toState == "queued")
        #expect(last.message?.contains("crash recovery") == true)
        // The old worker, if it comes back, has lost the job.
        #expect(throws: StoreError.self) { try restarted.complete(id, leaseOwner: "crashed-worker", now: at(61)) }
        let again = try #require(try restarted.claimNextJob(now: at(61), leaseOwner: "new", leaseSeconds: 60))
        #expect(again.id == id && again.attempts == 2)
    }

    @Test("a receipt of each kind is recorded once per batch; a rerun gets the existing one", arguments: StoreKind.underTest)
    func receiptUniqueness(_ kind: StoreKind) throws {
        let dir = try TestStore(kind)
        let store = try dir.open()
        let batch = try store.recordIntake(intake("x", ref: "R9")).batchId
        let hash = try digest("CONTRL bytes")
        let first = try store.recordReceipt(batchId: batch, kind: .contrl, fileName: "CONTRL_1.edi", digest: hash, writtenAt: at(1))
        let second = try store.recordReceipt(batchId: batch, kind: .contrl, fileName: "CONTRL_2.edi", digest: hash, writtenAt: at(2))
        #expect(first.created && !second.created)
        #expect(second.receipt == first.receipt)
        #expect(second.receipt.fileName == "CONTRL_1.edi")
        let aperak = try store.recordReceipt(batchId: batch, kind: .aperak, fileName: "APERAK_1.edi", digest: hash, writtenAt: at(3))
        #expect(aperak.created)
        #expect(try store.receipt(batchId: batch, kind: .contrl)?.id == first.receipt.id)
        #expect(throws: (any Error).self) {
            try store.write { db in try db.execute(sql: "DELETE FROM receipt") }
        }
    }

    @Test("idempotency keys make enqueue safe to repeat", arguments: StoreKind.underTest)
    func idempotentEnqueue(_ kind: StoreKind) throws {
        let dir = try TestStore(kind)
        let store = try dir.open()
        let one = try store.enqueue(JobRequest(kind: "pickup", partner: "carrier-a", idempotencyKey: "pickup:carrier-a:0900"), now: t0)
        let two = try store.enqueue(JobRequest(kind: "pickup", partner: "carrier-a", idempotencyKey: "pickup:carrier-a:0900"), now: t0)
        #expect(one == two)
        #expect(try store.jobs().count == 1)
    }

    @Test("a chunk's job history is written at its commit, in order; a job whose commit is undone leaves none of its own", arguments: StoreKind.underTest)
    func historyOfAChunk(_ kind: StoreKind) throws {
        let dir = try TestStore(kind)
        let store = try dir.open()
        // 601 jobs: leased in two UPDATEs (500 a statement), each with its history row.
        for i in 0..<601 { _ = try store.enqueue(JobRequest(kind: "deliver", partner: "customs", idempotencyKey: "d\(i)"), now: t0) }
        let leased = try store.claimDueJobs(kinds: ["deliver"], limit: 1000, now: at(1), leaseOwner: "node-a", leaseSeconds: 60)
        #expect(leased.count == 601)
        #expect(leased.allSatisfy { $0.state == .running && $0.attempts == 1 && $0.leaseOwner == "node-a" })
        #expect(try store.jobs().allSatisfy { $0.state == .running && $0.attempts == 1 && $0.leaseOwner == "node-a" })
        // The second job's commit is refused (not its lease): what it enqueued and its history go with it.
        let (a, b, c) = (leased[0].id, leased[1].id, leased[2].id)
        let outcomes = try store.commit([
            JobCommit(jobId: a, leaseOwner: "node-a", result: .succeeded(output: nil),
                      enqueue: [JobRequest(kind: "deliver", partner: "ciq", idempotencyKey: "from-a")]),
            JobCommit(jobId: b, leaseOwner: "node-b", result: .succeeded(output: nil),
                      enqueue: [JobRequest(kind: "deliver", partner: "ciq", idempotencyKey: "from-b")]),
            JobCommit(jobId: c, leaseOwner: "node-a", result: .succeeded(output: nil)),
        ], now: at(2))
        #expect(outcomes.map(\.state) == [.succeeded, nil, .succeeded])
        func story(_ id: Int64) throws -> [String] {
            try #require(try store.jobStory(id)).events.map { "\($0.fromState ?? "-")>\($0.toState)" }
        }
        #expect(try story(a) == ["->queued", "queued>running", "running>succeeded"])
        #expect(try story(b) == ["->queued", "queued>running"])
        #expect(try story(c) == ["->queued", "queued>running", "running>succeeded"])
        let enqueued = try store.jobs().filter { $0.idempotencyKey?.hasPrefix("from-") == true }
        #expect(enqueued.map(\.idempotencyKey) == ["from-a"])
        #expect(try story(enqueued[0].id) == ["->queued"])
        // Enqueued again under the same key (a rerun): the same job, no second history row.
        let again = try store.commit([JobCommit(jobId: c, leaseOwner: "node-a", result: .succeeded(output: nil))], now: at(3))
        #expect(again[0].state == nil)  // c is no longer running
        #expect(try store.enqueue(JobRequest(kind: "deliver", partner: "ciq", idempotencyKey: "from-a"), now: at(4)) == enqueued[0].id)
        #expect(try story(enqueued[0].id) == ["->queued"])
        // History rows in the order they happened: each job's are in time order, and ids follow the times.
        let events = try (a...c).flatMap { try #require(try store.jobStory($0)).events }
        for (earlier, later) in zip(events, events.dropFirst()) where earlier.jobId == later.jobId {
            #expect(earlier.id < later.id && earlier.at <= later.at)
        }
    }
}

@Suite("Store: dates as stored")
struct StoreDateTests {
    /// Stored dates are compared as text (`next_run_at <= ?`), so the store's own writer must give GRDB's text
    /// exactly, including how the milliseconds are cut: a date one writer rounds and the other truncates would
    /// make a due job wait, or a waiting one due.
    @Test("the store writes a date as GRDB does, to the millisecond, across the years 1600 to 9999")
    func sameTextAsGRDB() throws {
        var generator = SplitMix64(state: 9735)
        var instants: [Double] = [0, -0.0005, -0.001, 0.0009999, 0.001, 1_750_000_000.9995, 1_750_000_000.999_999_9,
                                  951_782_400, 951_868_799.999, 4_107_542_400, -11_676_096_000, 253_402_300_799.999, -1]
        // Whole and half milliseconds, and the doubles next to them, where a rounding writer and a truncating one part.
        for _ in 0..<200_000 {
            let ms = Double(generator.next() % 8_000_000_000_000) - 1_000_000_000_000
            for t in [ms / 1000, (ms + 0.5) / 1000, (ms / 1000).nextUp, (ms / 1000).nextDown] { instants.append(t) }
        }
        // Any instant from year 1600 to 9999.
        for _ in 0..<200_000 {
            instants.append(Double(generator.next() % 265_078_396_800_000) / 1000 - 11_676_096_000 + Double(generator.next() % 1000) / 1e6)
        }
        var compared = 0
        for t in instants {
            let date = Date(timeIntervalSince1970: t)
            guard let ours = StoreDate.text(date) else { Issue.record("no text for \(t)"); continue }
            let grdb = String.fromDatabaseValue(date.databaseValue)
            if ours != grdb { Issue.record("\(t): store wrote \(ours), GRDB \(grdb ?? "nil")") }
            compared += 1
        }
        #expect(compared == instants.count)
        #expect(StoreDate.text(Date(timeIntervalSince1970: 1_750_000_000.25)) == "2025-06-15 15:06:40.250")
        // Outside years 1600 to 9999, GRDB writes it.
        let julian = Date(timeIntervalSince1970: -48_395_506_040.5651)
        #expect(StoreDate.text(julian) == nil)
        #expect(StoreDate.databaseValue(julian) == julian.databaseValue)
        let year10000 = Date(timeIntervalSince1970: 253_402_300_800)
        #expect(StoreDate.text(year10000) == nil)
        #expect(StoreDate.databaseValue(year10000) == year10000.databaseValue)
    }
}

@Suite("Store: data statements run on SQLite's C API")
struct StoreDirectStatementTests {
    /// INSERT, UPDATE and DELETE run on statements prepared once per transaction (`StoreConnection.runDirect`),
    /// outside GRDB. A statement that fails must give GRDB's error, leave the transaction usable (the savepoint
    /// undoes its part alone), and run again with other values; what others run (SELECT, PRAGMA) stays GRDB's.
    @Test("a failing statement is GRDB's error, undone alone, and the same statement then runs; the rest commits")
    func failureAndReuse() throws {
        let dir = try StoreTempDir()
        let store = try GatewayStore(path: dir.databasePath)
        let sql = "INSERT INTO job (kind, state, max_attempts, next_run_at, created_at, updated_at) VALUES (?, 'queued', 1, ?, ?, ?)"
        let (refused, changes) = try store.write { db -> (DatabaseError?, [Int]) in
            var refused: DatabaseError?
            var changes: [Int] = []
            try db.execute(sql: sql, arguments: ["first", t0, t0, t0])
            changes.append(db.changes())
            do {
                try db.inSavepoint {
                    try db.execute(sql: sql, arguments: ["second", t0, t0, t0])
                    try db.execute(sql: sql, arguments: ["", t0, t0, t0])  // CHECK (kind <> '')
                    return .commit
                }
            } catch let error as DatabaseError {
                refused = error
            }
            try db.execute(sql: sql, arguments: ["third", t0, t0, t0])
            changes.append(db.changes())
            try db.execute(sql: "UPDATE job SET partner = ? WHERE kind IN ('first', 'third')", arguments: ["carrier-a"])
            changes.append(db.changes())
            try db.execute(sql: "DELETE FROM job WHERE kind = ?", arguments: ["nothing"])
            changes.append(db.changes())
            return (refused, changes)
        }
        #expect(refused?.resultCode == .SQLITE_CONSTRAINT, "\(String(describing: refused))")
        #expect(refused?.sql == sql)
        #expect(changes == [1, 1, 2, 0])
        let kinds = try store.read { db in try String.fetchAll(db, sql: "SELECT kind || ':' || coalesce(partner, '') FROM job ORDER BY id") }
        #expect(kinds == ["first:carrier-a", "third:carrier-a"])
        #expect(StoreConnection.isDataStatement("\n  insert into x values (1)"))
        #expect(!StoreConnection.isDataStatement("SELECT 1") && !StoreConnection.isDataStatement("PRAGMA user_version = 1"))
    }

    @Test("after SQLite rolled the transaction back on its own, no statement, row insert or job history commits alone")
    func nothingAfterTheTransactionIsGone() throws {
        let dir = try StoreTempDir()
        let store = try GatewayStore(path: dir.databasePath)
        let id = try store.enqueue(JobRequest(kind: "deliver", partner: "customs"), now: t0)
        let sql = "INSERT INTO job (kind, state, max_attempts, next_run_at, created_at, updated_at) VALUES (?, 'queued', 1, ?, ?, ?)"
        var refused: [Int32] = []
        #expect(throws: (any Error).self) {
            try store.write { db in
                try db.execute(sql: sql, arguments: ["before", t0, t0, t0])
                try GatewayStore.appendEvent(id, from: .queued, to: .queued, at: t0, message: "pending", db)
                let raw = try RawInsert(db, sql: sql)
                // What SQLite does on SQLITE_FULL or an I/O error in a transaction: it rolls it back.
                _ = sqlite3_exec(db.sqlite!.sqliteConnection, "ROLLBACK", nil, nil, nil)
                for attempt in [
                    { try db.execute(sql: sql, arguments: ["after", t0, t0, t0]) },
                    { raw.bind("raw"); raw.bind(t0); raw.bind(t0); raw.bind(t0); try raw.run() },
                ] {
                    do { try attempt() } catch let error as DatabaseError { refused.append(error.resultCode.rawValue) }
                }
            }
        }
        #expect(refused == [SQLITE_ABORT, SQLITE_ABORT])  // and the pending history makes the write fail
        let kinds = try store.read { db in try String.fetchAll(db, sql: "SELECT kind FROM job ORDER BY id") }
        #expect(kinds == ["deliver"])
        #expect(try store.jobStory(id)?.events.count == 1)
    }
}

@Suite("Store: v10, CHECK lists as comparisons")
struct CheckComparisonsMigrationTests {
    @Test("constant lists become comparisons with the same verdict; subqueries and other text are left alone")
    func rewrite() throws {
        #expect(StoreSchema.checkComparisons("state TEXT CHECK (state IN ('a', 'b', 'c'))") == "state TEXT CHECK ((state = 'a' OR state = 'b' OR state = 'c'))")
        #expect(StoreSchema.checkComparisons("CHECK (state NOT IN ('x','y') OR reason IS NOT NULL)")
            == "CHECK ((state <> 'x' AND state <> 'y') OR reason IS NOT NULL)")
        #expect(StoreSchema.checkComparisons("signed INTEGER CHECK (signed IN (0, 1))") == "signed INTEGER CHECK ((signed = 0 OR signed = 1))")
        for untouched in ["WHERE c.id IN (SELECT consignment_id FROM container_use WHERE container = ?1) AND name <> 'IN (1)'",
                          "CHECK (v IN ('it''s', 'b'))", "CHECK (v IN ('a', b))", "CHECK (v IN ('a'", " IN ('a', 'b')", "v IN ()"] {
            #expect(StoreSchema.checkComparisons(untouched) == untouched)
        }
        #expect(StoreSchema.checkComparisons("a IN (1,-2) AND b NOT IN ('x')") == "(a = 1 OR a = -2) AND (b <> 'x')")
        // The same verdict as the list for every value, NULL included (SQLite decides both).
        let db = try DatabaseQueue()
        for value in ["'a'", "'c'", "'z'", "''", "NULL", "1"] {
            for (list, comparisons) in [("v IN ('a', 'b', 'c')", "(v = 'a' OR v = 'b' OR v = 'c')"),
                                        ("v NOT IN ('a', 'b', 'c')", "(v <> 'a' AND v <> 'b' AND v <> 'c')")] {
                #expect(StoreSchema.checkComparisons(list) == comparisons)
                let row = try db.read { db in
                    try Row.fetchOne(db, sql: "SELECT \(list.replacingOccurrences(of: "v ", with: "\(value) ")) AS a, "
                                     + "\(comparisons.replacingOccurrences(of: "v ", with: "\(value) ")) AS b")
                }
                #expect(row?["a"] as DatabaseValue? == row?["b"] as DatabaseValue?, "\(value) \(list)")
            }
        }
    }

    @Test("a ledger made before v10 keeps its rows, indexes, triggers and foreign keys, and its CHECKs still refuse")
    func upgrade() throws {
        let dir = try StoreTempDir()
        let old = try DatabasePool(path: dir.databasePath)
        try StoreSchema.migrator.migrate(old, upTo: "v9_sweep_time")
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO batch (id, partner, original_name, size, sha256, received_at, state, reason, updated_at)
                VALUES (1, 'CARRIERX', 'a.edi', 3, ?, ?, 'rejected', 'bad', ?);
                INSERT INTO job (id, kind, batch_id, state, max_attempts, next_run_at, created_at, updated_at, error_code)
                VALUES (7, 'process', 1, 'failed', 3, ?, ?, ?, 'edifact.syntax');
                INSERT INTO job_event (job_id, at, from_state, to_state) VALUES (7, ?, NULL, 'queued'), (7, ?, 'queued', 'failed');
                """, arguments: [String(repeating: "a", count: 64), t0, t0, t0, t0, t0, t0, t0])
        }
        let schemaBefore = try old.read { db in try Row.fetchAll(db, sql: "SELECT type, name FROM sqlite_schema ORDER BY type, name").map { "\($0["type"] as String) \($0["name"] as String)" } }
        try old.close()

        let store = try GatewayStore(path: dir.databasePath)
        #expect(try store.appliedMigrations().last == "v10_check_comparisons")
        try store.pool.read { db in
            let schemaAfter = try Row.fetchAll(db, sql: "SELECT type, name FROM sqlite_schema ORDER BY type, name").map { "\($0["type"] as String) \($0["name"] as String)" }
            #expect(schemaAfter == schemaBefore)
            #expect(try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE '% IN (''%'").isEmpty)
            #expect(try String.fetchOne(db, sql: "SELECT state || '/' || reason FROM batch") == "rejected/bad")
            #expect(try String.fetchOne(db, sql: "SELECT state || '/' || error_code FROM job WHERE id = 7") == "failed/edifact.syntax")
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM job_event WHERE job_id = 7") == 2)
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            #expect(try String.fetchAll(db, sql: "PRAGMA integrity_check") == ["ok"])
        }
        // No temporary b-tree is built for a job's INSERT any more.
        let opcodes = try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN INSERT INTO job (kind, state, max_attempts, next_run_at, created_at, updated_at) VALUES ('x', 'queued', 1, 0, 0, 0)")
                .map { $0["opcode"] as String }
        }
        #expect(opcodes.contains("Insert") && !opcodes.contains("OpenEphemeral"), "\(opcodes)")
        // The CHECKs, triggers and foreign keys as before.
        func refused(_ sql: String) -> Bool {
            do { try store.pool.write { db in try db.execute(sql: sql) }; return false } catch { return true }
        }
        #expect(refused("INSERT INTO job (kind, state, max_attempts, next_run_at, created_at, updated_at) VALUES ('x', 'lost', 1, 0, 0, 0)"))
        #expect(refused("INSERT INTO job (kind, state, max_attempts, next_run_at, created_at, updated_at) VALUES ('x', 'retrying', 1, 0, 0, 0)"))
        #expect(refused("INSERT INTO job_event (job_id, at, from_state, to_state) VALUES (7, 0, 'lost', 'queued')"))
        #expect(refused("INSERT INTO job_event (job_id, at, from_state, to_state) VALUES (99, 0, NULL, 'queued')"))
        #expect(refused("UPDATE job_event SET message = 'x' WHERE job_id = 7"))
        #expect(refused("UPDATE batch SET state = 'conflict', reason = NULL WHERE id = 1"))
        #expect(refused("UPDATE batch SET partner = 'OTHER' WHERE id = 1"))
        #expect(!refused("INSERT INTO job_event (job_id, at, from_state, to_state) VALUES (7, 0, NULL, 'retrying')"))
        #expect(!refused("UPDATE batch SET state = 'accepted' WHERE id = 1"))
        // A fresh ledger gets the same schema, text included, as the upgraded one.
        let fresh = try StoreTempDir()
        let new = try GatewayStore(path: fresh.databasePath)
        let schemaSQL = { (s: GatewayStore) in try s.pool.read { db in try String.fetchAll(db, sql: "SELECT coalesce(sql, name) FROM sqlite_schema ORDER BY name") } }
        #expect(try schemaSQL(new) == schemaSQL(store))
    }
}

@Suite("Store: the hot queries' plans")
struct SweepQueryTests {
    @Test("the sweep looks instructions' references up by index: it never walks the library's consignments or container uses")
    func sweepUsesIndexes() throws {
        let dir = try StoreTempDir()
        let store = try GatewayStore(path: dir.databasePath)
        let plan = try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + GatewayStore.sweepCandidatesSQL(silenced: [1, 2]), arguments: [0, 0])
                .map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.hasPrefix("SEARCH u USING INDEX container_use_container") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN u") || $0.hasPrefix("SCAN c") || $0.hasPrefix("SCAN consignment") }, "\(plan)")
    }

    @Test("duplicate interchange detection looks the partner, sender and reference up by index, not all the partner's batches")
    func duplicateInterchangeUsesIndex() throws {
        let dir = try StoreTempDir()
        let store = try GatewayStore(path: dir.databasePath)
        let plan = try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + GatewayStore.duplicateInterchangeSQL(.sqlite), arguments: ["p", "s", "r"])
                .map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("INDEX batch_interchange (partner=? AND <expr>=? AND interchange_ref=?)") }, "\(plan)")
    }

    @Test("a lease reads the due jobs in time order from job_due, with no sort; given ids, it looks them up by id")
    func leaseUsesDueIndex() throws {
        let dir = try StoreTempDir()
        let store = try GatewayStore(path: dir.databasePath)
        func plan(_ sql: String, _ arguments: StatementArguments) throws -> [String] {
            try store.pool.read { db in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String } }
        }
        let due = try plan(GatewayStore.dueJobsSQL(.sqlite, kinds: 1, ids: nil, partner: true), [t0, "deliver", "p", 10])
        #expect(due.contains { $0.contains("INDEX job_due (next_run_at<?)") } && !due.contains { $0.contains("TEMP B-TREE") }, "\(due)")
        let byId = try plan(GatewayStore.dueJobsSQL(.sqlite, kinds: nil, ids: 2, partner: false), [t0, 1, 2, 10])
        #expect(byId.contains { $0.contains("INTEGER PRIMARY KEY (rowid=?)") }, "\(byId)")
    }
}
