import Foundation
import Jobs
import Testing

@testable import Gateway

// The operator's read-side verbs end to end: a scratch spool whose ledger is written through the real
// `GatewayStore` API (as the pipeline writes it), then the real `gateway` executable, checked for what an
// operator sees: text, JSON, exit statuses and errors. Times are fixed, so listings are golden-tested.

/// Two partners; CUSTOMS never gets a job and its drop directory does not exist.
private let operatorConfig = runOnceConfig + """


    [[partner]]
    id = "CUSTOMS"
    role = "agency"
    identities = ["CUSTOMS:ZZZ"]
    drop = "partners/CUSTOMS/drop"
    pickup = "partners/CUSTOMS/pickup"
    patterns = ["*.edi"]
    readiness = { convention = "rename" }
    """

private let t0 = ConfigurationCheck.parseTimestamp("2025-01-31T08:00:00Z")!
private func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

/// The ids of what `OperatorLedger.make` recorded, for the tests to ask about.
private struct Ledger {
    let scratch: Scratch
    /// Accepted, CONTRL written, replayed once: succeeded.
    var accepted: Int64 = 0
    var acceptedBatch: Int64 = 0
    var acceptedBytes: [UInt8] = []
    /// Unreadable: quarantined.
    var quarantined: Int64 = 0
    /// Permanent failure.
    var failed: Int64 = 0
    /// Never claimed: queued.
    var waiting: Int64 = 0
    /// Same interchange reference as `accepted`, other bytes.
    var conflict: Int64 = 0
    var conflictId: Int64 = 0
    /// An archive's process job, and one member's.
    var archive: Int64 = 0
    var member: Int64 = 0

    func gateway(_ arguments: String...) throws -> CLIRun {
        try CLI.run(arguments + ["--config", "gateway.toml"], in: scratch.url)
    }

    var store: GatewayStore {
        get throws { try scratch.openStore() }
    }
}

private func request(_ kind: String = "process", input: String = #"{"step":"validate"}"#) -> JobRequest {
    JobRequest(kind: kind, partner: "CARRIERX", input: input, retry: RetryStrategy(maxAttempts: 3))
}

private func intake(_ name: String, _ bytes: [UInt8], at time: Date, reference: String? = nil) throws -> IntakeRecord {
    IntakeRecord(partner: "CARRIERX", originalName: name, size: Int64(bytes.count), digest: try SHA256Digest.hash(bytes),
                 interchangeRef: reference, senderId: reference == nil ? nil : "CARRIERX", receivedAt: time,
                 claim: "claim-\(name)", jobOnNew: request(), jobOnConflict: request("reject"))
}

/// Builds the scratch spool and its ledger: every state an operator meets.
private func makeLedger() throws -> Ledger {
    let scratch = try Scratch()
    _ = try scratch.write("gateway.toml", operatorConfig)
    let fm = FileManager.default
    try fm.createDirectory(at: scratch.url.appendingPathComponent("state"), withIntermediateDirectories: true)
    // Files waiting in CARRIERX's drop: two count; a dotfile (an upload in progress) and a directory do not.
    try fm.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop/sub"), withIntermediateDirectories: true)
    _ = try scratch.write("partners/CARRIERX/drop/next-1.edi", "UNA")
    _ = try scratch.write("partners/CARRIERX/drop/next-2.edi", "UNA")
    _ = try scratch.write("partners/CARRIERX/drop/.uploading.edi", "UNA")

    var ledger = Ledger(scratch: scratch)
    let store = try ledger.store
    let raw = try RawStore(root: scratch.url.appendingPathComponent("state/raw").path)

    // 1. Accepted: processed, CONTRL written, then the same bytes arrive again (a replay).
    ledger.acceptedBytes = Array("UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+250131:0800+REF1'".utf8)
    _ = try raw.put(bytes: ledger.acceptedBytes)
    let first = try store.recordIntake(try intake("manifest.edi", ledger.acceptedBytes, at: at(0), reference: "REF1"))
    ledger.acceptedBatch = first.batchId
    ledger.accepted = try #require(first.jobId)
    _ = try #require(try store.claimNextJob(now: at(10), leaseOwner: "worker-1", leaseSeconds: 60))
    try store.complete(ledger.accepted, leaseOwner: "worker-1", output: #"{"receipts":["CONTRL"],"verdict":"accepted"}"#, now: at(20))
    _ = try store.recordReceipt(
        batchId: ledger.acceptedBatch, kind: .contrl, fileName: "CONTRL-1-REF1.edi",
        digest: try SHA256Digest.hash(Array("contrl".utf8)), writtenAt: at(20), settingBatchState: (.accepted, nil, at(20)))
    var replay = try intake("manifest-again.edi", ledger.acceptedBytes, at: at(30))
    replay.claim = "claim-replay"
    _ = try store.recordIntake(replay)

    // 2. Unreadable: quarantined, batch set aside with the reason.
    let broken = try store.recordIntake(try intake("broken.edi", Array("garbage".utf8), at: at(40)))
    ledger.quarantined = try #require(broken.jobId)
    _ = try #require(try store.claimNextJob(now: at(50), leaseOwner: "worker-1", leaseSeconds: 60))
    try store.fail(ledger.quarantined, leaseOwner: "worker-1", code: "intake.unreadable",
                   message: "broken.edi: no UNA or UNB at byte 0", disposition: .quarantine, now: at(60))
    try store.setBatchState(broken.batchId, .quarantined, reason: "not EDIFACT: no UNB at byte 0", now: at(60))

    // 3. A permanent failure.
    let late = try store.recordIntake(try intake("late.edi", Array("late".utf8), at: at(70)))
    ledger.failed = try #require(late.jobId)
    _ = try #require(try store.claimNextJob(now: at(80), leaseOwner: "worker-2", leaseSeconds: 60))
    try store.fail(ledger.failed, leaseOwner: "worker-2", code: "deliver.pickup-missing",
                   message: "pickup directory is gone", disposition: .permanent, now: at(90))

    // 4. Same interchange reference as the accepted batch, other bytes: a conflict and its job.
    let clash = try store.recordIntake(try intake("manifest-v2.edi", Array("other bytes".utf8), at: at(100), reference: "REF1"))
    guard case .conflict(_, _, let conflictId, let conflictJob) = clash else {
        Issue.record("expected a conflict, got \(clash)")
        return ledger
    }
    ledger.conflictId = conflictId
    ledger.conflict = try #require(conflictJob)

    // 5. An archive unpacked into two members, each with its process job (left queued).
    let archive = try store.recordIntake(try intake("bundle.zip", Array("zip".utf8), at: at(110)))
    ledger.archive = try #require(archive.jobId)
    let members = try store.recordMembers(
        [try intake("one.edi", Array("one".utf8), at: at(120)), try intake("two.edi", Array("two".utf8), at: at(120))],
        of: archive.batchId, now: at(120))
    ledger.member = try #require(members[0].jobId)

    // 6. A job waiting since at(130), never claimed.
    let waiting = try store.recordIntake(try intake("waiting.edi", Array("waiting".utf8), at: at(130)))
    ledger.waiting = try #require(waiting.jobId)
    return ledger
}

/// Parses a JSON document printed on standard output.
private func json(_ run: CLIRun, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
    return try #require(object as? [String: Any], "not a JSON object: \(run)", sourceLocation: sourceLocation)
}

/// The scratch directory's path replaced by `<spool>`, so text naming files is golden-testable.
private func portable(_ text: String, _ ledger: Ledger) -> String {
    text.replacingOccurrences(of: ledger.scratch.url.standardizedFileURL.path, with: "<spool>")
        .replacingOccurrences(of: ledger.scratch.url.path, with: "<spool>")
}

@Suite("gateway jobs, status, quarantine, conflicts")
struct OperatorCommandsTests {
    @Test("help of the operator verbs matches the golden files", arguments: [
        (["jobs", "--help"], "help-jobs.txt"),
        (["jobs", "list", "--help"], "help-jobs-list.txt"),
        (["jobs", "show", "--help"], "help-jobs-show.txt"),
        (["jobs", "rerun", "--help"], "help-jobs-rerun.txt"),
        (["status", "--help"], "help-status.txt"),
        (["quarantine", "list", "--help"], "help-quarantine-list.txt"),
        (["quarantine", "release", "--help"], "help-quarantine-release.txt"),
        (["quarantine", "discard", "--help"], "help-quarantine-discard.txt"),
        (["conflicts", "list", "--help"], "help-conflicts-list.txt"),
    ])
    func help(arguments: [String], golden: String) throws {
        let run = try CLI.run(arguments, in: CLI.fixtures)
        #expect(run.status == 0, "\(run)")
        try Golden.check(run.stdout, golden)
    }

    @Test("jobs list: newest first, every column, filters, limit; text and JSON")
    func jobsList() throws {
        let ledger = try makeLedger()
        var run = try ledger.gateway("jobs", "list")
        #expect(run.status == 0, "\(run)")
        try Golden.check(run.stdout, "operator-jobs-list.txt")
        let rows = run.stdout.split(separator: "\n").dropFirst().map { $0.drop { $0 == " " } }
        #expect(rows.first?.hasPrefix("\(ledger.waiting) ") == true, "newest first: \(run)")
        let quarantinedRow = try #require(rows.first { $0.hasPrefix("\(ledger.quarantined) ") })
        for column in ["process", "CARRIERX", "quarantined", "1/3", "2025-01-31T08:01:00Z", "broken.edi", "intake.unreadable"] {
            #expect(quarantinedRow.contains(column), "\(column) missing from \(quarantinedRow)")
        }

        run = try ledger.gateway("jobs", "list", "--json")
        #expect(run.status == 0, "\(run)")
        let document = try json(run)
        let jobs = try #require(document["jobs"] as? [[String: Any]])
        let ids = jobs.compactMap { $0["id"] as? Int64 }
        #expect(ids == ids.sorted(by: >) && ids.count == 8, "\(ids)")
        #expect(document["more"] as? Bool == false)
        let accepted = try #require(jobs.first { $0["id"] as? Int64 == ledger.accepted })
        #expect(accepted["state"] as? String == "succeeded")
        #expect(accepted["fileName"] as? String == "manifest.edi")
        #expect(accepted["updatedAt"] as? String == "2025-01-31T08:00:20Z")
        #expect(accepted["errorCode"] is NSNull, "stable keys: absent values are null, \(accepted)")
        #expect(Set(jobs.map { Set($0.keys) }).count == 1, "every job has the same keys")

        run = try ledger.gateway("jobs", "list", "--state", "failed", "--json")
        let failed = try #require(try json(run)["jobs"] as? [[String: Any]])
        #expect(failed.map { $0["id"] as? Int64 } == [ledger.failed])
        #expect(failed.first?["errorCode"] as? String == "deliver.pickup-missing")

        run = try ledger.gateway("jobs", "list", "--kind", "reject")
        #expect(run.stdout.split(separator: "\n").count == 2 && run.stdout.contains("manifest-v2.edi"), "\(run)")

        run = try ledger.gateway("jobs", "list", "--limit", "2")
        #expect(run.status == 0)
        #expect(run.stdout.split(separator: "\n").count == 4, "header, 2 rows, the note: \(run)")
        #expect(run.stdout.hasSuffix("more jobs match: showing the newest 2 (--limit raises it)\n"), "\(run)")
        #expect(try json(try ledger.gateway("jobs", "list", "--limit", "2", "--json"))["more"] as? Bool == true)

        run = try ledger.gateway("jobs", "list", "--partner", "NOBODY")
        #expect(run.status == 0)
        #expect(run.stdout == "no jobs match --partner NOBODY (no partner 'NOBODY' is configured)\n", "\(run)")
        run = try ledger.gateway("jobs", "list", "--state", "cancelled")
        #expect(run.stdout == "no jobs match --state cancelled\n", "\(run)")
    }

    @Test("jobs list: an unknown state, a bad limit or a non-numeric id is a usage error (exit 2) naming the valid states")
    func usageErrors() throws {
        let ledger = try makeLedger()
        var run = try ledger.gateway("jobs", "list", "--state", "stuck")
        #expect(run.status == 2, "\(run)")
        #expect(run.stdout.isEmpty)
        try Golden.check(run.stderr, "operator-jobs-list-bad-state.txt")
        #expect(run.stderr.contains("queued, running, succeeded, failed, retrying, cancelled, quarantined"))
        run = try ledger.gateway("jobs", "list", "--limit", "0")
        #expect(run.status == 2 && run.stderr.contains("Invalid --limit 0"), "\(run)")
        run = try ledger.gateway("jobs", "show", "twelve")
        #expect(run.status == 2, "\(run)")
        run = try ledger.gateway("quarantine", "discard", "\(ledger.quarantined)")
        #expect(run.status == 2 && run.stderr.contains("--reason"), "\(run)")
        run = try ledger.gateway("quarantine", "discard", "\(ledger.quarantined)", "--reason", "  ")
        #expect(run.status == 2 && run.stderr.contains("Invalid --reason"), "\(run)")
        run = try ledger.gateway("status", "--at", "yesterday")
        #expect(run.status == 2 && run.stderr.contains("Invalid --at"), "\(run)")
        #expect(try ledger.store.job(ledger.quarantined)?.state == .quarantined, "usage errors change nothing")
    }

    @Test("jobs show: the job, its batch and raw bytes, history in order, receipts and replays")
    func jobsShow() throws {
        let ledger = try makeLedger()
        var run = try ledger.gateway("jobs", "show", "\(ledger.accepted)")
        #expect(run.status == 0, "\(run)")
        try Golden.check(portable(run.stdout, ledger), "operator-jobs-show.txt")
        let rawPath = try RawStore(root: ledger.scratch.url.appendingPathComponent("state/raw").path)
            .path(for: try SHA256Digest.hash(ledger.acceptedBytes))
        #expect(run.stdout.contains("raw         \(rawPath)"), "\(run)")

        run = try ledger.gateway("jobs", "show", "\(ledger.accepted)", "--json")
        #expect(run.status == 0, "\(run)")
        let story = try json(run)
        let job = try #require(story["job"] as? [String: Any])
        #expect(job["state"] as? String == "succeeded")
        #expect(job["attempts"] as? Int == 1 && job["maxAttempts"] as? Int == 3)
        #expect((job["input"] as? [String: Any])?["step"] as? String == "validate", "input is JSON, not a string: \(job)")
        #expect((job["output"] as? [String: Any])?["verdict"] as? String == "accepted")
        let batch = try #require(story["batch"] as? [String: Any])
        #expect(batch["fileName"] as? String == "manifest.edi")
        #expect(batch["sha256"] as? String == (try SHA256Digest.hash(ledger.acceptedBytes)).hex)
        #expect(batch["interchangeRef"] as? String == "REF1" && batch["sender"] as? String == "CARRIERX")
        #expect(batch["state"] as? String == "accepted" && batch["claim"] as? String == "claim-manifest.edi")
        #expect(batch["raw"] as? String == rawPath)
        let events = try #require(story["events"] as? [[String: Any]])
        #expect(events.map { $0["to"] as? String } == ["queued", "running", "succeeded"])
        #expect(events.first?["from"] is NSNull)
        let receipts = try #require(story["receipts"] as? [[String: Any]])
        #expect(receipts.count == 1 && receipts.first?["kind"] as? String == "CONTRL")
        #expect(receipts.first?["fileName"] as? String == "CONTRL-1-REF1.edi")
        #expect(story["replayCount"] as? Int == 1)
        #expect(story["archive"] is NSNull && story["conflict"] is NSNull)
        #expect((story["members"] as? [Any])?.isEmpty == true)

        // A quarantined job: the error code and message, and the batch's reason.
        run = try ledger.gateway("jobs", "show", "\(ledger.quarantined)")
        #expect(run.stdout.contains("  error       intake.unreadable: broken.edi: no UNA or UNB at byte 0\n"), "\(run)")
        #expect(run.stdout.contains("  state       quarantined: not EDIFACT: no UNB at byte 0\n"), "\(run)")
        #expect(run.stdout.contains("receipts    none written"), "\(run)")
    }

    @Test("jobs show: an archive lists its members and their jobs; a member names its archive; a conflict its first batch")
    func jobsShowArchiveAndConflict() throws {
        let ledger = try makeLedger()
        var story = try json(try ledger.gateway("jobs", "show", "\(ledger.archive)", "--json"))
        let members = try #require(story["members"] as? [[String: Any]])
        #expect(members.map { $0["name"] as? String } == ["one.edi", "two.edi"])
        #expect((members.first?["jobs"] as? [[String: Any]])?.first?["id"] as? Int64 == ledger.member)
        #expect((story["batch"] as? [String: Any])?["state"] as? String == "unpacked")
        var run = try ledger.gateway("jobs", "show", "\(ledger.archive)")
        #expect(run.stdout.contains("members (2)"), "\(run)")

        story = try json(try ledger.gateway("jobs", "show", "\(ledger.member)", "--json"))
        let archive = try #require(story["archive"] as? [String: Any], "\(story)")
        #expect(archive["fileName"] as? String == "bundle.zip")
        #expect((story["batch"] as? [String: Any])?["memberName"] as? String == "one.edi")
        run = try ledger.gateway("jobs", "show", "\(ledger.member)")
        #expect(run.stdout.contains("archive \(archive["id"] as? Int64 ?? -1)  bundle.zip  unpacked  (this batch is its member 'one.edi')"), "\(run)")

        story = try json(try ledger.gateway("jobs", "show", "\(ledger.conflict)", "--json"))
        let conflict = try #require(story["conflict"] as? [String: Any], "\(story)")
        #expect(conflict["interchangeRef"] as? String == "REF1")
        #expect(conflict["existingBatchId"] as? Int64 == ledger.acceptedBatch)
        #expect(conflict["existingFileName"] as? String == "manifest.edi")
        #expect(conflict["resolvedAt"] is NSNull)
        #expect((story["job"] as? [String: Any])?["kind"] as? String == "reject")
    }

    @Test("jobs show: an unknown id is 'job N not found', exit 1")
    func jobsShowNotFound() throws {
        let ledger = try makeLedger()
        let run = try ledger.gateway("jobs", "show", "9999")
        #expect(run.status == 1, "\(run)")
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == "job 9999 not found\n", "\(run)")
        #expect(try ledger.gateway("jobs", "show", "9999", "--json").status == 1)
    }

    @Test("status: every configured partner, counts for the UTC day, oldest waiting, files in the drop")
    func status() throws {
        let ledger = try makeLedger()
        var run = try ledger.gateway("status", "--at", "2025-01-31T12:00:00Z")
        #expect(run.status == 0, "\(run)")
        try Golden.check(run.stdout, "operator-status.txt")
        #expect(run.stdout.contains("CUSTOMS: partners/CUSTOMS/drop: cannot open the drop directory: No such file or directory"),
                "\(run)")

        run = try ledger.gateway("status", "--at", "2025-01-31T12:00:00Z", "--json")
        let document = try json(run)
        #expect(document["dayStart"] as? String == "2025-01-31T00:00:00Z")
        let partners = try #require(document["partners"] as? [[String: Any]])
        #expect(partners.map { $0["partner"] as? String } == ["CARRIERX", "CUSTOMS"])
        let carrier = partners[0], customs = partners[1]
        // Waiting: the conflict's job, the archive's, its two members', and the never-claimed one.
        #expect(carrier["waiting"] as? Int == 5, "\(carrier)")
        #expect(carrier["processedToday"] as? Int == 1 && carrier["failed"] as? Int == 1 && carrier["quarantined"] as? Int == 1)
        #expect(carrier["oldestWaiting"] as? String == "2025-01-31T08:01:40Z")
        #expect(carrier["oldestWaitingAgeSeconds"] as? Int == 4 * 3600 - 100)
        #expect(carrier["dropFiles"] as? Int == 2, "two regular non-dot files: \(carrier)")
        #expect(customs["waiting"] as? Int == 0 && customs["configured"] as? Bool == true)
        #expect(customs["dropFiles"] is NSNull && customs["oldestWaiting"] is NSNull)

        // The next UTC day: nothing processed "today" any more.
        run = try ledger.gateway("status", "--at", "2025-02-01T00:00:00Z", "--json")
        let tomorrow = try #require((try json(run)["partners"] as? [[String: Any]])?.first)
        #expect(tomorrow["processedToday"] as? Int == 0, "\(tomorrow)")
    }

    @Test("quarantine list and discard: listed with reason; discard cancels it with the reason; other states refused")
    func quarantine() throws {
        let ledger = try makeLedger()
        var run = try ledger.gateway("quarantine", "list")
        #expect(run.status == 0, "\(run)")
        try Golden.check(run.stdout, "operator-quarantine-list.txt")
        let entries = try #require(try json(try ledger.gateway("quarantine", "list", "--json"))["jobs"] as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["id"] as? Int64 == ledger.quarantined)
        #expect(entries.first?["fileName"] as? String == "broken.edi")
        #expect(entries.first?["errorCode"] as? String == "intake.unreadable")
        #expect(entries.first?["batchReason"] as? String == "not EDIFACT: no UNB at byte 0")
        #expect(entries.first?["since"] as? String == "2025-01-31T08:01:00Z")
        run = try ledger.gateway("quarantine", "list", "--partner", "CUSTOMS")
        #expect(run.stdout == "no quarantined jobs for partner CUSTOMS\n", "\(run)")

        // Refused: a job that is not quarantined, and one that does not exist; nothing changes.
        run = try ledger.gateway("quarantine", "discard", "\(ledger.failed)", "--reason", "duplicate")
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr == "job \(ledger.failed) is failed, not quarantined; nothing was discarded\n", "\(run)")
        #expect(try ledger.store.job(ledger.failed)?.state == .failed)
        run = try ledger.gateway("quarantine", "discard", "9999", "--reason", "duplicate")
        #expect(run.status == 1 && run.stderr == "job 9999 not found\n", "\(run)")

        run = try ledger.gateway("quarantine", "discard", "\(ledger.quarantined)", "--reason", "partner resent it fixed", "--json")
        #expect(run.status == 0, "\(run)")
        let done = try json(run)
        #expect(done["from"] as? String == "quarantined" && done["to"] as? String == "cancelled")
        #expect(done["reason"] as? String == "partner resent it fixed" && done["fileName"] as? String == "broken.edi")
        let job = try #require(try ledger.store.jobStory(ledger.quarantined))
        #expect(job.job.state == .cancelled)
        #expect(job.events.last?.message == "discarded by operator: partner resent it fixed")
        #expect(try ledger.gateway("quarantine", "list").stdout == "no quarantined jobs\n")

        // Once discarded it is refused again, saying its state.
        run = try ledger.gateway("quarantine", "discard", "\(ledger.quarantined)", "--reason", "again")
        #expect(run.status == 1 && run.stderr.contains("is cancelled, not quarantined"), "\(run)")
        run = try ledger.gateway("jobs", "show", "\(ledger.quarantined)")
        let last = try #require(run.stdout.split(separator: "\n").first { $0.contains("discarded by operator") }, "\(run)")
        #expect(last.split(separator: " ").prefix(3).dropFirst() == ["quarantined", "cancelled"], "\(last)")
    }

    @Test("quarantine discard: text says what was done")
    func discardText() throws {
        let ledger = try makeLedger()
        let run = try ledger.gateway("quarantine", "discard", "\(ledger.quarantined)", "--reason", "sent to the wrong gateway")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("job \(ledger.quarantined) (process, CARRIERX, broken.edi) discarded: quarantined → cancelled at 20"), "\(run)")
        #expect(run.stdout.contains("; reason: sent to the wrong gateway\n"), "\(run)")
    }

    @Test("conflicts list: open ones with both files and the job; resolved ones only with --all")
    func conflicts() throws {
        let ledger = try makeLedger()
        var run = try ledger.gateway("conflicts", "list")
        #expect(run.status == 0, "\(run)")
        try Golden.check(run.stdout, "operator-conflicts-list.txt")
        var list = try #require(try json(try ledger.gateway("conflicts", "list", "--json"))["conflicts"] as? [[String: Any]])
        #expect(list.count == 1)
        #expect(list.first?["interchangeRef"] as? String == "REF1" && list.first?["fileName"] as? String == "manifest-v2.edi")
        #expect(list.first?["existingFileName"] as? String == "manifest.edi")
        #expect(list.first?["jobIds"] as? [Int64] == [ledger.conflict])

        try ledger.store.resolveConflict(ledger.conflictId, resolution: "partner confirmed v1", now: at(500))
        #expect(try ledger.gateway("conflicts", "list").stdout == "no open conflicts\n")
        run = try ledger.gateway("conflicts", "list", "--all")
        #expect(run.stdout.contains("2025-01-31T08:08:20Z  partner confirmed v1"), "\(run)")
        list = try #require(try json(try ledger.gateway("conflicts", "list", "--all", "--json"))["conflicts"] as? [[String: Any]])
        #expect(list.first?["resolution"] as? String == "partner confirmed v1")
    }

    @Test("before anything ran: empty answers, exit 0, and no ledger is created")
    func noLedgerYet() throws {
        let scratch = try Scratch()
        _ = try scratch.write("gateway.toml", operatorConfig)
        var run = try scratch.gateway("jobs", "list", "--config", "gateway.toml")
        #expect(run.status == 0 && run.stdout == "no jobs\n", "\(run)")
        run = try scratch.gateway("quarantine", "list", "--config", "gateway.toml")
        #expect(run.stdout == "no quarantined jobs\n", "\(run)")
        run = try scratch.gateway("conflicts", "list", "--config", "gateway.toml")
        #expect(run.stdout == "no open conflicts\n", "\(run)")
        run = try scratch.gateway("jobs", "show", "1", "--config", "gateway.toml")
        #expect(run.status == 1 && run.stderr == "job 1 not found\n", "\(run)")
        run = try scratch.gateway("status", "--config", "gateway.toml", "--json")
        #expect(run.status == 0, "\(run)")
        #expect((try json(run)["partners"] as? [[String: Any]])?.map { $0["waiting"] as? Int } == [0, 0])
        #expect(!FileManager.default.fileExists(atPath: scratch.url.appendingPathComponent("state").path))
    }

    @Test("a configuration with mistakes, or none at all, is exit 2 for every verb")
    func configurationErrors() throws {
        let scratch = try Scratch()
        _ = try scratch.write("bad.toml", "[gateway]\nspol = \".\"\n")
        for verb in [["jobs", "list"], ["jobs", "show", "1"], ["status"], ["quarantine", "list"],
                     ["quarantine", "discard", "1", "--reason", "x"], ["conflicts", "list"]] {
            var run = try CLI.run(verb + ["--config", "bad.toml"], in: scratch.url)
            #expect(run.status == 2, "\(verb): \(run)")
            #expect(run.stderr.contains("bad.toml:2: gateway.spol: unknown key"), "\(verb): \(run)")
            run = try CLI.run(verb + ["--config", "missing.toml"], in: scratch.url)
            #expect(run.status == 2 && run.stderr.contains("missing.toml"), "\(verb): \(run)")
        }
    }
}
