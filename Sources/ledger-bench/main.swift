import Foundation
import Gateway

// The job ledger's multi-node benchmark and kill-test driver (issue 8): `scripts/bench-ledger.sh` runs it.
//
//   ledger-bench setup   PG N            migrate the database and enqueue N jobs
//   ledger-bench work    PG OWNER MS     one node: claim 16 at a time, "work" MS ms per job, complete; until none is
//                                        left anywhere; prints "OWNER completed C refused R"
//   ledger-bench counts  PG              the jobs per state, as "state=count ..."
//   ledger-bench sqlite  PATH N MS       the same N jobs through the SQLite ledger by one node, for comparison
//
// PG is host:port/database/user/password-file. Lease: 2 s, so a killed node's jobs come back quickly.

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

/// Runs async work from this synchronous entry point.
func blocking(_ work: @escaping @Sendable () async throws -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await work() } catch { fail("\(error)") }
        done.signal()
    }
    done.wait()
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "setup" where arguments.count == 3:
    let s = settings(arguments[1])
    guard let count = Int(arguments[2]) else { fail("N must be a number") }
    blocking {
        let ledger = try await PostgresLedger.connect(s)
        try await ledger.migrate()
        let now = Date()
        for i in 0..<count {
            _ = try await ledger.enqueue(kind: "deliver", partner: "P\(i % 5)", batchId: nil, input: "{\"n\": \(i)}",
                                         idempotencyKey: "bench-\(i)", maxAttempts: 5, now: now)
        }
        await ledger.close()
    }
case "work" where arguments.count == 4:
    let s = settings(arguments[1])
    let owner = arguments[2]
    guard let ms = Int(arguments[3]) else { fail("MS must be a number") }
    blocking {
        let ledger = try await PostgresLedger.connect(s)
        var completed = 0, refused = 0
        while true {
            let jobs = try await ledger.claim(owner: owner, limit: 16, leaseSeconds: 2, now: Date())
            if jobs.isEmpty {
                let counts = try await ledger.jobCounts()
                if (counts["queued"] ?? 0) + (counts["retrying"] ?? 0) + (counts["running"] ?? 0) == 0 { break }
                try await Task.sleep(for: .milliseconds(50))  // others hold the rest; their leases may lapse
                continue
            }
            for job in jobs {
                if ms > 0 { try await Task.sleep(for: .milliseconds(ms)) }
                if try await ledger.complete(job.id, owner: owner, now: Date()) { completed += 1 } else { refused += 1 }
            }
        }
        await ledger.close()
        print("\(owner) completed \(completed) refused \(refused)")
    }
case "counts" where arguments.count == 2:
    let s = settings(arguments[1])
    blocking {
        let ledger = try await PostgresLedger.connect(s)
        let counts = try await ledger.jobCounts()
        await ledger.close()
        print(counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    }
case "sqlite" where arguments.count == 4:
    guard let count = Int(arguments[2]), let ms = Int(arguments[3]) else { fail("N and MS must be numbers") }
    do {
        let store = try GatewayStore(path: arguments[1])
        let now = Date()
        for i in 0..<count {
            _ = try store.enqueue(JobRequest(kind: "deliver", partner: "P\(i % 5)", input: "{\"n\": \(i)}", idempotencyKey: "bench-\(i)"), now: now)
        }
        let start = Date()
        var completed = 0
        while true {
            let jobs = try store.claimDueJobs(limit: 16, now: Date(), leaseOwner: "sqlite", leaseSeconds: 2)
            if jobs.isEmpty { break }
            for job in jobs {
                if ms > 0 { usleep(useconds_t(ms * 1000)) }
                try store.complete(job.id, leaseOwner: "sqlite", now: Date())
                completed += 1
            }
        }
        print(String(format: "sqlite completed %d in %.2f s", completed, Date().timeIntervalSince(start)))
    } catch {
        fail("\(error)")
    }
default:
    fail("usage: ledger-bench setup PG N | work PG OWNER MS | counts PG | sqlite PATH N MS")
}
