import Foundation
import Testing

@testable import Gateway

// A delivered receipt the partner has taken away (deleted from its pickup directory) is noticed at the
// next poll and shown by `gateway jobs show` as collected.

@Suite("Collected deliveries")
struct CollectedTests {
    @Test("jobs show tells a delivered receipt still waiting from one the partner collected")
    func collected() throws {
        let scratch = try Scratch()
        _ = try scratch.write("gateway.toml", runOnceConfig)
        try FileManager.default.createDirectory(at: scratch.url.appendingPathComponent("partners/CARRIERX/drop"),
                                                withIntermediateDirectories: true)
        _ = try scratch.write("partners/CARRIERX/drop/m.edi", sftpInterchange("M1"))
        var run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        let store = try scratch.openStore()
        let deliver = try #require(try store.jobs(kind: JobKind.deliver).first)
        var show = try scratch.gateway("jobs", "show", "\(deliver.id)", "--config", "gateway.toml")
        #expect(show.stdout.contains("collected   not yet (still in the pickup directory)"), "\(show)")

        // The carrier takes its receipt; the next poll notices.
        let pickup = scratch.url.appendingPathComponent("partners/CARRIERX/pickup")
        for name in try FileManager.default.contentsOfDirectory(atPath: pickup.path) {
            try FileManager.default.removeItem(at: pickup.appendingPathComponent(name))
        }
        run = try scratch.gateway("run", "--once", "--config", "gateway.toml")
        #expect(run.status == 0, "\(run)")
        show = try scratch.gateway("jobs", "show", "\(deliver.id)", "--config", "gateway.toml")
        #expect(show.stdout.contains("collected   noticed gone from the pickup directory at 20"), "\(show)")
        let json = try scratch.gateway("jobs", "show", "\(deliver.id)", "--json", "--config", "gateway.toml")
        #expect(json.stdout.contains("\"collectedAt\": \"20"), "\(json)")
    }
}

/// A small valid CUSCAR interchange with reference `ref`, `padding` bytes of FTX segments longer.
func sftpInterchange(_ ref: String, padding: Int = 0) -> String {
    var text = "UNA:+.? 'UNB+UNOC:3+CARRIERX:ZZZ+SWGATEWAY:ZZZ+260601:1200+\(ref)'UNH+1+CUSCAR:D:95B:UN'BGM+85+\(ref)+9'"
    var segments = 2
    var filler = padding
    while filler > 0 {
        text += "FTX+AAA+++\(String(repeating: "X", count: 60))'"
        filler -= 73
        segments += 1
    }
    return text + "UNT+\(segments + 1)+1'UNZ+1+\(ref)'"
}
