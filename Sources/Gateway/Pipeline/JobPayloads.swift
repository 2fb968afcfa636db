import Foundation

/// The pipeline's job kinds: stable names stored in the ledger (never rename one).
public enum JobKind {
    /// One poll of a partner's drop directory: claim, store, ledger (`gateway run` schedules these).
    public static let pickup = "pickup"
    /// One batch: validate, judge, build its receipts (archives: unpack into member batches).
    public static let process = "process"
    /// One outbound file (a receipt now; routed copies later) written to a partner's pickup directory.
    public static let deliver = "deliver"
}

/// Stable error codes the pipeline gives jobs, quarantines and metrics (never change one's meaning).
public enum PipelineErrorCode {
    /// Not an EDIFACT interchange, or no UNB sender or reference to answer: set aside, answered by APERAK.
    public static let unreadable = "intake.unreadable"
    /// Still incomplete by content after the partner's deadline: set aside, answered by APERAK.
    public static let incomplete = "intake.incomplete"
    /// The stored bytes could not be read (raw store I/O): retried.
    public static let rawIO = "raw.io"
    /// A receipt could not be written to the pickup directory: retried.
    public static let deliverIO = "deliver.io"
    /// The final name of a delivery already holds other bytes: never overwritten, an operator decides.
    public static let deliverNameTaken = "deliver.name-taken"
    /// The job names a partner the configuration no longer has.
    public static let unknownPartner = "config.unknown-partner"
    /// A reply could not be built (a value does not fit the partner's syntax).
    public static let replyUnwritable = "reply.unwritable"
    /// Larger than what is checked in memory (`InMemoryLimits`): set aside, answered by APERAK.
    public static let tooLarge = "intake.too-large"
}

/// The largest files the process step reads whole into memory. EDIFACT is validated streaming and
/// archives are unpacked to disk, so these bound only what must be held at once: a document whose
/// signature is checked (CMS over the bytes, XML-DSig over the tree), an XML document parsed into a
/// tree, and a detached `.p7s`. A larger file is quarantined (`intake.too-large`) with its size and
/// the limit, never read: one hostile upload must not exhaust the worker's memory.
public enum InMemoryLimits {
    /// Signed or XML documents, by default: 256 MiB (a manifest of 20 000 containers in XML is about
    /// 40 MB); `[gateway] max_document_mib` sets it.
    public static let documentBytes: Int64 = 256 << 20
    /// A detached CMS signature: 1 MiB (a signature with a three-certificate chain is about 5 KB).
    public static let detachedSignatureBytes: Int64 = 1 << 20
}

/// A process job's input: where its batch came from and how its receipts are named.
struct ProcessInput: Codable, Equatable {
    /// The claim stamp (`<nanos>.<random>`) that names this arrival's receipts.
    var stamp: String
    /// True for an identical replay: answer again, change nothing in the ledger.
    var replay: Bool?
    /// Set when the file was still incomplete after its deadline: quarantine with this reason.
    var incomplete: String?
    /// The name this arrival had in the drop (a replay's differs from its batch's first name).
    var name: String?
}

/// A deliver job's input: which stored bytes go where under which name.
struct DeliverInput: Codable, Equatable {
    /// CONTRL or APERAK (later: routed message kinds).
    var kind: String
    /// The final file name in the partner's pickup directory.
    var file: String
    /// SHA-256 of the bytes in the raw store.
    var sha256: String
    /// Whether delivering it records the batch's receipt (false for the answers to identical replays).
    var records: Bool

    /// The job row's input: what `JobJSON.encode` writes (sorted keys), written by hand because a routed
    /// manifest asks for five of these and JSONEncoder cost more than storing the file.
    var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.field("file", file)
        w.field("kind", kind)
        w.field("records", records)
        w.field("sha256", sha256)
        w.endObject()
        return w.text
    }

    /// A job row's input read back. The text `json` writes is read by hand when it has no escapes (the usual
    /// case: JSONDecoder cost more per delivery than writing the file); anything else goes through JSONDecoder.
    static func decode(_ text: String?) -> DeliverInput? {
        guard let text else { return nil }
        return canonical(text) ?? JobJSON.decode(DeliverInput.self, text)
    }

    /// `{"file":"…","kind":"…","records":true|false,"sha256":"…"}` exactly, with no backslash anywhere; else nil.
    private static func canonical(_ text: String) -> DeliverInput? {
        var text = text
        return text.withUTF8 { bytes -> DeliverInput? in
            guard !bytes.contains(UInt8(ascii: "\\")) else { return nil }
            var at = 0
            func literal(_ expected: StaticString) -> Bool {
                let count = expected.utf8CodeUnitCount
                guard at + count <= bytes.count,
                      memcmp(bytes.baseAddress! + at, expected.utf8Start, count) == 0 else { return false }
                at += count
                return true
            }
            func string() -> String? {
                guard literal("\""), let end = bytes[at...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
                defer { at = end + 1 }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[at..<end]), as: UTF8.self)
            }
            guard literal("{\"file\":"), let file = string(), literal(",\"kind\":"), let kind = string(),
                  literal(",\"records\":") else { return nil }
            let records: Bool
            if literal("true") { records = true } else if literal("false") { records = false } else { return nil }
            guard literal(",\"sha256\":"), let sha256 = string(), literal("}"), at == bytes.count else { return nil }
            return DeliverInput(kind: kind, file: file, sha256: sha256, records: records)
        }
    }
}

/// What a process job leaves on the job row (`gateway jobs show`).
struct ProcessOutput: Codable, Equatable {
    /// accepted, rejected, conflict, replay, quarantined, unpacked.
    var outcome: String
    /// Interchanges found in the file.
    var interchanges: Int?
    /// Findings summary, when not accepted.
    var findings: String?
    /// Receipts it asked to deliver (file names).
    var receipts: [String]
    /// Archive members recorded (names), for an archive.
    var members: [String]?
    /// Copies routed to agencies (`AGENCY/file`), for a manifest.
    var routed: [String]? = nil
}

/// What a deliver job leaves on the job row.
struct DeliverOutput: Codable, Equatable {
    /// Where the file is (relative to the spool root when inside it).
    var path: String
    /// True when it was already there with the same bytes (a rerun or a recovery): nothing written.
    var alreadyThere: Bool

    /// The job row's output, as `JobJSON.encode` writes it (sorted keys), by hand as `DeliverInput.json` is.
    var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.field("alreadyThere", alreadyThere)
        w.field("path", path)
        w.endObject()
        return w.text
    }
}

/// JSON for job input/output columns: sorted keys, so the same value always gives the same text.
enum JobJSON {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
