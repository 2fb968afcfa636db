import Foundation
import Gateway
import Jobs

// The job ledger's multi-node benchmark and kill-test driver (issue 8): `scripts/bench-ledger.sh` runs it.
//
//   ledger-bench setup   PG N            migrate the database and enqueue N jobs
//   ledger-bench work    PG OWNER MS     one node: claim 16 at a time, "work" MS ms per job, complete; until none is
//                                        left anywhere; prints "OWNER completed C refused R"
//   ledger-bench counts  PG              the jobs per state, as "state=count ..."
//   ledger-bench sqlite  PATH N MS       the same N jobs through the SQLite ledger by one node, for comparison
//
// PG is host:port/database/user/password-file. Lease: 2 s, so a killed node's jobs come back quickly. Every node,
// SQLite's too, runs the same code: the gateway's store and its job ledger.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ledger-bench: \(message)\n".utf8))
    exit(2)
}

func settings(_ text: String) -> PostgresSettings {
    let parts = text.split(separator: "/", maxSplits: 3).map(String.init)
    guard parts.count == 4, let colon = parts[0].lastIndex(of: ":"), let port = Int(parts[0][parts[0].index(after: colon)...]) else {
        fail("'\(text)' is not host:port/database/user/password-file")
    }
    return PostgresSettings(host: String(parts[0][..<colon]), port: port, database: parts[1], user: parts[2],
                            passwordFile: "/" + parts[3], stateDirectory: "/unused")
}

/// The store, or a clear stop.
func open(_ store: StoreConfiguration) -> GatewayStore {
    do { return try GatewayStore(store) } catch { fail("\(error)") }
}

func counts(_ store: GatewayStore) -> [JobState: Int] {
    do { return try store.jobCounts() } catch { fail("\(error)") }
}

/// One node: claims 16 at a time, "works" `ms` per job, completes; until nothing is queued or running anywhere.
/// A lapsed lease (a killed node's) is taken back to the queue by whichever node notices.
func work(_ store: GatewayStore, owner: String, ms: Int) throws -> (completed: Int, refused: Int) {
    var completed = 0, refused = 0
    while true {
        let jobs = try store.claimDueJobs(limit: 16, now: Date(), leaseOwner: owner, leaseSeconds: 2)
        if jobs.isEmpty {
            try store.requeueExpiredLeases(now: Date())
            let c = counts(store)
            let left = [JobState.queued, .retrying, .running].reduce(0) { $0 + (c[$1] ?? 0) }
            if left == 0 { break }
            usleep(50_000)  // others hold the rest; their leases may lapse
            continue
        }
        for job in jobs {
            if ms > 0 { usleep(useconds_t(ms * 1000)) }
            do {
                try store.complete(job.id, leaseOwner: owner, now: Date())
                completed += 1
            } catch let error as StoreError where error.code == .leaseLost {
                refused += 1
            }
        }
    }
    return (completed, refused)
}

func enqueue(_ store: GatewayStore, _ count: Int) throws {
    let now = Date()
    for i in 0..<count {
        _ = try store.enqueue(JobRequest(kind: "deliver", partner: "P\(i % 5)", input: "{\"n\": \(i)}", idempotencyKey: "bench-\(i)"), now: now)
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "setup" where arguments.count == 3:
    guard let count = Int(arguments[2]) else { fail("N must be a number") }
    do { try enqueue(open(.postgres(settings(arguments[1]))), count) } catch { fail("\(error)") }
case "work" where arguments.count == 4:
    let owner = arguments[2]
    guard let ms = Int(arguments[3]) else { fail("MS must be a number") }
    do {
        let (completed, refused) = try work(open(.postgres(settings(arguments[1]))), owner: owner, ms: ms)
        print("\(owner) completed \(completed) refused \(refused)")
    } catch { fail("\(error)") }
case "counts" where arguments.count == 2:
    let c = counts(open(.postgres(settings(arguments[1]))))
    print(c.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " "))
case "sqlite" where arguments.count == 4:
    guard let count = Int(arguments[2]), let ms = Int(arguments[3]) else { fail("N and MS must be numbers") }
    do {
        let store = open(.sqlite(path: arguments[1]))
        try enqueue(store, count)
        let start = Date()
        let (completed, _) = try work(store, owner: "sqlite", ms: ms)
        print(String(format: "sqlite completed %d in %.2f s", completed, Date().timeIntervalSince(start)))
    } catch {
        fail("\(error)")
    }
default:
    fail("usage: ledger-bench setup PG N | work PG OWNER MS | counts PG | sqlite PATH N MS")
}
