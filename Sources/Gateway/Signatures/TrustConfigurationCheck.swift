import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The signature side of `gateway check-config`: loads every agency's trust anchors and the gateway's signing
/// identity as the pipeline would, file by file, so each problem is named by its configuration key and file.
///
/// Mistakes (the configuration cannot be used as written): a CA or CRL file that cannot be read, a certificate
/// that is not a CA, a CRL that is not issued or not signed by the agency's CAs, an expired CA certificate,
/// anchors without a root, a signing key or certificate that cannot be used. Warnings (it works today, not for
/// long): a CA certificate or the gateway's certificate expiring within `certificate_warning_days`, a CRL whose
/// nextUpdate has passed. Partners' own certificates are not configured as files, so their expiry shows only
/// in verdicts (`gateway verify`).
struct TrustConfigurationCheck {
    /// One finding, at a configuration key (`partner[2].trust.certificates[1]`).
    struct Finding {
        var key: String
        var message: String
    }

    /// Every mistake, in configuration order.
    var mistakes: [Finding] = []
    /// Every warning, in configuration order.
    var warnings: [Finding] = []
    /// One line per agency with a `[partner.trust]` table, for the summary.
    var agencies: [ConfigurationCheck.Summary.Trust] = []
    /// The gateway's signing certificate, when one is configured and loads.
    var signing: ConfigurationCheck.Summary.Signing?

    /// Whether the configuration has anything to check here (no trust table and no signing identity: nothing).
    static func applies(to configuration: GatewayConfiguration) -> Bool {
        configuration.signing != nil || configuration.partners.contains { $0.trust != nil }
    }

    /// Checks `configuration`'s trust tables and signing identity as of `now`.
    init(_ configuration: GatewayConfiguration, now: Date) {
        let root = configuration.spoolRoot
        let window = TimeInterval(configuration.certificateWarningDays) * 86_400
        func show(_ path: String) -> String { Paths.display(path, relativeTo: root) }
        func day(_ date: Date) -> String { ConfigurationCheck.timestamp(date) }
        func daysLeft(_ date: Date) -> String {
            let days = Int((date.timeIntervalSince(now) / 86_400).rounded(.down))
            return days == 0 ? "less than a day" : "\(days) day\(days == 1 ? "" : "s")"
        }

        for (index, partner) in configuration.partners.enumerated() {
            guard let trust = partner.trust else { continue }
            let base = "partner[\(index + 1)].trust"
            var certificates: [X509Certificate] = []
            var caSubjects: [String] = []
            var soonest: (subject: String, notAfter: Date)?
            var fileMistakes = false
            for (k, path) in trust.certificates.enumerated() {
                let key = "\(base).certificates[\(k + 1)]"
                if let problem = Self.unreadable(path) {
                    mistakes.append(Finding(key: key, message: "\(show(path)): cannot be read (\(problem))"))
                    fileMistakes = true
                    continue
                }
                let loaded: [X509Certificate]
                do {
                    loaded = try X509Certificate.readPEMFile(path)
                } catch {
                    // "no PEM certificate" needs no OpenSSL words (they only say "no start line").
                    let detail = error.code == "trust.no-certificate" ? "" : Self.openSSL(error)
                    mistakes.append(Finding(key: key, message: "\(show(path)): \(error.message)" + detail))
                    fileMistakes = true
                    continue
                }
                for certificate in loaded {
                    let subject = certificate.subject
                    let notAfter = Date(timeIntervalSince1970: TimeInterval(certificate.notAfter))
                    let notBefore = Date(timeIntervalSince1970: TimeInterval(certificate.notBefore))
                    guard certificate.isCA else {
                        mistakes.append(Finding(key: key, message: "\(show(path)): \(subject) is not a CA certificate "
                                                + "(basicConstraints CA:TRUE missing); list only the agency's root and intermediate CAs"))
                        fileMistakes = true
                        continue
                    }
                    caSubjects.append(subject)
                    certificates.append(certificate)
                    if notAfter <= now {
                        mistakes.append(Finding(key: key, message: "\(show(path)): CA certificate \(subject) expired on \(day(notAfter)); "
                                                + "every signature chaining to it is refused (sig.expired): configure the agency's renewed CA"))
                        fileMistakes = true
                    } else if notAfter.timeIntervalSince(now) <= window {
                        warnings.append(Finding(key: key, message: "\(show(path)): CA certificate \(subject) expires on \(day(notAfter)) "
                                                + "(in \(daysLeft(notAfter)); certificate_warning_days = \(configuration.certificateWarningDays))"))
                    }
                    if notBefore > now {
                        warnings.append(Finding(key: key, message: "\(show(path)): CA certificate \(subject) is not valid until \(day(notBefore))"))
                    }
                    if soonest == nil || notAfter < soonest!.notAfter { soonest = (subject, notAfter) }
                }
            }
            var crlLines: [String] = []
            for (k, path) in trust.crls.enumerated() {
                let key = "\(base).crls[\(k + 1)]"
                if let problem = Self.unreadable(path) {
                    mistakes.append(Finding(key: key, message: "\(show(path)): cannot be read (\(problem))"))
                    fileMistakes = true
                    continue
                }
                let crls: [X509RevocationList]
                do {
                    crls = try X509RevocationList.readFile(path)
                } catch {
                    mistakes.append(Finding(key: key, message: "\(show(path)): \(error.message)" + Self.openSSL(error)))
                    fileMistakes = true
                    continue
                }
                for crl in crls {
                    let next = crl.nextUpdate.map { Date(timeIntervalSince1970: TimeInterval($0)) }
                    crlLines.append(next.map(day) ?? "no nextUpdate")
                    if let next, next <= now {
                        warnings.append(Finding(key: key, message: "\(show(path)): the CRL of \(crl.issuer) was due to be replaced on "
                                                + "\(day(next)) (its nextUpdate has passed): signatures checked against it are refused "
                                                + "(sig.revocation-unknown) until a newer CRL is configured"))
                    }
                }
            }
            // Every file read: load them together, as the pipeline does (a root present, intermediates and CRLs
            // issued within the set, CRL signatures), and build the verifiers the partners naming it use.
            if !fileMistakes {
                do {
                    let anchors = try TrustAnchors(agency: partner.id, certificateFiles: trust.certificates, crlFiles: trust.crls)
                    _ = try CMSVerifier(anchors: anchors, policy: SignaturePolicy(revocation: trust.requireCRL ? .required : .whereConfigured))
                } catch {
                    mistakes.append(Finding(key: Self.key(for: error.path, trust: trust, base: base),
                                            message: (error.path.isEmpty ? "" : "\(show(error.path)): ") + error.message))
                    fileMistakes = true
                }
            }
            let xmlUsers = configuration.partners.filter { $0.signature.formats.contains(.xmldsig) && $0.signature.trust.contains(partner.id) }
            if !fileMistakes && !xmlUsers.isEmpty {
                do {
                    let anchors = try XMLDSigTrustAnchors.load(agency: partner.id, certificateFiles: trust.certificates, crlFiles: trust.crls)
                    _ = try XMLDSigVerifier(anchors: anchors)
                } catch {
                    mistakes.append(Finding(key: base, message: "the XML-DSig anchors (for \(xmlUsers.map(\.id).joined(separator: ", "))) "
                                            + "cannot be loaded: " + (error.path.map { "\(show($0)): " } ?? "") + error.message))
                }
            }
            let users = configuration.partners.filter { $0.signature.trust.contains(partner.id) }.map(\.id)
            agencies.append(ConfigurationCheck.Summary.Trust(
                agency: partner.id, certificates: caSubjects.count, crls: crlLines.count, requireCRL: trust.requireCRL,
                firstExpiry: soonest.map { day($0.notAfter) }, firstExpiring: soonest?.subject,
                crlNextUpdate: crlLines.sorted().first, partners: users))
        }

        if let identity = configuration.signing {
            do {
                let signer = try CMSSigner(certificateFile: identity.certificate, privateKeyFile: identity.key)
                let certificate = signer.certificateEvidence
                let key = "gateway.signing_certificate"
                if certificate.notAfter <= now {
                    mistakes.append(Finding(key: key, message: "\(show(identity.certificate)): the gateway's certificate \(certificate.subject) "
                                            + "expired on \(day(certificate.notAfter)); counterparts refuse what it signs"))
                } else if certificate.notAfter.timeIntervalSince(now) <= window {
                    warnings.append(Finding(key: key, message: "\(show(identity.certificate)): the gateway's certificate \(certificate.subject) "
                                            + "expires on \(day(certificate.notAfter)) (in \(daysLeft(certificate.notAfter)); "
                                            + "certificate_warning_days = \(configuration.certificateWarningDays))"))
                }
                signing = ConfigurationCheck.Summary.Signing(
                    subject: certificate.subject, issuer: certificate.issuer, serial: certificate.serialNumber,
                    notAfter: day(certificate.notAfter), certificate: show(identity.certificate), key: show(identity.key))
            } catch {
                let key = error.code.hasPrefix("signer.certificate") ? "gateway.signing_certificate" : "gateway.signing_key"
                let file = error.path.isEmpty ? "" : "\(show(error.path)): "
                mistakes.append(Finding(key: key, message: file + error.message + Self.openSSL(error)))
            }
        }
    }

    /// The configuration key of a file named by a `TrustAnchors` error: its entry in certificates or crls.
    private static func key(for path: String, trust: TrustConfiguration, base: String) -> String {
        if let k = trust.certificates.firstIndex(of: path) { return "\(base).certificates[\(k + 1)]" }
        if let k = trust.crls.firstIndex(of: path) { return "\(base).crls[\(k + 1)]" }
        return base + ".certificates"
    }

    /// Why the file at `path` cannot be opened for reading, or nil when it can (errno's words).
    private static func unreadable(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var status = stat()
        if fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR { return "it is a directory" }
        return nil
    }

    /// OpenSSL's words, when it had any.
    private static func openSSL(_ error: SignatureError) -> String {
        error.openSSLErrors.isEmpty ? "" : " (openssl: \(error.openSSLErrors.joined(separator: "; ")))"
    }
}
