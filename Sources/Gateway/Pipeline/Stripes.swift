import Foundation

/// Runs work items on several threads at once, results in the items' order: `run` deals item i to stripe i mod n,
/// for the transfers of one chunk over several SFTP sessions (a session is never shared between threads); `balanced`
/// lets each thread take the next item, for the CPU-bound steps of routing a chunk's manifests (mapping, generating
/// the copies) and local deliveries on every core.
enum Stripes {
    /// Unchecked: each stripe's state and each result slot is touched by exactly one thread; `next` under `lock`.
    private final class Shared<Item, Result>: @unchecked Sendable {
        let items: [Item]
        var results: [Result?]
        let body: (Item, Int) -> Result

        private let lock = NSLock()
        private var next = 0

        init(_ items: [Item], _ body: @escaping (Item, Int) -> Result) {
            self.items = items
            self.results = Array(repeating: nil, count: items.count)
            self.body = body
        }

        /// The next index no thread has taken yet (`balanced`), nil when all are taken.
        func take() -> Int? {
            lock.withLock {
                guard next < items.count else { return nil }
                next += 1
                return next - 1
            }
        }
    }

    /// `body(item, stripe)` for every item, on `stripes` threads.
    static func run<Item, Result>(_ items: [Item], stripes: Int, _ body: @escaping (Item, Int) -> Result) -> [Result] {
        let stripes = max(1, min(stripes, items.count))
        guard stripes > 1 else { return items.map { body($0, 0) } }
        let shared = Shared(items, body)
        shared.results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: stripes) { stripe in
                for index in stride(from: stripe, to: shared.items.count, by: stripes) {
                    slots[index] = shared.body(shared.items[index], stripe)
                }
            }
        }
        return shared.results.map { $0! }
    }

    /// `body(item)` for every item on `threads` threads, each taking the next item not yet taken, results in the
    /// items' order: for CPU-bound items of unequal size. A chunk's copies alternate in size (an 80 KB maritime XML
    /// with its schema check beside a 4 KB border one): dealt out i mod n, one thread got the large ones and the
    /// other waited at the end of every chunk. The threads run at a lower priority (`WorkerPriority`).
    static func balanced<Item, Result>(_ items: [Item], threads: Int, _ body: @escaping (Item) -> Result) -> [Result] {
        let threads = max(1, min(threads, items.count))
        guard threads > 1 else { return items.map(body) }
        let shared = Shared(items) { item, _ in body(item) }
        shared.results.withUnsafeMutableBufferPointer { slots in
            nonisolated(unsafe) let slots = slots
            DispatchQueue.concurrentPerform(iterations: threads) { _ in
                WorkerPriority.lower()
                while let index = shared.take() { slots[index] = shared.body(shared.items[index], 0) }
            }
        }
        return shared.results.map { $0! }
    }

    /// `body(item, session)` for every item, each stripe on its own session.
    static func run<Item, Result>(_ items: [Item], over sessions: [SFTPSession],
                                  _ body: @escaping (Item, SFTPSession) -> Result) -> [Result] {
        nonisolated(unsafe) let sessions = sessions
        return run(items, stripes: sessions.count) { item, stripe in body(item, sessions[stripe]) }
    }
}

/// The threads of the parallel steps (mapping, copies, local deliveries) run at nice +5 from the process's value, so
/// the scheduler favours the threads that file and commit chunks in the ledger, one chunk after another: every chunk
/// waits for them. At equal priority, Linux split the two cores evenly between five or six busy threads, and the
/// filing thread, the pipeline's slowest stage, got a third of a core (filing took 2.1 s of a 2.6 s routed run).
/// 1.02x for that run (median of six alternations). Lowering is per thread on Linux and cannot be undone without
/// privilege, so a thread once lowered stays so; the filing, commit and pickup threads are never lowered.
enum WorkerPriority {
    /// The process's nice value, read before any thread is lowered (`GatewayPipeline.drain` reads it first).
    static let base: Int32 = {
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? value : 0
    }()

    /// Sets the calling thread's nice value to `base + 5` (at most 19); the same each time, so calling again does
    /// nothing more. A refusal changes nothing: the thread keeps its priority.
    static func lower() {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, min(19, base + 5))
    }
}
