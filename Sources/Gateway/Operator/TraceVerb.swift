import Foundation

/// `gateway trace REF`: the whole story of a bill of lading, container, manifest, batch, interchange or file
/// in time order: every file received, signature checked, job step, filing, routing decision, copy routed,
/// receipt and copy delivered and picked up.
public enum TraceVerb {
    /// Exit status: 0 when the reference was found, 1 when the ledger knows nothing of it (or cannot be read),
    /// 2 on a configuration error.
    public static func run(reference: String, configPath: String, json: Bool, out: OutputSink, err: OutputSink) -> OperatorStatus {
        OperatorSession.with(path: configPath, out: out, err: err) { session in
            let trace = try session.store?.trace(reference)
                ?? Trace(reference: reference, matchedAs: [], batches: [], manifests: [], events: [])
            if json {
                out.line(OperatorFormat.json(Document(trace)))
            } else if trace.matchedAs.isEmpty {
                err.line("\(reference): not found as a batch, interchange reference, file name, manifest number, bill of lading or container number")
            } else {
                out.line("\(reference): found as \(trace.matchedAs.joined(separator: ", "))"
                         + (trace.manifests.isEmpty ? "" : "; manifest \(trace.manifests.joined(separator: ", "))")
                         + (trace.batches.isEmpty ? "" : "; batch \(trace.batches.map(String.init).joined(separator: ", "))"))
                let rows = trace.events.map { e in
                    [OperatorFormat.time(e.at), e.batchId.map { "B\($0)" } ?? "-", e.kind, e.summary]
                }
                for line in OperatorFormat.table(["TIME", "BATCH", "WHAT", "DETAIL"], rows, alignments: []) { out.line(line) }
            }
            return trace.matchedAs.isEmpty ? .refused : .success
        }
    }

    /// What `--json` prints: times as ISO 8601 UTC.
    struct Document: Encodable {
        var reference: String
        var found: Bool
        var matchedAs: [String]
        var batches: [Int64]
        var manifests: [String]
        var events: [Event]

        struct Event: Encodable {
            var at: String
            var kind: String
            @Nullable var batchId: Int64?
            @Nullable var jobId: Int64?
            @Nullable var partner: String?
            @Nullable var file: String?
            var summary: String
        }

        init(_ t: Trace) {
            reference = t.reference
            found = !t.matchedAs.isEmpty
            matchedAs = t.matchedAs
            batches = t.batches
            manifests = t.manifests
            events = t.events.map {
                Event(at: OperatorFormat.time($0.at), kind: $0.kind, batchId: $0.batchId, jobId: $0.jobId, partner: $0.partner,
                      file: $0.file, summary: $0.summary)
            }
        }
    }
}
