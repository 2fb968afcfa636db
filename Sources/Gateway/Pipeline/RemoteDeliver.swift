import Foundation
import Jobs

/// Delivery into a pickup directory on an SFTP server.
///
/// The stored bytes are uploaded (from the raw store, never copied) under a temporary dot name that is the
/// job's own (`.swg-up.<job>.<name>`), the upload's size checked, then renamed to the final name; the rename
/// never replaces a file. A retried job first looks at the final name: a file there with our size (and, for
/// files up to 1 MiB, our bytes) is the first attempt's rename that succeeded before the connection dropped,
/// so it is recorded, not sent again; anything else there is another file and is never replaced. A retry also
/// removes the first attempt's temporary name, which a cut upload or a cut server-side rename left behind.
extension GatewayPipeline {
    /// Up to this size a file found at the final name is read back and compared byte for byte.
    static let remoteCompareLimit: Int64 = 1 << 20

    func remoteDeliver(_ job: JobRecord, input: DeliverInput, digest: SHA256Digest, partner: PartnerConfiguration,
                       to remote: RemoteDirectory, sessions: RemoteSessionCache, line initial: IntakeFileResult) -> DeliverDecision {
        var line = initial
        let final = remote.join(input.file)
        func failure(_ code: String, _ message: String, _ disposition: FailureDisposition) -> DeliverDecision {
            line.reason = message
            return DeliverDecision(result: .failed(code: code, message: message, disposition: disposition, output: nil), line: line)
        }
        func sftpFailure(_ error: SFTPError) -> DeliverDecision {
            // What an operator must fix (keys, host keys, permissions) waits for a rerun; the rest is retried.
            let permanent: [SFTPError.Kind] = [.hostKeyUnknown, .hostKeyChanged, .authFailed, .permissionDenied]
            sessions.drop(remote.endpoint)
            return failure(error.code, "\(remote): \(error.message)", permanent.contains(error.kind) ? .permanent : .transient)
        }
        guard let endpoint = configuration.endpoints[remote.endpoint] else {
            return failure(PipelineErrorCode.unknownPartner, "endpoint \(remote.endpoint) of \(remote) is not in the configuration", .permanent)
        }
        let local = raw.path(for: digest)
        var status = stat()
        guard stat(local, &status) == 0 else {
            return failure(PipelineErrorCode.rawIO, "the stored bytes \(digest) are missing from the raw store", .transient)
        }
        let size = Int64(status.st_size)
        var alreadyThere = false
        do {
            let session = try sessions.session(endpoint)
            // A first attempt goes straight to the upload (a file already at the final name makes its rename
            // fail, and is judged then); a retry looks first, since its first attempt may have got through.
            let retry = job.attempts > 1
            let temporary = remote.join(".swg-up.\(job.id).\(input.file)")
            // An earlier attempt's upload, partial or whole. OpenSSH's sftp-server renames a file by link()
            // then unlink(): an attempt cut between the two leaves both names, the final one complete.
            if retry { try? session.remove(temporary) }
            if retry, let existing = try session.stat(final) {
                // An earlier attempt's rename that succeeded, or someone else's file.
                guard try sameFile(existing, size: size, digest: digest, at: final, session: session) else {
                    return failure(PipelineErrorCode.deliverNameTaken, "\(remote.description)/\(input.file) already exists with other content; not replaced",
                                   .permanent)
                }
                alreadyThere = true
            } else {
                _ = try session.upload(from: local, to: temporary)
                do {
                    try session.rename(temporary, to: final)
                } catch where error.kind == .fileExists {
                    try? session.remove(temporary)
                    let existing = try session.stat(final)
                    guard let existing, try sameFile(existing, size: size, digest: digest, at: final, session: session) else {
                        return failure(PipelineErrorCode.deliverNameTaken,
                                       "\(remote.description)/\(input.file) appeared meanwhile with other content; not replaced", .permanent)
                    }
                    alreadyThere = true
                }
            }
            if let marker = partner.remote.doneMarker, try session.stat(final + marker) == nil {
                _ = try session.upload(from: "/dev/null", to: final + marker)
            }
        } catch {
            return sftpFailure(error)
        }
        line.outcome = .accepted
        line.receipt = "\(remote.description)/\(input.file)"
        let kind = ReceiptKind(rawValue: input.kind)
        return DeliverDecision(
            result: .succeeded(output: DeliverOutput(path: line.receipt!, alreadyThere: alreadyThere).json),
            receipt: input.records && job.batchId != nil && kind != nil ? (job.batchId!, kind!, input.file, digest) : nil,
            line: line, path: nil, kind: input.kind)
    }

    /// Whether the remote file at `path` holds our bytes: same size and, up to `remoteCompareLimit`, same SHA-256.
    private func sameFile(_ entry: SFTPEntry, size: Int64, digest: SHA256Digest, at path: String,
                          session: SFTPSession) throws(SFTPError) -> Bool {
        guard entry.size == size else { return false }
        guard size <= Self.remoteCompareLimit else { return true }
        return try session.digest(of: path, expectedSize: size) == digest
    }
}

/// Open sessions by endpoint, for one chunk of work; a failed session is dropped and reopened on next use.
final class RemoteSessionCache {
    private var open: [String: SFTPSession] = [:]

    private var endpoints: [String: RemoteEndpoint] = [:]

    /// The open session to `endpoint`, or a new one within the endpoint's `max_sessions`.
    func session(_ endpoint: RemoteEndpoint) throws(SFTPError) -> SFTPSession {
        if let existing = open[endpoint.name] { return existing }
        RemoteSessions.acquire(endpoint)
        do {
            let session = try SFTPSession.connect(endpoint.sftpEndpoint())
            open[endpoint.name] = session
            endpoints[endpoint.name] = endpoint
            return session
        } catch {
            RemoteSessions.release(endpoint)
            throw error
        }
    }

    func drop(_ name: String) {
        guard let session = open.removeValue(forKey: name) else { return }
        session.close()
        if let endpoint = endpoints.removeValue(forKey: name) { RemoteSessions.release(endpoint) }
    }

    func closeAll() {
        for name in Array(open.keys) { drop(name) }
    }
}
