import Foundation
import Testing
import TestSupport

@testable import Gateway

// `gateway jobs rerun` and `gateway quarantine release` through the real executable: a rerun judges the stored
// bytes again, never sends a receipt twice, and says what it did and did not do.


/// The jobs of the ledger as `gateway jobs list --json` prints them: (id, kind, state, file, error code).
private func jobs(_ scratch: Scratch) throws -> [(id: Int64, kind: String, state: String, file: String?, code: String?)] {
    let run = try scratch.gateway("jobs", "list", "--config", "gateway.toml", "--json", "--limit", "100")
    try #require(run.status == 0, "\(run)")
    let document = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let list = try #require(document["jobs"] as? [[String: Any]])
    return list.map {
        (($0["id"] as? NSNumber)?.int64Value ?? -1, $0["kind"] as? String ?? "", $0["state"] as? String ?? "",
         $0["fileName"] as? String, $0["errorCode"] as? String)
    }
}

/// A scratch spool with the run --once configuration and the carrier's drop directory.
private func spool() throws -> Scratch {
    let scratch = try Scratch()
    _ = try scratch.write("gateway.toml", runOnceConfig)
    try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop"),
                                            withIntermediateDirectories: true)
    return scratch
}

@Suite("gateway jobs rerun and quarantine release")
struct RerunTests {
    @Test("a rerun judges the stored bytes again and never sends a receipt twice; refusals say why")
    func rerunNeverResends() throws {
        let scratch = try spool()
        let good = try String(contentsOf: CLI.fixtures.appendingPathComponent("valid/cuscar-d95b-notes.edi"), encoding: .utf8)
        _ = try scratch.write("partners/CARRIERX/drop/good.edi", good)
        _ = try scratch.write("partners/CARRIERX/drop/junk.edi", "this is not an interchange\n")
        var run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        try #require(run.status == 0, "\(run)")
        let pickup = scratch.url.appendingPathComponent("partners/CARRIERX/pickup")
        let receipts = listing(pickup)
        #expect(receipts.count == 2 && receipts.contains { $0.hasPrefix("APERAK-") }, "\(receipts)")

        let all = try jobs(scratch)
        let goodJob = try #require(all.first { $0.kind == "process" && $0.file == "good.edi" })
        let junkJob = try #require(all.first { $0.kind == "process" && $0.file == "junk.edi" })
        let pickupJob = try #require(all.first { $0.kind == "pickup" })
        #expect(junkJob.state == "quarantined" && junkJob.code == "intake.unreadable", "\(junkJob)")

        // The accepted file: judged again, its CONTRL not sent again.
        run = try scratch.gateway("jobs", "rerun", String(goodJob.id), "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("job \(goodJob.id) (process, good.edi): succeeded → succeeded; accepted"), "\(run)")
        #expect(run.stdout.contains("judged the stored bytes of batch 1 again: accepted"), "\(run)")
        #expect(run.stdout.contains("CONTRL-1-CUS000123-") && run.stdout.contains("not sent again"), "\(run)")
        #expect(listing(pickup) == receipts)

        // The quarantined one: released, still unreadable, its APERAK not sent again; JSON for scripts.
        run = try scratch.gateway("quarantine", "release", String(junkJob.id), "--config", "gateway.toml", "--json")
        #expect(run.status == 0, "\(run)")
        let released = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(released["previousState"] as? String == "quarantined")
        #expect(released["state"] as? String == "quarantined")
        #expect((released["actions"] as? [String])?.contains { $0.hasPrefix("APERAK-2-") && $0.hasSuffix("not sent again") } == true,
                "\(run)")
        #expect(listing(pickup) == receipts)

        // Refusals: release of a job that is not quarantined, rerun of a pickup, an unknown job.
        run = try scratch.gateway("quarantine", "release", String(goodJob.id), "--config", "gateway.toml")
        #expect(run.status == 1 && run.stderr.contains("is succeeded, not quarantined"), "\(run)")
        run = try scratch.gateway("jobs", "rerun", String(pickupJob.id), "--config", "gateway.toml")
        #expect(run.status == 1 && run.stderr.contains("is a pickup job: it is not rerun"), "\(run)")
        run = try scratch.gateway("jobs", "rerun", "999", "--config", "gateway.toml")
        #expect(run.status == 1 && run.stderr == "job 999 not found\n", "\(run)")
        // Nothing above recorded a second batch.
        let store = try scratch.openStore()
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM batch") } == 2)
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM receipt") } == 2)
    }

    @Test("a delivery that failed (pickup is not a directory) is retried by the operator once fixed, then never again")
    func failedDeliveryRerun() throws {
        let scratch = try spool()
        let good = try String(contentsOf: CLI.fixtures.appendingPathComponent("valid/cuscar-d95b-notes.edi"), encoding: .utf8)
        _ = try scratch.write("partners/CARRIERX/drop/good.edi", good)
        // The pickup "directory" is a file: the claim and the ledger work, the delivery cannot.
        _ = try scratch.write("partners/CARRIERX/pickup", "in the way\n")
        var run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.contains("CARRIERX good.edi: failed"), "\(run)")
        #expect(listing(scratch.url.appendingPathComponent("partners/CARRIERX/drop")).isEmpty, "the file is in the ledger")
        let deliver = try #require(try jobs(scratch).first { $0.kind == "deliver" })
        #expect(deliver.state == "retrying" && deliver.code == "deliver.io", "\(deliver)")

        try FileManager.default.removeItem(at: scratch.url.appendingPathComponent("partners/CARRIERX/pickup"))
        run = try scratch.gateway("jobs", "rerun", String(deliver.id), "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("retrying → succeeded"), "\(run)")
        #expect(run.stdout.contains("delivered partners/CARRIERX/pickup/CONTRL-1-CUS000123-"), "\(run)")
        let pickup = listing(scratch.url.appendingPathComponent("partners/CARRIERX/pickup"))
        #expect(pickup.count == 1 && pickup[0].hasPrefix("CONTRL-1-"), "\(pickup)")

        // Delivered once: the partner takes the file away; a second rerun does not send it again.
        try FileManager.default.removeItem(at: scratch.url.appendingPathComponent("partners/CARRIERX/pickup/" + pickup[0]))
        run = try scratch.gateway("jobs", "rerun", String(deliver.id), "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("not sent again (a rerun never sends a delivery twice)"), "\(run)")
        #expect(listing(scratch.url.appendingPathComponent("partners/CARRIERX/pickup")).isEmpty)
    }
}
