import EDIFACT
import Foundation
import Jobs
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One file's result from a pickup: its report line and the process job the ledger created for it.
struct PickupLine {
    var line: IntakeFileResult
    var processJob: Int64?
}

extension GatewayPipeline {
    /// A pickup of `partner`, recorded as a finished job (kind `pickup`) with its counts when it touched any
    /// file. A poll that found nothing leaves no row (every 15 s for every partner would bury the ledger);
    /// a pickup needs no requeueing after a crash, since the work area is what it resumes from.
    func pickupJob(_ partner: PartnerConfiguration, shouldStop: () -> Bool = { false }) -> [PickupLine] {
        tryPickupJob(partner, shouldStop: shouldStop) ?? []
    }

    /// The singleton that makes one node at a time poll `partner`'s drop directory.
    static func pollSingleton(_ partner: String) -> String { "swg.poll:" + partner }

    /// `pickupJob`, or nil when another node sharing the PostgreSQL store is polling this partner now (it takes
    /// every ready file; this node has other work). On SQLite there is one node, which always polls.
    func tryPickupJob(_ partner: PartnerConfiguration, shouldStop: () -> Bool = { false },
                      recorded: () -> Void = {}) -> [PickupLine]? {
        let singleton = Self.pollSingleton(partner.id)
        do {
            guard try store.tryTakeSingleton(singleton) else {
                logger.debug("another node is polling this partner", metadata: ["partner": "\(partner.id)"])
                return nil
            }
        } catch {
            return [PickupLine(line: IntakeFileResult(partner: partner.id, file: "-", outcome: .failed, reason: "\(error)"))]
        }
        defer { try? store.releaseSingleton(singleton) }
        let start = now()
        let lines = pickup(partner, shouldStop: shouldStop, recorded: recorded)
        noticeCollected(partner)
        // Files still incomplete are looked at again at every poll: only real work leaves a row.
        guard lines.contains(where: { $0.line.outcome != .waiting }) else { return lines }
        var counts: [String: Int] = [:]
        for l in lines { counts[l.line.outcome.rawValue, default: 0] += 1 }
        let failed = lines.filter { $0.line.outcome == .failed }
        do {
            try store.recordFinishedJob(
                kind: JobKind.pickup, partner: partner.id, owner: owner, startedAt: start, now: now(),
                state: failed.isEmpty ? .succeeded : .failed, output: JobJSON.encode(counts),
                errorCode: failed.isEmpty ? nil : "pickup.io",
                errorMessage: failed.isEmpty ? nil : "\(failed.count) file(s) not picked up: "
                    + (failed.compactMap(\.line.reason).first ?? "?"))
        } catch {
            logger.error("cannot record the pickup job", metadata: ["partner": "\(partner.id)", "error": "\(error)"])
        }
        return lines
    }

    /// Claims, stores and ledgers every ready file of `partner`'s drop (after finishing what a crash left in
    /// its work area); never judges content. Each file's process job is created in the ledger transaction.
    ///
    /// `shouldStop` is asked between chunks (a graceful shutdown): the chunk in hand is always finished, the
    /// files not yet claimed stay in the drop for the next poll. `recorded` is called after each chunk's ledger
    /// transaction (its process jobs are due from then on).
    func pickup(_ partner: PartnerConfiguration, shouldStop: () -> Bool = { false },
                recorded: () -> Void = {}) -> [PickupLine] {
        var lines: [PickupLine] = []
        let work = workDirectory(partner)
        func failed(_ file: String, _ reason: String) -> PickupLine {
            logger.error("pickup failed", metadata: ["partner": "\(partner.id)", "file": "\(file)", "error": "\(reason)"])
            return PickupLine(line: IntakeFileResult(partner: partner.id, file: file, outcome: .failed, reason: reason))
        }
        do {
            for dir in partner.localDirectories + [work] { try FileOps.makeDirectories(dir) }
        } catch {
            return [failed("-", "\(error)")]
        }
        // 1. Crash recovery: whatever is in the work area was claimed and not finished.
        do {
            let listed = try DropDirectory.listRegularFiles(work).filter { !$0.key.hasPrefix(".") }
            var claimed: [ClaimedFile] = []
            for (name, entry) in listed.sorted(by: { $0.key < $1.key }) {
                if let suffix = partner.detachedSignatureSuffix, name.hasSuffix(suffix) {
                    // A companion: claimed with its file, or (its file never followed: a crash in the claim)
                    // given back to the drop, where it waits for its file again.
                    if listed[String(name.dropLast(suffix.count))] == nil {
                        let original = Self.originalName(workName: name, partner: partner.id)
                        _ = Claim.renameNoReplace(DropDirectory.join(work, name), DropDirectory.join(partner.dropDirectory, original))
                    }
                    continue
                }
                let workPath = DropDirectory.join(work, name)
                let companions = partner.detachedSignatureSuffix.map { workPath + $0 }.flatMap {
                    listed[String($0.split(separator: "/").last ?? "")] != nil ? [$0] : nil } ?? []
                claimed.append(ClaimedFile(
                    partner: partner.id, originalName: Self.originalName(workName: name, partner: partner.id),
                    originalPath: "", workPath: workPath, size: entry.size,
                    modified: entry.modified, removedMarkers: [], companions: companions))
            }
            for start in stride(from: 0, to: claimed.count, by: Self.chunkSize) {
                let chunk = Array(claimed[start..<min(start + Self.chunkSize, claimed.count)])
                lines += record(chunk, partner: partner, incomplete: [:]).map { line in
                    var line = line
                    line.line.reason = ["left in the work area by an earlier run (a crash or a full disk); finished now",
                                        line.line.reason].compactMap { $0 }.joined(separator: "; ")
                    return line
                }
                recorded()
            }
        } catch {
            lines.append(failed("-", "\(error)"))
        }
        // 2. The drop directory.
        if let remote = partner.remoteDrop {
            return lines + remotePickup(partner, from: remote, shouldStop: shouldStop, recorded: recorded)
        }
        var memory = StabilityStore.load(partner: partner.id, stateDirectory: stateDirectory)
        let ready: [ReadyFile]
        do {
            ready = try DropDirectory.scan(directory: partner.dropDirectory, patterns: partner.patterns,
                                           convention: partner.readiness, memory: &memory)
            if case .stable = partner.readiness {
                StabilityStore.save(memory, partner: partner.id, stateDirectory: stateDirectory)
            }
        } catch {
            lines.append(failed("-", "\(error)"))
            return lines
        }
        for range in Self.pickupChunks(ready.count) {
            if shouldStop() {
                logger.notice("pickup stopped for shutdown; the rest waits in the drop",
                              metadata: ["partner": "\(partner.id)", "left": "\(ready.count - range.lowerBound)"])
                break
            }
            lines += claim(ready[range], partner: partner)
            recorded()
        }
        return lines
    }

    /// A drop's files in the chunks they are claimed and recorded in: 32 first, so the first process jobs are due
    /// (and their mapping under way on the other cores) after 32 files' claims rather than 256's, then `chunkSize`.
    static func pickupChunks(_ count: Int) -> [Range<Int>] {
        let first = min(count, 32)
        return (first > 0 ? [0..<first] : []) + stride(from: first, to: count, by: chunkSize).map { $0..<min($0 + chunkSize, count) }
    }

    /// Where small state files live (beside the database): stability memory of `stable` drops.
    var stateDirectory: String { configuration.stateDirectory }

    /// Completeness and claim for every file of `chunk`, the claims made durable with one fsync of each
    /// directory, then the chunk stored and recorded.
    ///
    /// A claim that a crash undoes puts the file back in the drop (nothing was recorded for it yet, since
    /// recording starts after the fsyncs).
    func claim(_ chunk: ArraySlice<ReadyFile>, partner: PartnerConfiguration) -> [PickupLine] {
        var lines: [PickupLine] = []
        var claimed: [ClaimedFile] = []
        var incomplete: [String: String] = [:]
        for var file in chunk {
            if let suffix = partner.detachedSignatureSuffix {
                // A signature is never data; a file is claimed with its signature, or waits for it.
                if file.name.hasSuffix(suffix) { continue }
                let signature = file.path + suffix
                if access(signature, F_OK) == 0 {
                    file.companions = [signature]
                } else if let waiting = Self.waitingForSignature(file, partner: partner) {
                    lines.append(waiting)
                    continue
                }
            }
            do {
                var expired: String?
                switch try ContentCompleteness.check(path: file.path,
                                                     deadlineSeconds: Double(partner.incompleteDeadlineSeconds)) {
                case .incomplete(let reason):
                    lines.append(PickupLine(line: IntakeFileResult(partner: partner.id, file: file.name, outcome: .waiting,
                                                                   reason: reason)))
                    continue
                case .expired(let reason):
                    expired = reason
                case .complete, .notRecognized:
                    break
                }
                if case .claimed(let taken) = try Claim.take(file: file, partner: partner.id,
                                                              workDirectory: workDirectory(partner),
                                                              syncDirectories: false) {
                    claimed.append(taken)
                    if let expired { incomplete[taken.workPath] = expired }
                }
            } catch {
                lines.append(PickupLine(line: IntakeFileResult(partner: partner.id, file: file.name, outcome: .failed,
                                                               reason: "\(error)")))
            }
        }
        guard !claimed.isEmpty else { return lines }
        do {
            try Claim.syncDirectory(workDirectory(partner))
            try Claim.syncDirectory(partner.dropDirectory)
        } catch {
            // Not durably claimed: the files stay in the work area for the next run's recovery step.
            return lines + claimed.map {
                PickupLine(line: IntakeFileResult(partner: partner.id, file: $0.originalName, outcome: .failed,
                                                  reason: "\(error)"))
            }
        }
        return lines + record(claimed, partner: partner, incomplete: incomplete)
    }

    /// Stores a chunk of claimed files by hash (one syncfs), records them with their process jobs in one
    /// transaction, then removes the work files (one fsync). A file whose store or record failed stays in
    /// the work area, where the next pickup finds it again.
    func record(_ claimed: [ClaimedFile], partner: PartnerConfiguration, incomplete: [String: String]) -> [PickupLine] {
        var lines: [PickupLine] = []
        var records: [(ClaimedFile, IntakeRecord)] = []
        let receivedAt = now()
        for file in claimed {
            do {
                var header: (sender: String?, reference: String?)?
                let object = try raw.adopt(fileAt: file.workPath, knownDigest: file.digest) { head in
                    header = Self.interchangeHeader(bytes: head)
                }
                let signature = try file.companions.first.map { try raw.adopt(fileAt: $0) { _ in } }
                let stamp = Self.stamp(workPath: file.workPath, partner: partner.id)
                let process = { (replay: Bool) in
                    JobRequest(kind: JobKind.process, partner: partner.id,
                               input: JobJSON.encode(ProcessInput(stamp: stamp, replay: replay ? true : nil,
                                                                  incomplete: incomplete[file.workPath],
                                                                  name: file.originalName)),
                               retry: Self.retry)
                }
                records.append((file, IntakeRecord(
                    partner: partner.id, originalName: file.originalName, size: object.size,
                    mtime: Date(timeIntervalSince1970: Double(file.modified.seconds) + Double(file.modified.nanoseconds) / 1e9),
                    // An incomplete file's reference is not claimed for it: its complete re-send is new, not a conflict.
                    digest: object.digest, interchangeRef: incomplete[file.workPath] == nil ? header?.reference : nil,
                    senderId: header?.sender,
                    receivedAt: receivedAt,
                    // The claim's unique work name: recovering this file after a crash finds the row it already made.
                    claim: partner.id + "/" + (file.workPath.split(separator: "/").last.map(String.init) ?? file.workPath),
                    signatureDigest: signature?.digest,
                    signatureName: signature.map { _ in file.originalName + (partner.detachedSignatureSuffix ?? "") },
                    jobOnNew: process(false), jobOnConflict: process(false), jobOnReplay: process(true))))
            } catch {
                lines.append(PickupLine(line: IntakeFileResult(partner: partner.id, file: file.originalName,
                                                               outcome: .failed, reason: "\(error)")))
            }
        }
        guard !records.isEmpty else { return lines }
        let outcomes: [Result<IntakeOutcome, StoreError>]
        do {
            try Durability.syncFileSystems([raw.root])
            outcomes = try store.recordIntakes(records.map(\.1))
        } catch {
            return lines + records.map {
                PickupLine(line: IntakeFileResult(partner: partner.id, file: $0.0.originalName, outcome: .failed,
                                                  reason: "\(error)"))
            }
        }
        var finished: [String] = []
        for ((file, _), outcome) in zip(records, outcomes) {
            switch outcome {
            case .success(let o):
                finished.append(file.workPath)
                finished += file.companions
                var kind: IntakeFileOutcome = {
                    switch o {
                    case .new: .received
                    case .identicalReplay: .replay
                    case .conflict: .conflict
                    }
                }()
                if o.jobId == nil, case .new = o, let batch = try? store.batch(o.batchId) {
                    // Recorded by the run a crash cut short: say where the batch got to.
                    kind = Self.outcome(of: batch.state)
                }
                GatewayMetrics.fileIn(partner: partner.id)
                logger.info("picked up", metadata: ["partner": "\(partner.id)", "file": "\(file.originalName)",
                                                    "batch": "\(o.batchId)", "ledger": "\(kind.rawValue)"])
                lines.append(PickupLine(
                    line: IntakeFileResult(partner: partner.id, file: file.originalName, outcome: kind, batchId: o.batchId),
                    processJob: o.jobId))
            case .failure(let error):
                lines.append(PickupLine(line: IntakeFileResult(partner: partner.id, file: file.originalName,
                                                               outcome: .failed, reason: "\(error)")))
            }
        }
        do {
            try FileOps.remove(finished, directory: workDirectory(partner))
        } catch {
            // The ledger is durable; the leftovers are recognised by their claim on the next pickup.
            logger.warning("work files not removed", metadata: ["partner": "\(partner.id)", "error": "\(error)"])
        }
        return lines
    }

    /// A file of a partner that must sign, whose `.p7s` has not come: "waiting" until the incomplete
    /// deadline, after which it is claimed without one (and refused as unsigned by the process step).
    /// A `.p7m` of a partner that may sign enveloping carries its own signature: it never waits for a `.p7s`
    /// (it did, for the whole deadline, when the partner signed both ways).
    static func waitingForSignature(_ file: ReadyFile, partner: PartnerConfiguration) -> PickupLine? {
        if partner.signature.formats.contains(.cmsEnveloping) && file.name.lowercased().hasSuffix(".p7m") { return nil }
        guard partner.signature.required,
              FileTime.now().seconds(since: file.modified) < Double(partner.incompleteDeadlineSeconds) else { return nil }
        return PickupLine(line: IntakeFileResult(
            partner: partner.id, file: file.name, outcome: .waiting,
            reason: "its signature \(file.name)\(partner.detachedSignatureSuffix ?? "") has not arrived yet"))
    }

    // MARK: - Names

    /// The report's word for a batch state.
    static func outcome(of state: BatchState) -> IntakeFileOutcome {
        switch state {
        case .received: .received
        case .unpacked, .accepted: .accepted
        case .rejected: .rejected
        case .quarantined: .quarantined
        case .conflict: .conflict
        }
    }

    /// UNB sender and reference from a file's first bytes, when they are EDIFACT. The reader stops at the first
    /// UNB: validating the whole head (the file, for most) to read its header cost as much as the process
    /// job's own syntax check, which follows anyway.
    static func interchangeHeader(bytes: UnsafeRawBufferPointer) -> (sender: String?, reference: String?)? {
        let reader = EDIFACTReader(valueEvents: false)
        reader.feed(bytes)
        reader.finish()
        var header: InterchangeReport?
        reading: while true {
            switch reader.next() {
            case .startInterchange:
                header = reader.interchange
                break reading
            case .endOfInput, .needInput:
                break reading
            default:
                continue
            }
        }
        guard let first = header else { return nil }
        // Over the syntax's maxima (UNB S002/0004 an..35, 0020 an..14) the interchange is rejected anyway, so such
        // a value names nothing to detect duplicates by; left out, a hostile one of kilobytes never reaches an
        // index (PostgreSQL refuses index entries over about 2.7 kB).
        let sender = first.sender.first.flatMap { $0.isEmpty || $0.count > 35 ? nil : $0 }
        let reference = first.reference.isEmpty || first.reference.count > 14 ? nil : first.reference
        return sender == nil && reference == nil ? nil : (sender, reference)
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
}
