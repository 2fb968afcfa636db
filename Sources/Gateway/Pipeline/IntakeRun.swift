import EDIFACT
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What happened to one file in one `gateway run --once`.
public enum IntakeFileOutcome: String, Sendable, Codable, CaseIterable {
    /// Stored, ledgered, syntax accepted; CONTRL (UCI action 7) written.
    case accepted
    /// Stored, ledgered, syntax rejected; CONTRL with the errors written.
    case rejected
    /// The same bytes arrived again: acknowledged again, nothing else done.
    case replay
    /// Same interchange reference as an earlier batch with different bytes: rejected with 0085 code 26.
    case conflict
    /// Set aside in `<spool>/quarantine/<partner>/` with a `NAME.reason.txt`.
    case quarantined
    /// Not complete yet (by content): left in the drop directory for a later run.
    case waiting
    /// Could not be handled (I/O error); the file stays where it was for the next run.
    case failed
}

/// One file's line in the run report.
public struct IntakeFileResult: Sendable, Codable, Equatable {
    /// The partner id.
    public var partner: String
    /// The file's name as the partner dropped it.
    public var file: String
    /// What happened.
    public var outcome: IntakeFileOutcome
    /// The ledger batch the file belongs to, when it reached the ledger.
    public var batchId: Int64?
    /// The receipt written (path relative to the spool root when inside it), if any.
    public var receipt: String?
    /// Why (quarantine reason, waiting reason, error text, or a note such as "recovered after a crash").
    public var reason: String?
}

/// The whole run: every file's result, in processing order.
public struct IntakeRunReport: Sendable, Codable, Equatable {
    /// One entry per file touched (or left waiting).
    public var files: [IntakeFileResult]

    /// Count of files per outcome (every outcome present, zero included).
    public var counts: [String: Int] {
        var c = Dictionary(uniqueKeysWithValues: IntakeFileOutcome.allCases.map { ($0.rawValue, 0) })
        for f in files { c[f.outcome.rawValue, default: 0] += 1 }
        return c
    }

    /// Whether any file could not be handled (exit status 1).
    public var hadFailures: Bool { files.contains { $0.outcome == .failed } }
}

/// One honest pickup → ledger → receipt cycle over every partner's local drop directory (`gateway run --once`).
///
/// Per partner, in configuration order: files left in the work area by a crash are finished first (from the
/// raw-store step, which is idempotent); then each ready file of the drop is checked for completeness by
/// content, claimed atomically into `<spool>/work/<partner>/` (in chunks of `claimChunk`, each chunk's claims made
/// durable by one fsync of each directory), stored by hash, validated in 64 KiB chunks, ledgered, answered with a
/// CONTRL in the pickup directory, and only then removed from the work area (at the end of its chunk).
public struct IntakeRun {
    /// The loaded configuration.
    public let configuration: GatewayConfiguration
    /// The ledger.
    public let store: GatewayStore
    /// The content-addressed raw bytes.
    public let raw: RawStore
    /// The clock (injected for tests).
    public let now: @Sendable () -> Date

    /// Opens the store and raw store named by `configuration` (raw bytes live in `raw/` beside the database).
    public init(configuration: GatewayConfiguration, now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.configuration = configuration
        guard case .sqlite(let path) = configuration.store else { fatalError("unreachable: only sqlite exists") }
        let directory = Paths.parent(of: path)
        try Self.makeDirectories(directory)
        self.store = try GatewayStore(path: path)
        self.raw = try RawStore(root: directory + "/raw")
        self.now = now
    }

    /// Runs one cycle over every partner and returns what happened to each file.
    public func runOnce() -> IntakeRunReport {
        // Raw-store temporaries of a run that crashed mid-write (its pid is gone, or they are an hour old).
        _ = try? raw.removeStaleTemporaries(olderThanSeconds: 3600, now: now().timeIntervalSince1970)
        var results: [IntakeFileResult] = []
        for partner in configuration.partners {
            results += runPartner(partner)
        }
        return IntakeRunReport(files: results)
    }

    // MARK: - Per partner

    func workDirectory(_ partner: PartnerConfiguration) -> String { configuration.spoolRoot + "/work/" + partner.id }
    func quarantineDirectory(_ partner: PartnerConfiguration) -> String {
        configuration.spoolRoot + "/quarantine/" + partner.id
    }

    func runPartner(_ partner: PartnerConfiguration) -> [IntakeFileResult] {
        var results: [IntakeFileResult] = []
        let work = workDirectory(partner)
        do {
            for dir in [partner.dropDirectory, partner.pickupDirectory, work, quarantineDirectory(partner)] {
                try Self.makeDirectories(dir)
            }
        } catch {
            return [IntakeFileResult(partner: partner.id, file: "-", outcome: .failed, reason: "\(error)")]
        }
        // 1. Crash recovery: whatever is in the work area was claimed and not finished.
        do {
            let leftovers = try DropDirectory.listRegularFiles(work).keys.filter { !$0.hasPrefix(".") }.sorted()
            for name in leftovers {
                let path = DropDirectory.join(work, name)
                let original = Self.originalName(workName: name, partner: partner.id)
                do {
                    var st = stat()
                    guard lstat(path, &st) == 0 else {
                        throw IntakeError.system("run.stat", path: path, operation: "stat the work file")
                    }
                    let claimed = ClaimedFile(
                        partner: partner.id, originalName: original, originalPath: "", workPath: path,
                        size: Int64(st.st_size), modified: FileTime(seconds: Int64(st.st_mtim.tv_sec),
                                                                     nanoseconds: Int64(st.st_mtim.tv_nsec)),
                        removedMarkers: [])
                    var finished: [String] = []
                    var result = try process(claimed, partner: partner, finished: &finished)
                    try Self.remove(finished, directory: work)
                    result.reason = result.reason.map { "recovered after a crash; " + $0 } ?? "recovered after a crash"
                    results.append(result)
                } catch {
                    results.append(IntakeFileResult(partner: partner.id, file: original, outcome: .failed, reason: "\(error)"))
                }
            }
        } catch {
            results.append(IntakeFileResult(partner: partner.id, file: "-", outcome: .failed, reason: "\(error)"))
        }
        // 2. The drop directory.
        var memory = StabilityMemory()
        let ready: [ReadyFile]
        do {
            ready = try DropDirectory.scan(directory: partner.dropDirectory, patterns: partner.patterns,
                                           convention: partner.readiness, memory: &memory)
        } catch {
            results.append(IntakeFileResult(partner: partner.id, file: "-", outcome: .failed, reason: "\(error)"))
            return results
        }
        var start = 0
        while start < ready.count {
            let chunk = ready[start..<min(start + Self.claimChunk, ready.count)]
            start = chunk.endIndex
            results += pickUp(chunk, partner: partner)
        }
        return results
    }

    /// How many ready files are claimed before their claims are made durable together (one fsync of the drop
    /// and one of the work directory per chunk instead of per file), and how many finished work files are
    /// removed before the work directory is fsynced once.
    static let claimChunk = 256

    /// Completeness and claim for every file of `chunk`, the claims made durable with one fsync of each
    /// directory, then each claimed file processed; the finished work files are removed at the end of the chunk.
    ///
    /// Why this keeps every promise: a claim that a crash undoes puts the file back in the drop (nothing was
    /// stored or answered for it yet, since processing starts after the fsyncs); a work file whose removal a
    /// crash undoes is finished again by the recovery step, which finds its ledger row and its receipt (same
    /// claim stamp, same receipt name) and redoes nothing.
    func pickUp(_ chunk: ArraySlice<ReadyFile>, partner: PartnerConfiguration) -> [IntakeFileResult] {
        var results: [IntakeFileResult] = []
        var claimed: [ClaimedFile] = []
        for file in chunk {
            do {
                switch try ContentCompleteness.check(path: file.path,
                                                     deadlineSeconds: Double(partner.incompleteDeadlineSeconds)) {
                case .incomplete(let reason):
                    results.append(IntakeFileResult(partner: partner.id, file: file.name, outcome: .waiting, reason: reason))
                    continue
                case .expired(let reason):
                    // Quarantined before any claim: the rename into quarantine is the claim; no ledger row.
                    try quarantine(path: file.path, name: file.name, partner: partner, reason: reason, stamp: nil)
                    results.append(IntakeFileResult(partner: partner.id, file: file.name, outcome: .quarantined, reason: reason))
                    continue
                case .complete, .notRecognized:
                    break
                }
                if case .claimed(let taken) = try Claim.take(file: file, partner: partner.id,
                                                              workDirectory: workDirectory(partner),
                                                              syncDirectories: false) {
                    claimed.append(taken)
                }
            } catch {
                results.append(IntakeFileResult(partner: partner.id, file: file.name, outcome: .failed, reason: "\(error)"))
            }
        }
        guard !claimed.isEmpty else { return results }
        do {
            try Claim.syncDirectory(workDirectory(partner))
            try Claim.syncDirectory(partner.dropDirectory)
        } catch {
            // Not durably claimed: leave the files in the work area for the next run's recovery step.
            for file in claimed {
                results.append(IntakeFileResult(partner: partner.id, file: file.originalName, outcome: .failed,
                                                reason: "\(error)"))
            }
            return results
        }
        var finished: [String] = []
        for file in claimed {
            do {
                results.append(try process(file, partner: partner, finished: &finished))
            } catch {
                results.append(IntakeFileResult(partner: partner.id, file: file.originalName, outcome: .failed,
                                                reason: "\(error)"))
            }
        }
        do {
            try Self.remove(finished, directory: workDirectory(partner))
        } catch {
            // The ledger and the receipts are durable; the leftovers are finished (no-op) by the next run's recovery.
            results.append(IntakeFileResult(partner: partner.id, file: "-", outcome: .failed, reason: "\(error)"))
        }
        return results
    }

    // MARK: - From the raw store on (also crash recovery)

    /// Stores, validates, ledgers and answers one claimed file. When it is done with the work file (ledgered and
    /// answered), its path is appended to `finished` for the caller to remove (and fsync the work directory);
    /// a file set aside is moved into quarantine here instead.
    func process(_ claimed: ClaimedFile, partner: PartnerConfiguration, finished: inout [String]) throws
        -> IntakeFileResult
    {
        let receivedAt = now()
        let stamp = Self.stamp(workPath: claimed.workPath, partner: partner.id)
        let object = try raw.put(fileAt: claimed.workPath)
        let reports = try Self.validate(path: claimed.workPath)
        let first = reports.first
        let sender = first.flatMap { $0.sender.first }.flatMap { $0.isEmpty ? nil : $0 }
        let reference = first.flatMap { $0.reference.isEmpty ? nil : $0.reference }
        let isArchive = Self.looksLikeArchive(claimed.originalName)
        let record = IntakeRecord(
            partner: partner.id, originalName: claimed.originalName, size: object.size,
            mtime: Date(timeIntervalSince1970: Double(claimed.modified.seconds) + Double(claimed.modified.nanoseconds) / 1e9),
            digest: object.digest, interchangeRef: isArchive ? nil : reference, senderId: isArchive ? nil : sender,
            receivedAt: receivedAt,
            // The claim's unique work name: recovering this file after a crash finds the row it already made.
            claim: partner.id + "/" + (claimed.workPath.split(separator: "/").last.map(String.init) ?? claimed.workPath))
        let outcome = try store.recordIntake(record)
        var result = IntakeFileResult(partner: partner.id, file: claimed.originalName, outcome: .accepted,
                                      batchId: outcome.batchId)

        // Files that cannot be answered: archives (not yet), unreadable ones, replays of quarantined batches.
        var setAside: String?
        if isArchive {
            setAside = "archives not yet processed"
        } else if let first, sender == nil || reference == nil {
            let why = first.allDiagnostics.first.map { "[\($0.code.rawValue)] \($0.reason)" } ?? "no UNB sender"
            setAside = "unreadable: no UNB sender or interchange reference (\(why)); no CONTRL can be addressed"
        } else if first == nil {
            setAside = "unreadable: not an EDIFACT interchange; no CONTRL can be addressed"
        }
        if case .identicalReplay(let existing, _) = outcome, let batch = try store.batch(existing), batch.state == .quarantined {
            setAside = "identical replay of quarantined batch \(existing): \(batch.reason ?? "")"
        }
        if let setAside {
            if case .new(let id, _) = outcome { try store.setBatchState(id, .quarantined, reason: setAside, now: receivedAt) }
            try quarantine(path: claimed.workPath, name: claimed.originalName, partner: partner, reason: setAside, stamp: stamp)
            result.outcome = .quarantined
            result.reason = setAside
            return result
        }
        guard var subject = first else { fatalError("unreachable: no report was set aside above") }
        // Only the partner's own identities may drop into its directory (`identities` in the configuration).
        let unbSender = EDIFACTIdentity(id: subject.sender.first ?? "",
                                        qualifier: subject.sender.count > 1 && !subject.sender[1].isEmpty ? subject.sender[1] : nil)
        if !partner.identities.contains(where: { $0.matches(unbSender) }) {
            subject.diagnostics.insert(
                Diagnostic(code: .unknownSender, level: .interchange,
                           location: Location(byteOffset: subject.byteOffset, segmentNumber: subject.segmentNumber,
                                              segmentTag: "UNB", elementPosition: 3),
                           reason: "UNB sender \(unbSender) is not an identity of partner \(partner.id)"),
                at: 0)
        }
        if reports.count > 1 {
            result.reason = "\(reports.count) interchanges in one file: only the first is answered for now"
        }
        let state: BatchState = subject.isAccepted ? .accepted : .rejected

        switch outcome {
        case .new(let batchId, _):
            result.outcome = subject.isAccepted ? .accepted : .rejected
            result.receipt = try answer(subject, batchId: batchId, stamp: stamp, partner: partner, record: true,
                                        then: (state, subject.isAccepted ? nil : Self.summary(subject), receivedAt))
        case .identicalReplay(let batchId, _):
            let name = Self.receiptName(batchId: batchId, reference: subject.reference, stamp: stamp)
            if let existing = try store.receipt(batchId: batchId, kind: .contrl) {
                if existing.fileName == name {
                    // Crash after the receipt was recorded but before the work file was removed: nothing to redo.
                    result.outcome = subject.isAccepted ? .accepted : .rejected
                    result.receipt = display(partner.pickupDirectory + "/" + name)
                    if try store.batch(batchId)?.state == .received {
                        try store.setBatchState(batchId, state, reason: subject.isAccepted ? nil : Self.summary(subject),
                                                now: receivedAt)
                    }
                } else {
                    result.outcome = .replay
                    result.receipt = try answer(subject, batchId: batchId, stamp: stamp, partner: partner, record: false)
                }
            } else {
                // The batch was ledgered but never answered (crash before the receipt): this is recovery.
                result.outcome = subject.isAccepted ? .accepted : .rejected
                result.receipt = try answer(subject, batchId: batchId, stamp: stamp, partner: partner, record: true,
                                            then: (state, subject.isAccepted ? nil : Self.summary(subject), receivedAt))
            }
        case .conflict(let existingBatchId, let batchId, _, _):
            subject.diagnostics.insert(
                Diagnostic(code: .duplicate, level: .interchange,
                           location: Location(byteOffset: subject.byteOffset, segmentNumber: subject.segmentNumber,
                                              segmentTag: "UNB", elementPosition: 5),
                           reason: "interchange reference '\(subject.reference)' was already received in batch "
                               + "\(existingBatchId) with different content"),
                at: 0)
            result.outcome = .conflict
            result.reason = "same interchange reference as batch \(existingBatchId), different content"
            result.receipt = try answer(subject, batchId: batchId, stamp: stamp, partner: partner, record: true)
        }
        if result.receipt == nil && subject.isControlInterchange {
            result.reason = "a CONTRL: never a receipt for a receipt"
        } else if result.receipt == nil && result.reason == nil {
            result.reason = "no CONTRL: the partner's setting is contrl = \(partner.acknowledgement.contrl.rawValue)"
        }
        finished.append(claimed.workPath)
        return result
    }

    /// Writes the CONTRL for `subject` into the pickup directory (unless it is already there) and, when
    /// `record`, records it in the ledger; nil (no receipt) for a CONTRL subject. Returns the displayed path.
    /// With `then`, the batch's state is set in the same transaction as the receipt's record (one commit, one
    /// fsync); also when no receipt is written (a CONTRL subject), in its own transaction.
    func answer(_ subject: InterchangeReport, batchId: Int64, stamp: String, partner: PartnerConfiguration,
                record: Bool, then state: (BatchState, String?, Date)? = nil) throws -> String? {
        let name = Self.receiptName(batchId: batchId, reference: subject.reference, stamp: stamp)
        let path = partner.pickupDirectory + "/" + name
        // The partner's `contrl` setting: never, or only when UNB 0031 asks (rejections are always answered).
        let wanted: Bool
        switch partner.acknowledgement.contrl {
        case .always: wanted = true
        case .onRequest: wanted = !subject.isAccepted || subject.acknowledgementRequest == "1"
        case .never: wanted = false
        }
        if !wanted {
            if let state { try store.setBatchState(batchId, state.0, reason: state.1, now: state.2) }
            return nil
        }
        let bytes: [UInt8]
        if let existing = Self.readIfExists(path) {
            bytes = existing  // a rerun after a crash finds it: never write a receipt twice
        } else {
            let us = [configuration.identity.id] + (configuration.identity.qualifier.map { [$0] } ?? [])
            guard let built = try ContrlBuilder.makeContrl(
                for: subject, ourIdentity: us, reference: Self.contrlReference(stamp: stamp),
                at: Self.edifactDate(now()), options: ContrlOptions(segmentSuffix: "\n"))
            else {
                if let state { try store.setBatchState(batchId, state.0, reason: state.1, now: state.2) }
                return nil
            }
            bytes = built
            try Self.writeDurably(bytes, directory: partner.pickupDirectory, name: name)
        }
        if record {
            _ = try store.recordReceipt(batchId: batchId, kind: .contrl, fileName: name,
                                        digest: try SHA256Digest.hash(bytes), writtenAt: now(),
                                        settingBatchState: state)
        } else if let state {
            try store.setBatchState(batchId, state.0, reason: state.1, now: state.2)
        }
        return display(path)
    }

    /// Moves `path` into the partner's quarantine with a `NAME.reason.txt` (reason written first, so a crash
    /// between the two leaves the file to be quarantined again, never a file without its reason).
    func quarantine(path: String, name: String, partner: PartnerConfiguration, reason: String, stamp: String?) throws {
        let dir = quarantineDirectory(partner)
        var target = name
        if access(dir + "/" + target, F_OK) == 0 { target = name + "." + (stamp ?? String(FileTime.now().epochNanoseconds)) }
        try Self.writeDurably(Array((reason + "\n").utf8), directory: dir, name: target + ".reason.txt", replace: true)
        if rename(path, dir + "/" + target) != 0 {
            throw IntakeError.system("run.quarantine", path: path, operation: "move into \(dir)")
        }
        try Claim.syncDirectory(dir)
        try Claim.syncDirectory(Paths.parent(of: path))
    }

    func display(_ path: String) -> String { Paths.display(path, relativeTo: configuration.spoolRoot) }

    // MARK: - Helpers

    /// Streams the file through the validator in 64 KiB chunks.
    static func validate(path: String) throws -> [InterchangeReport] {
        let validator = EDIFACTValidator()
        try ChunkedFile.forEachChunk(path: path) { validator.feed($0) }
        validator.finish()
        return validator.takeReports()
    }

    /// `CONTRL-<batch>-<interchange ref>-<claim stamp>.edi`: unique per claimed file, and the same on a rerun.
    static func receiptName(batchId: Int64, reference: String, stamp: String) -> String {
        let safe = String(reference.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(35))
        return "CONTRL-\(batchId)-\(safe.isEmpty ? "none" : safe)-\(stamp).edi"
    }

    /// The claim's unique part of the work name (`<partner>.<nanos>.<random>.<original>` → `<nanos>.<random>`).
    static func stamp(workPath: String, partner: String) -> String {
        let name = String(workPath.split(separator: "/").last ?? "")
        let rest = name.hasPrefix(partner + ".") ? String(name.dropFirst(partner.count + 1)) : name
        let parts = rest.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count >= 2 ? "\(parts[0]).\(parts[1])" : rest
    }

    /// The name the partner gave a file, from its work name.
    static func originalName(workName: String, partner: String) -> String {
        let rest = workName.hasPrefix(partner + ".") ? String(workName.dropFirst(partner.count + 1)) : workName
        let parts = rest.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        return parts.count == 3 ? String(parts[2]) : workName
    }

    /// Our CONTRL's interchange reference (at most 14 characters): the claim time in base 36.
    static func contrlReference(stamp: String) -> String {
        let nanos = UInt64(stamp.split(separator: ".").first ?? "") ?? UInt64(FileTime.now().epochNanoseconds)
        return String(nanos, radix: 36).uppercased()
    }

    static func looksLikeArchive(_ name: String) -> Bool {
        let lower = name.lowercased()
        return [".zip", ".tar", ".tar.gz", ".tgz"].contains { lower.hasSuffix($0) }
    }

    static func summary(_ report: InterchangeReport) -> String {
        report.allDiagnostics.prefix(3).map { "[\($0.code.rawValue)] \($0.reason)" }.joined(separator: "; ")
    }

    static func edifactDate(_ date: Date) -> EDIFACTDateTime {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return EDIFACTDateTime(year: c.year!, month: c.month!, day: c.day!, hour: c.hour!, minute: c.minute!)
    }

    static func readIfExists(_ path: String) -> [UInt8]? {
        guard access(path, F_OK) == 0 else { return nil }
        var bytes: [UInt8] = []
        do { try ChunkedFile.forEachChunk(path: path) { bytes.append(contentsOf: $0) } } catch { return nil }
        return bytes
    }

    /// Temporary dot-name, write, fsync, rename to `name` (unless it exists and `replace` is false), fsync the directory.
    static func writeDurably(_ bytes: [UInt8], directory: String, name: String, replace: Bool = false) throws {
        let final = directory + "/" + name
        let temp = directory + "/." + name + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw IntakeError.system("run.receipt", path: temp, operation: "create") }
        var ok = true
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                done += n
            }
        }
        if !ok || fsync(fd) != 0 {
            let e = errno
            close(fd); unlink(temp)
            throw IntakeError.system("run.receipt", path: temp, operation: "write", errorNumber: e)
        }
        close(fd)
        if !replace && access(final, F_OK) == 0 { unlink(temp); return }
        if rename(temp, final) != 0 {
            let e = errno
            unlink(temp)
            throw IntakeError.system("run.receipt", path: final, operation: "rename into place", errorNumber: e)
        }
        try Claim.syncDirectory(directory)
    }

    /// Removes finished work files of `directory`, then fsyncs it once; nothing to do for an empty list.
    static func remove(_ paths: [String], directory: String) throws {
        guard !paths.isEmpty else { return }
        for path in paths where unlink(path) != 0 && errno != ENOENT {
            throw IntakeError.system("run.remove", path: path, operation: "remove the work file")
        }
        try Claim.syncDirectory(directory)
    }

    static func makeDirectories(_ path: String) throws {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw IntakeError.system("run.mkdir", path: current, operation: "create the directory")
            }
        }
    }
}
