import EDIFACT
import Foundation
import Jobs
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The gateway's main job, as three kinds of ledgered jobs over the partners' directories:
///
/// - **pickup** (per partner and poll): files left in the work area by a crash are finished first; each ready
///   file of the drop is checked for completeness by content, claimed by an atomic rename into
///   `<spool>/work/<partner>/`, stored by hash, and recorded in the ledger with its process job; only then
///   is the work file removed. Nothing else: a pickup never judges content.
/// - **process** (per batch): reads the stored bytes (never the drop), unpacks archives into member batches,
///   validates interchanges, decides accepted / rejected / conflict / quarantined, builds the receipts and
///   enqueues their deliveries. A rerun is a process job run again: same bytes, same receipt names.
/// - **deliver** (per outbound file): writes stored bytes into the partner's pickup directory under their
///   final name, unless they are there already; records the receipt.
///
/// Group commit: every step works on chunks of up to `chunkSize` files or jobs (`processChunkSize` process jobs,
/// `deliverChunkSize` deliveries). Within a chunk, files are written without fsync, one `syncfs` per file system
/// makes them durable, and one ledger transaction then records the whole chunk, so a file costs a fraction of an
/// fsync instead of six. Each step is idempotent (claims, receipt names and delivery keys are fixed before anything
/// is written), which is what makes SIGKILL anywhere safe: the next run finds the ledger rows and files the last one
/// made and redoes nothing.
public final class GatewayPipeline: Sendable {
    /// The loaded configuration.
    public let configuration: GatewayConfiguration
    /// The ledger.
    public let store: GatewayStore
    /// The content-addressed raw bytes (inbound files, archive members, outbound receipts).
    public let raw: RawStore
    /// The clock (injected for tests and reruns).
    public let now: @Sendable () -> Date
    /// This process's lease owner name (`host:pid:start`), so a restart can tell its own dead leases.
    public let owner: String
    /// Where log lines go; metadata carries partner, file, batch and job.
    public let logger: Logger
    /// The partners' signature checks (each agency's anchors loaded once).
    public let signatures: SignatureGate
    /// Files or jobs per group commit.
    public static let chunkSize = 256
    /// Deliver jobs leased at a time on SQLite. A delivery is one file written into a pickup directory: leased and
    /// committed 256 at a time, the two transactions cost more than the writes, and the last process chunk's
    /// deliveries (a routed manifest asks for five or six) went out in five rounds after its commit, mostly on one
    /// core. 2 048: 1.04x for a routed run of 1 000 manifests (median of five alternations).
    static let deliverChunkSize = 2048
    /// Process jobs leased at a time on SQLite. A routed run keeps up to four process chunks in flight (mapped,
    /// filed, their copies made, committed), each with its manifests' models and copies in memory: at 256 a chunk,
    /// 310 to 330 MB at the peak for 1 000 manifests of 50 consignments; at 128, 240 to 265 MB, and the run no
    /// slower (1.01x, five alternations): the last chunk, whose copies, commit and deliveries nothing overlaps, is
    /// smaller.
    static let processChunkSize = 128
    /// Jobs of `kind` one node leases at a time on SQLite (one node; a commit is an fsync), fewer on PostgreSQL, so
    /// the jobs of a drop spread over the nodes sharing it instead of going to the first to ask.
    func leaseChunk(_ kind: String) -> Int {
        if store.dialect == .postgres { return 32 }
        switch kind {
        case JobKind.deliver: return Self.deliverChunkSize
        case JobKind.process: return Self.processChunkSize
        default: return Self.chunkSize
        }
    }

    /// A lease cut into the chunks that go down the pipeline: whole, unless it is short of what was asked (the
    /// last jobs due), then in pieces of 32 or a little more. The last chunk's filing, copies, commit and deliveries
    /// are a run's tail, which no other chunk overlaps and which leaves a core idle: in a routed run of 1 000
    /// manifests (7 leases of 128, then 104), the time after the last mapping went from 101 to 138 ms to 55 to 71 ms
    /// (three runs each) with the 104 as three chunks.
    static func pieces<Job>(_ jobs: [Job], leased limit: Int) -> [ArraySlice<Job>] {
        let count = jobs.count < limit ? max(1, jobs.count / 32) : 1
        let size = (jobs.count + count - 1) / count
        return stride(from: 0, to: jobs.count, by: max(size, 1)).map { jobs[$0..<min($0 + size, jobs.count)] }
    }

    /// How long a lease lasts before another worker may take the job over (a chunk takes well under this).
    static let leaseSeconds = 600.0
    /// Retry strategy of process and deliver jobs: local disk errors clear quickly or need an operator.
    static let retry = RetryStrategy(maxAttempts: 5, initialDelaySeconds: 5, multiplier: 3, maxDelaySeconds: 900)

    /// Opens the store and raw store named by `configuration` (raw bytes live in `raw/` beside the database).
    public init(configuration: GatewayConfiguration, now: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "gateway.pipeline")) throws {
        self.configuration = configuration
        let directory = configuration.stateDirectory
        try FileOps.makeDirectories(directory)
        self.store = try GatewayStore(configuration.store)
        self.raw = try RawStore(root: directory + "/raw")
        self.now = now
        self.owner = ProcessIdentity.current
        self.logger = logger
        self.signatures = SignatureGate(configuration: configuration)
    }

    // MARK: - Start-up

    /// Crash recovery at start: jobs a dead process left running go back to the queue, and raw-store
    /// temporaries of dead writers are removed. Returns the requeued job ids.
    @discardableResult
    public func recover() -> [Int64] {
        _ = try? raw.removeStaleTemporaries(olderThanSeconds: 3600, now: now().timeIntervalSince1970)
        do {
            let ids = try store.requeueOrphanedJobs(now: now(), isGone: ProcessIdentity.isGone)
            if !ids.isEmpty { logger.warning("requeued jobs left running by a stopped gateway", metadata: ["jobs": "\(ids)"]) }
            return ids
        } catch {
            logger.error("crash recovery of the job ledger failed: \(error)")
            return []
        }
    }

    // MARK: - The whole cycle (`gateway run --once`)

    /// Polls every partner once (with `dueOnly`, only those whose schedule fired since their last poll), then
    /// runs every due job until none is left; returns one line per file.
    ///
    /// The polls run on a thread of their own while `drain` runs here: each chunk of files a poll records is
    /// processed while the next is claimed and stored, instead of the whole drop being picked up first.
    public func runOnce(dueOnly: Bool = false) -> IntakeRunReport {
        recover()
        let intake = IntakeProgress()
        // Unowned, as in `drain`'s threads.
        let polling = Thread { [unowned self] in
            intake.finish(self.pollPartners(dueOnly: dueOnly, recorded: intake.recorded))
        }
        polling.name = "gateway.pickup"
        polling.start()
        var (runs, failure) = drain(intake: intake)
        let polled = intake.result()
        var lines = polled.lines
        let byProcessJob = polled.byProcessJob
        var polledElsewhere = polled.elsewhere
        // Partners another node is polling (several nodes on one PostgreSQL): their files become jobs as that node
        // commits them, which this node helps run until that node is done polling. A node of this host that died
        // meanwhile leaves jobs running: they are taken back and run here.
        while failure == nil, !polledElsewhere.isEmpty {
            polledElsewhere.removeAll { partner in
                guard (try? store.tryTakeSingleton(Self.pollSingleton(partner))) == true else { return false }
                try? store.releaseSingleton(Self.pollSingleton(partner))
                return true
            }
            _ = try? store.requeueOrphanedJobs(now: now(), isGone: ProcessIdentity.isGone)
            let more = drain()
            runs += more.runs
            failure = more.error
            if more.runs.isEmpty && !polledElsewhere.isEmpty { usleep(100_000) }
        }
        // What the terminals must be told now, and its deliveries.
        var notices: [NoticeLine] = []
        var noticeJobs: Set<Int64> = []
        if failure == nil {
            do {
                let sent = try sendNotices()
                notices = sent.lines
                noticeJobs = Set(sent.jobs)
                if !sent.jobs.isEmpty {
                    let more = drain()
                    runs += more.runs
                    failure = more.error
                }
            } catch {
                lines.append(IntakeFileResult(partner: "-", file: "-", outcome: .failed,
                                              reason: "terminal notices not sent: \(error)" + FileOps.spaceNote(stateDirectory)))
            }
        }
        let ranJobs = Set(runs.map(\.jobId))
        let drainFailure = failure.map { "\($0)" + FileOps.spaceNote(stateDirectory) }
        if let drainFailure {
            // The ledger refused to lease jobs (a full disk, a locked database): say so on every file left.
            let reason = "stored, but not processed: \(drainFailure)"
            for (job, index) in byProcessJob where !ranJobs.contains(job) && lines[index].outcome == .received {
                lines[index].outcome = .failed
                lines[index].reason = reason
            }
            if byProcessJob.isEmpty { lines.append(IntakeFileResult(partner: "-", file: "-", outcome: .failed, reason: reason)) }
        }
        // Receipts per process job, through the deliveries it enqueued.
        var deliveredPath: [Int64: String] = [:]
        var deliveryFailure: [Int64: String] = [:]
        var deliveredTo: [Int64: String] = [:]
        for run in runs where run.kind == JobKind.deliver {
            deliveredTo[run.jobId] = run.line.partner
            if let path = run.receipt { deliveredPath[run.jobId] = path }
            if run.state != .succeeded { deliveryFailure[run.jobId] = run.reason ?? "not delivered" }
        }
        // Deliveries of earlier runs' receipts (retried after a failure): one line each, so none goes unreported.
        let enqueuedHere = Set(runs.filter { $0.kind == JobKind.process }.flatMap(\.enqueued))
        for run in runs where run.kind == JobKind.deliver && noticeJobs.contains(run.jobId) && run.state != .succeeded {
            // A release notice that could not be delivered: its deliver job is retried.
            lines.append(IntakeFileResult(partner: run.line.partner, file: run.line.file, outcome: .failed,
                                          reason: "release notice not delivered: \(run.reason ?? "not delivered")"))
        }
        for run in runs where run.kind == JobKind.deliver && !enqueuedHere.contains(run.jobId) && !noticeJobs.contains(run.jobId) {
            var line = run.line
            if let batchId = run.line.batchId, let batch = try? store.batch(batchId) {
                line.file = batch.originalName
                if run.state == .succeeded { line.outcome = Self.outcome(of: batch.state) }
            }
            if run.state != .succeeded { line.outcome = .failed }
            line.receipt = run.receipt
            line.reason = [run.state == .succeeded ? "receipt of an earlier run delivered now" : nil, run.reason]
                .compactMap { $0 }.joined(separator: "; ")
            lines.append(line)
        }
        for run in runs where run.kind == JobKind.process {
            var line = run.line
            // Its receipts go to its partner; the other deliveries it enqueued are copies routed to agencies.
            let receiptJobs = run.enqueued.filter { deliveredTo[$0] == nil || deliveredTo[$0] == line.partner }
            let copyJobs = run.enqueued.filter { deliveredTo[$0] != nil && deliveredTo[$0] != line.partner }
            let receipts = receiptJobs.compactMap { deliveredPath[$0] }
            if !receipts.isEmpty { line.receipt = receipts.joined(separator: ", ") }
            let copies = copyJobs.compactMap { deliveredPath[$0] }
            if !copies.isEmpty { line.routed = copies }
            if let failure = receiptJobs.compactMap({ deliveryFailure[$0] }).first {
                line.outcome = .failed
                line.reason = [line.reason, "receipt not delivered: \(failure)"].compactMap { $0 }.joined(separator: "; ")
            } else if let job = copyJobs.first(where: { deliveryFailure[$0] != nil }) {
                line.outcome = .failed
                line.reason = [line.reason, "copy to \(deliveredTo[job] ?? "?") not delivered: \(deliveryFailure[job]!)"]
                    .compactMap { $0 }.joined(separator: "; ")
            } else if let failure = drainFailure, run.enqueued.contains(where: { !ranJobs.contains($0) }) {
                line.outcome = .failed
                line.reason = [line.reason, "receipt not delivered yet: \(failure)"].compactMap { $0 }.joined(separator: "; ")
            }
            if let index = byProcessJob[run.jobId] {
                let file = lines[index].file
                let note = lines[index].reason
                lines[index] = line
                lines[index].file = file
                if let note { lines[index].reason = [note, line.reason].compactMap { $0 }.joined(separator: "; ") }
            } else {
                lines.append(line)
            }
        }
        // Files this node picked up whose jobs another node ran (several nodes on one PostgreSQL).
        if drainFailure == nil, store.dialect == .postgres {
            for (job, index) in byProcessJob where !ranJobs.contains(job) && lines[index].outcome == .received {
                guard let other = try? store.job(job), other.state != .queued else { continue }
                lines[index].reason = "processed by another node (job \(job) \(other.state.rawValue))"
            }
        }
        return IntakeRunReport(files: lines, notices: notices)
    }

    /// Polls the partners for `runOnce`: one line per file, the line of each process job recorded, and the
    /// partners another node was polling.
    private func pollPartners(dueOnly: Bool, recorded: () -> Void) -> IntakeProgress.Polled {
        var polled = IntakeProgress.Polled()
        let polls = PollLog(stateDirectory: stateDirectory)
        let started = now()
        for partner in configuration.partners {
            if dueOnly, let last = polls.lastPoll(partner.id),
               let next = partner.schedule.schedule.next(after: last), next > started {
                continue
            }
            polls.record(partner.id, at: started)
            guard let picked = tryPickupJob(partner, recorded: recorded) else {
                polled.elsewhere.append(partner.id)
                continue
            }
            for result in picked {
                if let job = result.processJob { polled.byProcessJob[job] = polled.lines.count }
                polled.lines.append(result.line)
            }
        }
        return polled
    }

    /// Runs due process and deliver jobs, chunk after chunk, until none is due or `shouldStop` says so
    /// (checked between chunks: a chunk in hand is always finished). With `intake`, polls are recording files
    /// meanwhile: draining waits for their chunks when nothing else is due, and ends only once they are done.
    /// A ledger error that stops the draining is returned beside the runs done before it.
    ///
    /// Five threads work as a pipeline. A mapping thread leases each process chunk, decides and maps it; a
    /// filing thread files and plans its manifests (in chunk order: filing needs what the chunks before filed)
    /// while the mapping thread goes on with the next; the calling thread generates each chunk's copies and
    /// finishes it; a commit thread commits it while the calling thread goes on with the next; a delivery
    /// thread takes each chunk's deliveries once it is committed. Each step keeps a core busy while another
    /// waits on the ledger. Leases keep each job to one thread; the ledger's writes take turns. The runs come
    /// back process chunks first, then deliveries, as before.
    public func drain(shouldStop: @escaping @Sendable () -> Bool = { false }) -> (runs: [JobRun], error: Error?) {
        drain(intake: nil, shouldStop: shouldStop)
    }

    func drain(intake: IntakeProgress?, shouldStop: @escaping @Sendable () -> Bool = { false }) -> (runs: [JobRun], error: Error?) {
        _ = WorkerPriority.base  // read before the first worker is lowered
        let deliverer = Deliverer(pipeline: self, shouldStop: shouldStop)
        let filer = Filer(pipeline: self, intake: intake, shouldStop: shouldStop)
        let committer = Committer(pipeline: self, filer: filer, deliverer: deliverer)
        while var chunk = filer.next() {
            // After a failed commit nothing more is committed (see `Committer`): no copies are made for it.
            if !committer.hasFailed { generateAndFinish(&chunk) }
            committer.submit(chunk)
        }
        let runs = committer.finish()
        let delivered = deliverer.finish()
        return (runs + delivered.runs, filer.failure ?? delivered.error)
    }

    /// The thread that commits each chunk `drain` generated, in chunk order, while `drain` generates the next
    /// one's copies: a commit holds the ledger's writer and one core, the copies of the next chunk keep the
    /// others busy meanwhile. Once a commit fails, no later chunk is committed: each was planned against the
    /// copies of the ones before it. Their jobs run again once their leases lapse.
    private final class Committer: @unchecked Sendable {
        private let condition = NSCondition()
        private var waiting: ProcessChunk?
        private var closed = false
        private var done = false
        private var failed = false
        private var runs: [JobRun] = []

        init(pipeline: GatewayPipeline, filer: Filer, deliverer: Deliverer) {
            // Unowned, as in `Deliverer`.
            let thread = Thread { [self, unowned pipeline] in
                while true {
                    let next: ProcessChunk? = self.condition.withLock {
                        while self.waiting == nil && !self.closed { self.condition.wait() }
                        defer { self.waiting = nil; self.condition.broadcast() }
                        return self.waiting
                    }
                    guard let chunk = next else { break }
                    if self.hasFailed {
                        let refused = pipeline.commitFailure(chunk.decisions.map { ($0.0, $0.1.line) },
                                                             "not committed: an earlier chunk's commit failed")
                        self.condition.withLock { self.runs += refused }
                        filer.completed(committed: false)
                        continue
                    }
                    let (runs, committed) = pipeline.commitChunk(chunk)
                    self.condition.withLock {
                        self.runs += runs
                        if !committed { self.failed = true }
                    }
                    filer.completed(committed: committed)
                    deliverer.wake()
                }
                self.condition.withLock {
                    self.done = true
                    self.condition.broadcast()
                }
            }
            thread.name = "gateway.commit"
            thread.start()
        }

        /// Whether a commit has failed (nothing after it is committed).
        var hasFailed: Bool { condition.withLock { failed } }

        /// Hands a generated chunk over to be committed, waiting while the one before it is still waiting.
        func submit(_ chunk: ProcessChunk) {
            condition.withLock {
                while waiting != nil { condition.wait() }
                waiting = chunk
                condition.broadcast()
            }
        }

        /// No more chunks: waits until every chunk handed over is committed (or refused), and returns their runs.
        func finish() -> [JobRun] {
            condition.withLock {
                closed = true
                condition.broadcast()
                while !done { condition.wait() }
                return runs
            }
        }
    }

    /// The two threads that lease, decide and map process chunks (`gateway.mapping`), then file and plan them
    /// (`gateway.filing`), one after another, and hand each to `drain` to complete. A chunk is decided and mapped
    /// while the one before it is filed: the two steps need different things (the cores, the ledger's writer),
    /// so neither waits for the other's. A decision that reads the library waits for the chunks before its own to
    /// be filed (`LibraryTurn`), as it would have if they had been filed first. The filing thread keeps the
    /// copies planned for chunks not yet committed (so an amendment in a later chunk sees them). Leasing stops
    /// after a commit fails, when `shouldStop` says so, or when nothing is due and no chunk in hand can make more
    /// due (an archive's members become due when it commits).
    private final class Filer: @unchecked Sendable {
        private let condition = NSCondition()
        /// A chunk decided and mapped, waiting to be filed, with its place in the lease order.
        private var prepared: (sequence: Int, chunk: ProcessChunk)?
        private var handed: ProcessChunk?
        /// Chunks leased and not yet completed (being mapped, filed, waiting, or being completed).
        private var inFlight = 0
        private var stopped = false
        private var mappingEnded = false
        private var ended = false
        private var error: Error?
        private let turn = LibraryTurn()

        init(pipeline: GatewayPipeline, intake: IntakeProgress?, shouldStop: @escaping @Sendable () -> Bool) {
            // Unowned, as in `Deliverer`.
            let mapping = Thread { [self, unowned pipeline] in
                var sequence = 0
                while !shouldStop() {
                    // Read before leasing: when nothing was in flight and the polls were done, an empty lease
                    // means nothing more is due.
                    let polls = intake?.progress ?? (chunks: 0, done: true)
                    guard let busy = self.condition.withLock({ self.stopped ? nil : self.inFlight }) else { break }
                    let jobs: [JobRecord]
                    do {
                        jobs = try pipeline.claim(kind: JobKind.process, ids: nil)
                    } catch {
                        self.condition.withLock { self.error = error }
                        break
                    }
                    if jobs.isEmpty {
                        if busy == 0 {
                            guard let intake, !polls.done else { break }
                            intake.wait(past: polls.chunks)
                            continue
                        }
                        self.condition.withLock {
                            while self.inFlight >= busy && !self.stopped { self.condition.wait() }
                        }
                        continue
                    }
                    for piece in GatewayPipeline.pieces(jobs, leased: pipeline.leaseChunk(JobKind.process)) {
                        self.condition.withLock { self.inFlight += 1 }
                        let turn = self.turn, place = sequence
                        let chunk = pipeline.prepareChunk(Array(piece), libraryReady: { turn.wait(filed: place) })
                        self.condition.withLock {
                            while self.prepared != nil { self.condition.wait() }
                            self.prepared = (place, chunk)
                            self.condition.broadcast()
                        }
                        sequence += 1
                    }
                }
                self.condition.withLock {
                    self.mappingEnded = true
                    self.condition.broadcast()
                }
            }
            mapping.name = "gateway.mapping"
            let filing = Thread { [self, unowned pipeline] in
                var routed: [Int64: [String: String?]] = [:]
                while true {
                    let next: (sequence: Int, chunk: ProcessChunk)? = self.condition.withLock {
                        while self.prepared == nil && !self.mappingEnded { self.condition.wait() }
                        defer { self.prepared = nil; self.condition.broadcast() }
                        return self.prepared
                    }
                    guard let next else { break }
                    var chunk = next.chunk
                    pipeline.fileAndPlan(&chunk, routed: &routed)
                    self.turn.filed(through: next.sequence)
                    self.condition.withLock {
                        while self.handed != nil { self.condition.wait() }
                        self.handed = chunk
                        self.condition.broadcast()
                    }
                }
                self.condition.withLock {
                    self.ended = true
                    self.condition.broadcast()
                }
            }
            filing.name = "gateway.filing"
            mapping.start()
            filing.start()
        }

        /// The next chunk to complete, waiting for it; nil once both threads have ended and every chunk was taken.
        func next() -> ProcessChunk? {
            condition.withLock {
                while handed == nil && !ended { condition.wait() }
                defer { handed = nil; condition.broadcast() }
                return handed
            }
        }

        /// The ledger error that stopped the leasing, if one did.
        var failure: Error? { condition.withLock { error } }

        /// A chunk handed by `next` is completed; a failed commit stops the leasing.
        func completed(committed: Bool) {
            condition.withLock {
                inFlight -= 1
                if !committed { stopped = true }
                condition.broadcast()
            }
        }
    }

    /// How far the filing thread has filed, in lease order: a decision of a later chunk that reads the library
    /// waits here until every chunk before its own is filed.
    private final class LibraryTurn: @unchecked Sendable {
        private let condition = NSCondition()
        private var filed = 0

        /// Chunks 0 through `sequence` are filed.
        func filed(through sequence: Int) {
            condition.withLock {
                filed = sequence + 1
                condition.broadcast()
            }
        }

        /// Waits until the chunks before chunk `sequence` are filed.
        func wait(filed sequence: Int) {
            condition.withLock {
                while filed < sequence { condition.wait() }
            }
        }
    }

    /// The thread that delivers due deliver jobs, chunk after chunk, while `drain` processes: it waits when
    /// none is due, and once told processing is over it delivers what is left and ends.
    private final class Deliverer: @unchecked Sendable {
        private let condition = NSCondition()
        private var processing = true
        private var woken = false
        private var runs: [JobRun] = []
        private var error: Error?
        private var done = false

        init(pipeline: GatewayPipeline, shouldStop: @escaping @Sendable () -> Bool) {
            // Unowned: the caller of `drain` keeps the pipeline. Foundation on Linux releases a `Thread`'s
            // closure in a thread-specific-data destructor as the pthread exits, when libdispatch's per-thread
            // state is already gone; had the closure held the last reference, the pipeline's store would free
            // GRDB's dispatch queues there, which crashes (ThreadSanitizer: SEGV in `_dispatch_queue_dispose`)
            // or corrupts the heap (glibc: "tcache_thread_shutdown(): unaligned tcache chunk detected").
            // So these threads' closures capture nothing that owns a dispatch object.
            let thread = Thread { [self, unowned pipeline] in
                while !shouldStop() {
                    // Read before claiming: when processing had ended already, an empty claim means nothing
                    // more will become due.
                    let wasProcessing = self.condition.withLock { self.processing }
                    let chunk: [JobRun]
                    do {
                        chunk = try pipeline.runDueJobs(kinds: [JobKind.deliver])
                    } catch {
                        self.condition.withLock { self.error = error }
                        break
                    }
                    if !chunk.isEmpty {
                        self.condition.withLock { self.runs += chunk }
                        continue
                    }
                    if !wasProcessing { break }
                    // Nothing due yet: wait for the next process chunk's commit, or for processing to end.
                    self.condition.withLock {
                        while self.processing && !self.woken { self.condition.wait() }
                        self.woken = false
                    }
                }
                self.condition.withLock {
                    self.done = true
                    self.condition.broadcast()
                }
            }
            thread.name = "gateway.deliveries"
            thread.start()
        }

        /// A process chunk committed: its deliveries are due.
        func wake() {
            condition.withLock {
                woken = true
                condition.broadcast()
            }
        }

        /// Processing is over: waits until what is due is delivered, and returns every delivery's run.
        func finish() -> (runs: [JobRun], error: Error?) {
            condition.withLock {
                processing = false
                condition.broadcast()
                while !done { condition.wait() }
                return (runs, error)
            }
        }
    }

    /// One chunk: due process jobs first (they create deliveries), else due deliver jobs. `ids` restricts
    /// it to those jobs (an operator's rerun). Returns what each job did; empty when nothing was due.
    /// Throws when the ledger cannot lease jobs (the caller decides: report, back off, retry).
    public func runDueJobs(ids: [Int64]? = nil) throws -> [JobRun] {
        try runDueJobs(kinds: [JobKind.process, JobKind.deliver], ids: ids)
    }

    /// One chunk of the first of `kinds` that has due jobs.
    func runDueJobs(kinds: [String], ids: [Int64]? = nil) throws -> [JobRun] {
        for kind in kinds {
            let jobs = try claim(kind: kind, ids: ids)
            if jobs.isEmpty { continue }
            return kind == JobKind.process ? processChunk(jobs) : deliverChunk(jobs)
        }
        return []
    }

    /// Leases up to a chunk of due jobs of `kind` (of `ids` only, when given).
    func claim(kind: String, ids: [Int64]?) throws -> [JobRecord] {
        do {
            return try store.claimDueJobs(kinds: [kind], ids: ids, limit: leaseChunk(kind), now: now(),
                                          leaseOwner: owner, leaseSeconds: Self.leaseSeconds)
        } catch {
            logger.error("cannot lease \(kind) jobs: \(error)")
            throw error
        }
    }

    // MARK: - Shared

    func workDirectory(_ partner: PartnerConfiguration) -> String { configuration.spoolRoot + "/work/" + partner.id }

    func display(_ path: String) -> String { Paths.display(path, relativeTo: configuration.spoolRoot) }

    /// Our identity as UNB S002 components.
    var ourIdentity: [String] { [configuration.identity.id] + (configuration.identity.qualifier.map { [$0] } ?? []) }
}

/// One job's attempt as the run report and the operator's rerun show it.
public struct JobRun: Sendable {
    /// The job.
    public var jobId: Int64
    /// Its kind.
    public var kind: String
    /// Its state after the attempt (nil when the attempt could not be committed).
    public var state: JobState?
    /// The line for the run report (partner, file, outcome, reason).
    public var line: IntakeFileResult
    /// For a delivery: where the file is.
    public var receipt: String?
    /// Why, when it did not simply succeed (or a note).
    public var reason: String?
    /// Jobs it enqueued (deliveries of its receipts, members' process jobs).
    public var enqueued: [Int64]
}

/// Who holds a lease: `host:pid:start-time`, so a restarted gateway can tell that a lease's holder is gone
/// (same host, and that pid is not running or is another process since) without waiting for it to expire.
enum ProcessIdentity {
    static let current: String = "\(hostName()):\(getpid()):\(startTime(of: getpid()) ?? 0)"

    /// True when `owner` names a process of this host that is no longer running.
    static func isGone(_ owner: String) -> Bool {
        let parts = owner.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, String(parts[0]) == hostName(), let pid = pid_t(parts[1]) else { return false }
        if owner == current { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        // The pid runs, but is it the same process? Its start time tells (pids are reused).
        if let started = UInt64(parts[2]), let now = startTime(of: pid), started != 0 { return now != started }
        return false
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Field 22 of /proc/PID/stat (start time in clock ticks since boot); nil where /proc is not there.
    static func startTime(of pid: pid_t) -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}

/// A `runOnce`'s polls, running beside its `drain`: how many chunks they have recorded, whether they are done,
/// and, once done, what they picked up.
final class IntakeProgress: @unchecked Sendable {
    /// What the polls picked up.
    struct Polled {
        var lines: [IntakeFileResult] = []
        /// The line of each process job recorded.
        var byProcessJob: [Int64: Int] = [:]
        /// Partners another node was polling.
        var elsewhere: [String] = []
    }

    private let condition = NSCondition()
    private var chunks = 0
    private var polled: Polled?

    /// Chunks recorded so far, and whether the polls are done.
    var progress: (chunks: Int, done: Bool) { condition.withLock { (chunks, polled != nil) } }

    /// A chunk of files was recorded: its process jobs are due.
    func recorded() {
        condition.withLock {
            chunks += 1
            condition.broadcast()
        }
    }

    /// The polls are done.
    func finish(_ result: Polled) {
        condition.withLock {
            polled = result
            condition.broadcast()
        }
    }

    /// Waits until a chunk after the first `chunks` is recorded or the polls are done.
    func wait(past chunks: Int) {
        condition.withLock {
            while self.chunks == chunks && polled == nil { condition.wait() }
        }
    }

    /// Waits until the polls are done; what they picked up.
    func result() -> Polled {
        condition.withLock {
            while polled == nil { condition.wait() }
            return polled!
        }
    }
}
