import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Jobs
import Logging

/// What delivering one file decided, before the commit.
struct DeliverDecision {
    var result: JobCommit.Result
    var receipt: (batchId: Int64, kind: ReceiptKind, fileName: String, digest: SHA256Digest)?
    var line: IntakeFileResult
    var path: String?
    /// The delivery's kind (its input's), for the metrics once it is committed.
    var kind: String?
}

extension GatewayPipeline {
    /// Delivers a chunk of leased deliver jobs: every file linked into place without fsync, one syncfs per
    /// file system, then one transaction recording the receipts and closing the jobs.
    ///
    /// A crash after a file was linked and before the commit leaves the job running; the next run finds the
    /// file already there with the same bytes and only records it: never a second copy under another name.
    func deliverChunk(_ jobs: [JobRecord]) -> [JobRun] {
        var decisions: [(JobRecord, DeliverDecision)] = []
        var directories: [String] = []
        func timed(_ job: JobRecord, _ sessions: RemoteSessionCache) -> DeliverDecision {
            let started = Date()
            let d = deliver(job, sessions: sessions)
            GatewayMetrics.jobDuration(kind: JobKind.deliver, seconds: Date().timeIntervalSince(started))
            return d
        }
        // Deliveries to an SFTP server go over up to its max_sessions sessions at once (each kept for the
        // chunk); local ones in turn.
        var decided = [DeliverDecision?](repeating: nil, count: jobs.count)
        var remote: [String: [Int]] = [:]
        for (index, job) in jobs.enumerated() {
            if let pickup = job.partner.flatMap(configuration.partner(id:))?.remotePickup {
                remote[pickup.endpoint, default: []].append(index)
            }
        }
        for (name, indices) in remote.sorted(by: { $0.key < $1.key }) {
            let caches = (0..<min(configuration.endpoints[name]?.maxSessions ?? 1, indices.count)).map { _ in RemoteSessionCache() }
            nonisolated(unsafe) let shared = (caches, jobs)
            let results = Stripes.run(indices, stripes: caches.count) { index, stripe in timed(shared.1[index], shared.0[stripe]) }
            for cache in caches { cache.closeAll() }
            for (index, result) in zip(indices, results) { decided[index] = result }
        }
        // Local ones on every core: each is its own file (a routed manifest asks for five), and what they cost is
        // mostly the file system's.
        let local = jobs.indices.filter { decided[$0] == nil }
        nonisolated(unsafe) let unused = RemoteSessionCache()
        defer { unused.closeAll() }
        for (index, result) in zip(local, Stripes.balanced(local, threads: ProcessInfo.processInfo.activeProcessorCount) { index in
            timed(jobs[index], unused)
        }) {
            decided[index] = result
        }
        for (index, job) in jobs.enumerated() {
            let d = decided[index]!
            if let path = d.path { directories.append(Paths.parent(of: path)) }
            decisions.append((job, d))
        }
        do {
            try Durability.syncFileSystems(Array(Set(directories)).sorted())
        } catch {
            return commitFailure(decisions.map { ($0.0, $0.1.line) }, "\(error)")
        }
        let outcomes: [JobCommitOutcome]
        do {
            outcomes = try store.commit(
                decisions.map { job, d in JobCommit(jobId: job.id, leaseOwner: owner, result: d.result, receipt: d.receipt) },
                now: now(), retry: Self.retry)
        } catch {
            return commitFailure(decisions.map { ($0.0, $0.1.line) }, "\(error)")
        }
        return zip(decisions, outcomes).map { pair, outcome in
            let (job, d) = pair
            var line = d.line
            if let error = outcome.error {
                line.outcome = .failed
                line.reason = error
            }
            switch d.result {
            case .succeeded:
                if outcome.error == nil, let kind = d.kind { GatewayMetrics.fileOut(partner: job.partner ?? "", kind: kind) }
            case .failed(let code, _, _, _):
                GatewayMetrics.failure(code: code)
            }
            logger.info("delivered", metadata: [
                "job": "\(job.id)", "partner": "\(job.partner ?? "")", "file": "\(line.file)",
                "outcome": "\(outcome.state?.rawValue ?? "not committed")",
            ])
            return JobRun(jobId: job.id, kind: job.kind, state: outcome.state, line: line,
                          receipt: d.path.map(display) ?? d.line.receipt, reason: line.reason, enqueued: [])
        }
    }

    /// Writes one delivery's stored bytes into the partner's pickup directory, unless they are there already.
    func deliver(_ job: JobRecord, sessions: RemoteSessionCache) -> DeliverDecision {
        var line = IntakeFileResult(partner: job.partner ?? "-", file: "-", outcome: .failed, batchId: job.batchId)
        func failure(_ code: String, _ message: String, _ disposition: FailureDisposition) -> DeliverDecision {
            line.reason = message
            return DeliverDecision(result: .failed(code: code, message: message, disposition: disposition, output: nil),
                                   line: line)
        }
        guard let input = DeliverInput.decode(job.input), let digest = SHA256Digest(hex: input.sha256) else {
            return failure(PipelineErrorCode.deliverIO, "the job's input is not a delivery: \(job.input)", .permanent)
        }
        line.file = input.file
        guard let partnerId = job.partner, let partner = configuration.partner(id: partnerId) else {
            return failure(PipelineErrorCode.unknownPartner, "partner \(job.partner ?? "none") is not in the configuration",
                           .permanent)
        }
        if let remote = partner.remotePickup {
            return remoteDeliver(job, input: input, digest: digest, partner: partner, to: remote, sessions: sessions, line: line)
        }
        let path = partner.pickupDirectory + "/" + input.file
        let bytes: [UInt8]
        do {
            bytes = try raw.open(digest).readAll()
        } catch {
            return failure(PipelineErrorCode.rawIO, "\(error)", .transient)
        }
        var alreadyThere = false
        do {
            if !(try FileOps.publish(bytes, directory: partner.pickupDirectory, name: input.file)) {
                // Already there: ours from an interrupted attempt (same bytes), or someone else's (never replaced).
                let existing = try? SHA256Digest.hash(Self.readFile(path) ?? [])
                guard existing == digest else {
                    return failure(PipelineErrorCode.deliverNameTaken,
                                   "\(display(path)) already exists with other content; not replaced", .permanent)
                }
                alreadyThere = true
            }
        } catch {
            return failure(PipelineErrorCode.deliverIO, "\(error)", .transient)
        }
        line.outcome = .accepted
        line.receipt = display(path)
        let kind = ReceiptKind(rawValue: input.kind)
        return DeliverDecision(
            result: .succeeded(output: DeliverOutput(path: display(path), alreadyThere: alreadyThere).json),
            receipt: input.records && job.batchId != nil && kind != nil ? (job.batchId!, kind!, input.file, digest) : nil,
            line: line, path: path, kind: input.kind)
    }

    static func readFile(_ path: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        do { try ChunkedFile.forEachChunk(path: path) { bytes.append(contentsOf: $0) } } catch { return nil }
        return bytes
    }
}
