import Foundation
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Pickup from a drop directory on an SFTP server, with the guarantees of a local drop.
///
/// A ready file (the partner's readiness convention, decided over the server's listing) is claimed on the
/// server by renaming it to `.swg-claim.<stamp>.<name>`, downloaded into the local work area under a dot
/// name, checked for size and content completeness, renamed to its work name `<partner>.<stamp>.<name>`,
/// and from there recorded exactly like a local claim. Only after the ledger commit is the remote file
/// deleted (or moved to `[partner.remote] processed_directory`). So at every instant the file is on the
/// server, or in the ledger, or both; never neither:
/// - a lost connection or a crash before the download finished leaves the claimed file on the server and a
///   dot file locally (removed); the next pickup finds `.swg-claim.*` and downloads it again;
/// - a crash after the download leaves the work file, which the local recovery step records, and the next
///   pickup finds the claim already in the ledger and only clears it from the server;
/// - the claim key in the ledger is the work name, so recording twice is impossible.
extension GatewayPipeline {
    /// The hidden name a claimed file has on the server.
    static let remoteClaimPrefix = ".swg-claim."
    /// At most this many files per remote pickup: the rest waits for the next poll, so one partner's
    /// thousands of files do not hold the worker (and an endpoint's sessions) from the others.
    static let remotePickupLimit = 1_024

    func remotePickup(_ partner: PartnerConfiguration, from remote: RemoteDirectory,
                      shouldStop: () -> Bool, recorded: () -> Void = {}) -> [PickupLine] {
        let work = workDirectory(partner)
        func failed(_ file: String, _ reason: String) -> PickupLine {
            logger.error("remote pickup failed", metadata: ["partner": "\(partner.id)", "file": "\(file)", "error": "\(reason)"])
            return PickupLine(line: IntakeFileResult(partner: partner.id, file: file, outcome: .failed, reason: reason))
        }
        guard let endpoint = configuration.endpoints[remote.endpoint] else {
            return [failed("-", "endpoint \(remote.endpoint) of \(remote) is not in the configuration")]
        }
        RemoteSessions.acquire(endpoint)
        defer { RemoteSessions.release(endpoint) }
        let session: SFTPSession
        do {
            session = try SFTPSession.connect(endpoint.sftpEndpoint())
        } catch {
            return [failed("-", "\(remote): \(error.message)")]
        }
        defer { session.close() }

        let listing: [SFTPEntry]
        do {
            listing = try session.list(remote.path, renamingUnreadableNames: true).filter(\.isRegularFile)
        } catch {
            return [failed("-", "\(remote): \(error.message)")]
        }
        var lines: [PickupLine] = []

        // 1. Claimed on the server by an earlier pickup that did not finish.
        var leftovers: [RemoteClaim] = []
        var givenBack: [SFTPEntry] = []
        let halves = cutRenames(listing, partner: partner, directory: remote, session: session)
        let names = Set(listing.map(\.name)).subtracting(halves)
        let suffix = partner.detachedSignatureSuffix
        for entry in listing where entry.name.hasPrefix(Self.remoteClaimPrefix) && !halves.contains(entry.name) {
            guard var claim = RemoteClaim(claimName: entry.name, partner: partner.id, directory: remote, size: entry.size,
                                          modified: entry.modified) else { continue }
            if let suffix, claim.original.hasSuffix(suffix) {
                // A signature claimed with its file. Without its file's claim (a crash between the two renames:
                // companions go first) it is given back under its own name, to wait for its file again.
                let fileClaim = String(entry.name.dropLast(suffix.count))
                if !names.contains(fileClaim), (try? session.rename(remote.join(entry.name), to: remote.join(claim.original))) != nil {
                    givenBack.append(SFTPEntry(name: claim.original, size: entry.size, modified: entry.modified,
                                               isRegularFile: true, isDirectory: false))
                }
                continue
            }
            if let suffix, names.contains(claim.claimName + suffix) { claim.companions = [claim.claimName + suffix] }
            if (try? store.hasClaim(partner.id + "/" + claim.workName)) == true {
                finishRemote([claim], partner: partner, session: session)
            } else {
                leftovers.append(claim)
            }
        }
        for claim in leftovers {
            lines += downloadAndRecord([claim], partner: partner, sessions: [session], work: work, recovered: true)
            recorded()
        }

        // 2. Ready files, by the partner's convention over the server's listing.
        var entries: [String: DropDirectory.Entry] = [:]
        for entry in listing + givenBack where !entry.name.hasPrefix(Self.remoteClaimPrefix) {
            entries[entry.name] = DropDirectory.Entry(size: entry.size, modified: FileTime(date: entry.modified), inode: 0)
        }
        var memory = StabilityStore.load(partner: partner.id, stateDirectory: stateDirectory)
        let ready = DropDirectory.ready(entries: entries, directory: remote.path, patterns: partner.patterns,
                                        convention: partner.readiness, memory: &memory)
        if case .stable = partner.readiness { StabilityStore.save(memory, partner: partner.id, stateDirectory: stateDirectory) }

        var claims: [RemoteClaim] = []
        for file in ready.prefix(Self.remotePickupLimit) {
            var companions: [String] = []
            if let suffix = partner.detachedSignatureSuffix {
                if file.name.hasSuffix(suffix) { continue }
                if entries[file.name + suffix] != nil {
                    companions = [file.name + suffix]
                } else if let waiting = Self.waitingForSignature(file, partner: partner) {
                    lines.append(waiting)
                    continue
                }
            }
            let stamp = Claim.newStamp()
            var claim = RemoteClaim(stamp: stamp, original: file.name, partner: partner.id, directory: remote,
                                    size: file.size, modified: file.modified.date)
            claim.markers = file.markers.map(DropDirectory.baseName)
            claim.claimed = partner.remote.claim == .rename
            if partner.remote.claim == .rename {
                do {
                    // Companions first, as for local claims: a file is never judged without its signature.
                    for companion in companions {
                        try session.rename(remote.join(companion), to: remote.join(claim.claimName + companion.dropFirst(file.name.count)))
                    }
                    try session.rename(file.path, to: remote.join(claim.claimName))
                } catch {
                    // Gone (the partner took it back, or another node claimed it): not ours to report.
                    if error.kind != .noSuchFile { lines.append(failed(file.name, "\(remote): \(error.message)")) }
                    continue
                }
                claim.companions = companions.map { claim.claimName + $0.dropFirst(file.name.count) }
            } else {
                claim.companions = companions
            }
            claims.append(claim)
        }
        // Further sessions, as many as the endpoint's max_sessions leaves free right now, share the downloads.
        var sessions = [session]
        if claims.count > 1 {
            for _ in 1..<min(endpoint.maxSessions, claims.count) where RemoteSessions.tryAcquire(endpoint) {
                guard let extra = try? SFTPSession.connect(endpoint.sftpEndpoint()) else {
                    RemoteSessions.release(endpoint)
                    break
                }
                sessions.append(extra)
            }
        }
        defer {
            for extra in sessions.dropFirst() {
                extra.close()
                RemoteSessions.release(endpoint)
            }
        }
        for start in stride(from: 0, to: claims.count, by: Self.chunkSize) {
            if shouldStop() {
                logger.notice("remote pickup stopped for shutdown; claimed files wait on the server",
                              metadata: ["partner": "\(partner.id)", "left": "\(claims.count - start)"])
                break
            }
            lines += downloadAndRecord(Array(claims[start..<min(start + Self.chunkSize, claims.count)]), partner: partner,
                                       sessions: sessions, work: work, recovered: false)
            recorded()
        }
        return lines
    }

    /// Claim names that a cut rename left beside the file's own name, removed from the server.
    ///
    /// OpenSSH's sftp-server renames a file by link() then unlink(): a connection cut between the two leaves
    /// the file under both names, and the claim that made it was never answered, so nothing of it is in the
    /// ledger. Taking both would record the file twice, so the claim name is dropped and the file is claimed
    /// again under its own name. Only when both names hold the same bytes (same size and time in the listing,
    /// then the same SHA-256): a different file under the original name is the partner's, and both are taken.
    private func cutRenames(_ listing: [SFTPEntry], partner: PartnerConfiguration, directory: RemoteDirectory,
                            session: SFTPSession) -> Set<String> {
        let byName = Dictionary(listing.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var halves: Set<String> = []
        for entry in listing where entry.name.hasPrefix(Self.remoteClaimPrefix) {
            guard let claim = RemoteClaim(claimName: entry.name, partner: partner.id, directory: directory, size: entry.size,
                                          modified: entry.modified),
                  let original = byName[claim.original], original.size == entry.size, original.modified == entry.modified,
                  (try? store.hasClaim(partner.id + "/" + claim.workName)) == false else { continue }
            do {
                guard try session.digest(of: directory.join(entry.name), expectedSize: entry.size)
                        == session.digest(of: directory.join(claim.original), expectedSize: entry.size) else { continue }
                try session.remove(directory.join(entry.name))
                halves.insert(entry.name)
                logger.notice("a claim cut inside the server's rename left the file under both names; claimed again under its own",
                              metadata: ["partner": "\(partner.id)", "file": "\(claim.original)"])
            } catch {
                continue  // left as it is: the next pickup looks again
            }
        }
        return halves
    }

    /// What became of one claimed file before the ledger: in the work area, waiting (given back), or failed.
    private enum Fetched {
        case inWorkArea(ClaimedFile, expired: String?)
        case notYet(PickupLine)
    }

    /// Downloads one claimed file (and its companions) into the work area under a dot name, checks its size
    /// and content completeness, and renames it to its work name; an incomplete one is given back.
    private func fetch(_ claim: RemoteClaim, partner: PartnerConfiguration, session: SFTPSession, work: String) -> Fetched {
        func notYet(_ outcome: IntakeFileOutcome, _ reason: String) -> Fetched {
            .notYet(PickupLine(line: IntakeFileResult(partner: partner.id, file: claim.original, outcome: outcome, reason: reason)))
        }
        let workPath = DropDirectory.join(work, claim.workName)
        let partial = DropDirectory.join(work, "." + claim.workName + ".part")
        var downloaded: [(String, String)] = []
        let digest: SHA256Digest
        do {
            unlink(partial)
            digest = try session.download(claim.remotePath, to: partial, expectedSize: claim.size).sha256
            downloaded.append((partial, workPath))
            for companion in claim.companions {
                let suffix = String(companion.dropFirst(claim.remoteName.count))
                let part = partial + suffix
                unlink(part)
                _ = try session.download(claim.directory.join(companion), to: part, expectedSize: nil)
                downloaded.append((part, workPath + suffix))
            }
        } catch {
            for (part, _) in downloaded { unlink(part) }
            unlink(partial)
            return notYet(.failed, "\(claim.directory): \(error.message)")
        }
        // The partner's upload time, so the incomplete deadline counts from it, as for a local drop.
        Self.setModified(partial, to: claim.modified)
        var expired: String?
        switch (try? ContentCompleteness.check(path: partial, deadlineSeconds: Double(partner.incompleteDeadlineSeconds)))
            ?? .notRecognized {
        case .incomplete(let reason):
            for (part, _) in downloaded { unlink(part) }
            // Given back under its own name, so the partner may finish it.
            if claim.claimed { try? session.rename(claim.remotePath, to: claim.directory.join(claim.original)) }
            return notYet(.waiting, reason)
        case .expired(let reason):
            expired = reason
        case .complete, .notRecognized:
            break
        }
        // Companions first, then the file: the local recovery never sees a file without its signature.
        for (part, final) in downloaded.reversed() where rename(part, final) != 0 {
            let reason = String(cString: strerror(errno))
            for (part, final) in downloaded { unlink(part); unlink(final) }
            return notYet(.failed, "cannot rename into the work area \(work): \(reason)")
        }
        return .inWorkArea(ClaimedFile(partner: partner.id, originalName: claim.original, originalPath: claim.remotePath,
                                       workPath: workPath, size: claim.size, modified: FileTime(date: claim.modified),
                                       removedMarkers: [], companions: downloaded.dropFirst().map(\.1), digest: digest),
                           expired: expired)
    }

    /// Downloads claimed files into the work area over `sessions` at once (each file on one of them),
    /// records them, and clears the recorded ones from the server.
    private func downloadAndRecord(_ claims: [RemoteClaim], partner: PartnerConfiguration, sessions: [SFTPSession],
                                   work: String, recovered: Bool) -> [PickupLine] {
        let fetched = Stripes.run(claims, over: sessions) { claim, session in
            self.fetch(claim, partner: partner, session: session, work: work)
        }
        var lines: [PickupLine] = []
        var claimed: [ClaimedFile] = []
        var byWorkPath: [String: RemoteClaim] = [:]
        var incomplete: [String: String] = [:]
        for (claim, result) in zip(claims, fetched) {
            switch result {
            case .notYet(let line):
                lines.append(line)
            case .inWorkArea(let file, let expired):
                if let expired { incomplete[file.workPath] = expired }
                claimed.append(file)
                byWorkPath[file.workPath] = claim
            }
        }
        guard !claimed.isEmpty else { return lines }
        do {
            try Claim.syncDirectory(work)
        } catch {
            // Not durable here: the claims stay on the server and the work files are found again next time.
            return lines + claimed.map { PickupLine(line: IntakeFileResult(partner: partner.id, file: $0.originalName,
                                                                          outcome: .failed, reason: "\(error)")) }
        }
        let recorded = record(claimed, partner: partner, incomplete: incomplete)
        var finished: [RemoteClaim] = []
        for file in claimed where (try? store.hasClaim(partner.id + "/" + DropDirectory.baseName(file.workPath))) == true {
            if let claim = byWorkPath[file.workPath] { finished.append(claim) }
        }
        finishRemote(finished, partner: partner, session: sessions[0])
        return lines + recorded.map { line in
            guard recovered else { return line }
            var line = line
            line.line.reason = ["claimed on the server by an earlier run that did not finish; finished now",
                                line.line.reason].compactMap { $0 }.joined(separator: "; ")
            return line
        }
    }

    /// Clears recorded files from the server: moved to the processed directory, or deleted; their markers too.
    /// A failure here is only logged: the next pickup finds the claim recorded and tries again.
    private func finishRemote(_ claims: [RemoteClaim], partner: PartnerConfiguration, session: SFTPSession) {
        for claim in claims {
            do {
                for name in [claim.remoteName] + claim.companions {
                    let path = claim.directory.join(name)
                    if let processed = partner.remote.processedDirectory {
                        let stamped = name.hasPrefix(Self.remoteClaimPrefix)
                        let kept = stamped ? String(name.dropFirst(Self.remoteClaimPrefix.count)) : name
                        do {
                            try session.rename(path, to: RemoteDirectory(endpoint: claim.directory.endpoint, path: processed).join(kept))
                        } catch where stamped && error.kind == .fileExists {
                            // The stamp is this claim's own: an earlier move cut inside the server's rename (link,
                            // then unlink) already put it there, and left the claim name too.
                            try session.remove(path)
                        }
                    } else {
                        try session.remove(path)
                    }
                }
                for marker in claim.markers { try? session.remove(claim.directory.join(marker)) }
            } catch {
                logger.warning("a picked-up file was not cleared from the server; the next pickup tries again",
                               metadata: ["partner": "\(partner.id)", "file": "\(claim.original)", "error": "\(error.message)"])
            }
        }
    }

    /// Sets a file's modification time (the remote upload time), keeping its access time.
    static func setModified(_ path: String, to date: Date) {
        let seconds = date.timeIntervalSince1970
        let omit = (1 << 30) - 2  // UTIME_OMIT, a macro Swift does not import
        var times = [timespec(tv_sec: 0, tv_nsec: omit),
                     timespec(tv_sec: Int(seconds), tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, path, &times, 0)
    }
}

/// A remote file claimed (or, with `claim = "none"`, about to be taken in place).
struct RemoteClaim {
    /// `<nanos>.<random>`, shared by the server's claim name and the local work name.
    var stamp: String
    /// The name the partner gave it.
    var original: String
    var partner: String
    var directory: RemoteDirectory
    var size: Int64
    var modified: Date
    /// Whether it was renamed to its claim name on the server.
    var claimed = true
    /// Companion names on the server (as they are now: claimed or original).
    var companions: [String] = []
    /// Done-marker names on the server, removed once the file is recorded.
    var markers: [String] = []

    init(stamp: String, original: String, partner: String, directory: RemoteDirectory, size: Int64, modified: Date) {
        self.stamp = stamp
        self.original = original
        self.partner = partner
        self.directory = directory
        self.size = size
        self.modified = modified
    }

    /// A claim found on the server: `.swg-claim.<nanos>.<random>.<original>`.
    init?(claimName: String, partner: String, directory: RemoteDirectory, size: Int64, modified: Date) {
        let rest = claimName.dropFirst(GatewayPipeline.remoteClaimPrefix.count)
        let parts = rest.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard claimName.hasPrefix(GatewayPipeline.remoteClaimPrefix), parts.count == 3, !parts[2].isEmpty,
              UInt64(parts[0]) != nil else { return nil }
        self.init(stamp: "\(parts[0]).\(parts[1])", original: String(parts[2]), partner: partner, directory: directory,
                  size: size, modified: modified)
    }

    var claimName: String { GatewayPipeline.remoteClaimPrefix + stamp + "." + original }
    /// The name it has on the server now.
    var remoteName: String { claimed ? claimName : original }
    var remotePath: String { directory.join(remoteName) }
    /// Its name in the local work area (what the ledger's claim key is made of).
    var workName: String { "\(partner).\(stamp).\(original)" }
}

/// Bounds the sessions open at once to each endpoint (`max_sessions`), across the partners using it.
enum RemoteSessions {
    private static let semaphores = NIOLockedValueBox([String: DispatchSemaphore]())

    private static func semaphore(_ endpoint: RemoteEndpoint) -> DispatchSemaphore {
        semaphores.withLockedValue { all in
            if let existing = all[endpoint.name] { return existing }
            let created = DispatchSemaphore(value: endpoint.maxSessions)
            all[endpoint.name] = created
            return created
        }
    }

    static func acquire(_ endpoint: RemoteEndpoint) { semaphore(endpoint).wait() }

    /// A further session only if one is free now (never waits: the caller already holds one).
    static func tryAcquire(_ endpoint: RemoteEndpoint) -> Bool { semaphore(endpoint).wait(timeout: .now()) == .success }

    static func release(_ endpoint: RemoteEndpoint) { semaphore(endpoint).signal() }
}

extension FileTime {
    /// A Foundation date (an SFTP server's mtime), to the nanosecond it can hold.
    init(date: Date) {
        let interval = date.timeIntervalSince1970
        let seconds = interval.rounded(.down)
        self.init(seconds: Int64(seconds), nanoseconds: Int64(((interval - seconds) * 1e9).rounded(.down)))
    }

    /// As a Foundation date.
    var date: Date { Date(timeIntervalSince1970: Double(seconds) + Double(nanoseconds) / 1e9) }
}

extension GatewayPipeline {
    /// Notes which of `partner`'s delivered files are gone from its pickup directory (the partner deletes
    /// what it has read), so an operator can tell "delivered" from "collected". Looks only when some
    /// delivery is not yet noticed collected; a remote pickup directory costs one listing.
    func noticeCollected(_ partner: PartnerConfiguration) {
        guard let pending = try? store.uncollectedDeliveries(partner: partner.id), !pending.isEmpty else { return }
        let present: Set<String>
        if let remote = partner.remotePickup {
            guard let endpoint = configuration.endpoints[remote.endpoint] else { return }
            let sessions = RemoteSessionCache()
            defer { sessions.closeAll() }
            guard let listing = try? sessions.session(endpoint).list(remote.path) else { return }
            present = Set(listing.map(\.name))
        } else {
            guard let listing = try? DropDirectory.listRegularFiles(partner.pickupDirectory) else { return }
            present = Set(listing.keys)
        }
        let gone = pending.filter { !present.contains($0.file) }
        do {
            try store.recordCollected(gone, partner: partner.id, now: now())
        } catch {
            logger.warning("collected deliveries not recorded", metadata: ["partner": "\(partner.id)", "error": "\(error)"])
        }
    }
}
