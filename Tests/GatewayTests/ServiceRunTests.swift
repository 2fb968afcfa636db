import Foundation
import GRDB
import Testing
import TestSupport

@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

// `gateway run` as a service, end to end: the real executable polling on a 1-second schedule, serving
// metrics, and stopping gracefully on SIGTERM without losing or doubling a file.

private func serviceConfig(port: Int) -> String {
    runOnceConfig.replacingOccurrences(of: "[[partner]]", with: """
        [metrics]
        listen = "127.0.0.1:\(port)"

        [run]
        idle_poll_seconds = 1
        shutdown_grace_seconds = 20

        [[partner]]
        """) + "\nschedule = \"@every 1s\"\n"
}


/// Starts `gateway run` in `spool`, standard error captured in `stderr.log` there.
private func startService(in spool: Scratch) throws -> Process {
    let exe = try #require(CLI.executable, "the gateway executable was not found; build with `swift build --build-tests`")
    let process = Process()
    process.executableURL = exe
    process.arguments = ["run", "--config", "gateway.toml"]
    process.currentDirectoryURL = spool.url
    process.standardOutput = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    let log = spool.url.appendingPathComponent("stderr.log")
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    process.standardError = try FileHandle(forWritingTo: log)
    try process.run()
    return process
}

/// Waits up to `seconds` for `condition`, checking every 50 ms.
private func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

/// The manifest fixture with its own interchange reference (so each copy is a new batch).
private func manifest(_ i: Int) throws -> String {
    try String(contentsOf: CLI.fixtures.appendingPathComponent("valid/cuscar-d95b-notes.edi"), encoding: .utf8)
        .replacingOccurrences(of: "CUS000123", with: "SVC" + String(format: "%06d", i))
}

@Suite("gateway run as a service", .serialized)
struct ServiceRunTests {
    @Test("polls on schedule, answers every file, serves metrics, stops on SIGTERM with status 0")
    func serviceCycle() throws {
        let spool = try Scratch()
        let port = try freeLoopbackPort()
        _ = try spool.write("gateway.toml", serviceConfig(port: port))
        let drop = spool.url.appendingPathComponent("partners/CARRIERX/drop")
        let pickup = spool.url.appendingPathComponent("partners/CARRIERX/pickup")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        let process = try startService(in: spool)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let log = { (try? String(contentsOf: spool.url.appendingPathComponent("stderr.log"), encoding: .utf8)) ?? "" }

        // Files dropped while it runs are picked up at the next tick and answered.
        for i in 0..<3 { _ = try spool.write("partners/CARRIERX/drop/m\(i).edi", try manifest(i)) }
        #expect(waitUntil(20) { listing(pickup).count == 3 }, "receipts: \(listing(pickup))\n\(log())")
        #expect(listing(drop).isEmpty)

        // Metrics: files in and out per partner, queue depth.
        var scrape: HTTPFetchResult?
        _ = waitUntil(10) {
            scrape = try? httpFetch(port: port, path: "/metrics")
            return scrape?.body.contains("swg_files_out_total{partner=\"CARRIERX\",kind=\"CONTRL\"} 3") == true
        }
        let body = scrape?.body ?? ""
        #expect(body.contains("swg_files_in_total{partner=\"CARRIERX\"} 3"), "\(body)")
        #expect(body.contains("swg_files_out_total{partner=\"CARRIERX\",kind=\"CONTRL\"} 3"), "\(body)")
        #expect(body.contains("swg_queue_depth{kind=\"process\",state=\"queued\"} 0"), "\(body)")
        #expect(body.contains("swg_oldest_waiting_seconds{partner=\"CARRIERX\"}"), "\(body)")
        #expect((try? httpFetch(port: port, path: "/nothing"))?.status == 404)

        kill(process.processIdentifier, SIGTERM)
        #expect(waitUntil(15) { !process.isRunning }, "still running 15 s after SIGTERM\n\(log())")
        #expect(process.terminationStatus == 0, "\(log())")
        #expect(log().contains("gateway stopped"), "\(log())")
        #expect(log().contains("file=m0.edi") && log().contains("partner=CARRIERX"), "logs carry partner and file: \(log())")
    }

    @Test("SIGTERM in the middle of a large drop: the work in hand is finished, the rest waits, nothing lost or doubled")
    func gracefulShutdownLosesNothing() throws {
        let spool = try Scratch()
        let port = try freeLoopbackPort()
        _ = try spool.write("gateway.toml", serviceConfig(port: port))
        let drop = spool.url.appendingPathComponent("partners/CARRIERX/drop")
        let pickup = spool.url.appendingPathComponent("partners/CARRIERX/pickup")
        try FileManager.default.createDirectory(at: drop, withIntermediateDirectories: true)
        let count = 1_500
        for i in 0..<count { _ = try spool.write("partners/CARRIERX/drop/m\(String(format: "%05d", i)).edi", try manifest(i)) }
        let process = try startService(in: spool)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let log = { (try? String(contentsOf: spool.url.appendingPathComponent("stderr.log"), encoding: .utf8)) ?? "" }

        // Stop it as soon as the first pickup has started to take files.
        #expect(waitUntil(30) { listing(drop).count < count }, "nothing picked up\n\(log())")
        kill(process.processIdentifier, SIGTERM)
        #expect(waitUntil(30) { !process.isRunning }, "still running 30 s after SIGTERM\n\(log())")
        #expect(process.terminationStatus == 0, "\(log())")
        #expect(listing(spool.url.appendingPathComponent("work/CARRIERX")).isEmpty, "a graceful stop leaves no claimed file behind")
        let answered = listing(pickup).count, left = listing(drop).count
        #expect(left > 0, "the stop came after the whole drop was taken, so it proved nothing (\(answered) answered)")
        #expect(log().contains("pickup stopped for shutdown"), "\(log())")

        // Whatever was not answered yet is finished by one run --once; then every file has exactly one receipt.
        let final = try spool.gateway("run", "--once", "--config", "gateway.toml")
        #expect(final.status == 0, "\(final)")
        let receipts = listing(pickup)
        #expect(receipts.count == count, "\(receipts.count) receipts for \(count) files (\(answered) answered and \(left) left in the drop at the stop)")
        #expect(Set(receipts.map { $0.split(separator: "-")[2] }).count == count, "one receipt per interchange reference")
        #expect(listing(drop).isEmpty)
        let db = try DatabaseQueue(path: spool.url.appendingPathComponent("state/gateway.sqlite").path)
        let (batches, unfinished) = try db.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM batch") ?? -1,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM job WHERE state IN ('queued', 'running', 'retrying')") ?? -1)
        }
        #expect(batches == count)
        #expect(unfinished == 0)
    }
}
