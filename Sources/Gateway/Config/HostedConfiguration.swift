/// A partner that logs in to the single window's own OpenSSH server (`[partner.hosted]`): most carriers
/// connect to us rather than the other way round. `gateway sshd-config` turns these into sshd `Match`
/// blocks, authorized keys and a setup script, so the partner's local drop and pickup directories are
/// all it sees over SFTP.
public struct HostedSFTP: Sendable, Hashable {
    /// The partner's own system account (`user`): sshd matches on it, and it owns drop and pickup.
    public var user: String
    /// OpenSSH public key files (absolute), each with one or more keys; read by `check-config` and
    /// `sshd-config`, not at load, so a service start never depends on them.
    public var authorizedKeyFiles: [String]
    /// The directory sshd chroots the partner into (absolute): the common parent of its drop and pickup,
    /// so `/` is exactly those two directories.
    public var chroot: String

    /// Creates hosted settings.
    public init(user: String, authorizedKeyFiles: [String], chroot: String) {
        self.user = user
        self.authorizedKeyFiles = authorizedKeyFiles
        self.chroot = chroot
    }
}

extension HostedSFTP {
    /// The most characters a user name may have: what `useradd` accepts on every Linux we run on.
    public static let maximumUserLength = 32

    /// Why `name` cannot be a hosted partner's account, or nil when it can. Lower-case letters, digits, `_`
    /// and `-`, starting with a letter: the portable subset of `useradd` names, safe unquoted in sshd_config
    /// (`Match User` takes patterns, so `*`, `?`, `!` and `,` would widen the match) and in a shell script.
    static func problem(withUser name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > maximumUserLength { return "'\(name)' is longer than \(maximumUserLength) characters" }
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else {
            return "'\(name)' must start with a lower-case letter"
        }
        guard name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }) else {
            return "'\(name)' may use only lower-case letters, digits, '_' and '-'"
        }
        if name == "root" { return "'root' is never a partner's account" }
        return nil
    }
}

extension Checker {
    /// What the cross-partner hosted checks need: the user and chroot of every hosted partner, by key path.
    struct HostedFacts {
        var path: String
        var id: String?
        var user: String?
        var chroot: String?
    }

    /// `[partner.hosted]`: the account and key files, and the chroot derived from drop and pickup, which
    /// must be two different direct subdirectories of one parent (so the partner sees only them).
    mutating func hosted(_ node: Node, at path: String, id: String?, drop: String?, pickup: String?,
                         spoolRoot: String) -> HostedSFTP? {
        guard var t = table(node, at: path) else { return nil }
        var user = string(&t, "user", required: true)
        if let name = user, let problem = HostedSFTP.problem(withUser: name) {
            fail(t.keyPath("user"), problem)
            user = nil
        }
        var keyFiles: [String] = []
        if let items = strings(&t, "authorized_keys") {
            if items.isEmpty { fail(t.keyPath("authorized_keys"), "is empty: list the partner's OpenSSH public key files") }
            for (itemPath, text) in items {
                if let problem = Paths.problem(with: text, escapeAllowed: true) {
                    fail(itemPath, problem)
                } else {
                    keyFiles.append(Paths.resolve(text, against: spoolRoot))
                }
            }
        } else {
            fail(t.keyPath("authorized_keys"), "missing; list the partner's OpenSSH public key files (key-only logins)")
        }
        finish(t)

        var chroot: String?
        if let drop, let pickup, drop != pickup {
            let parent = Paths.parent(of: drop)
            if parent != Paths.parent(of: pickup) {
                fail(path, "drop (\(Paths.display(drop, relativeTo: spoolRoot))) and pickup (\(Paths.display(pickup, relativeTo: spoolRoot))) "
                     + "must be two directories side by side in one parent, such as partners/\(id ?? "ID")/drop and "
                     + "partners/\(id ?? "ID")/pickup: that parent is the partner's chroot, where it sees only them")
            } else if parent == "/" {
                fail(path, "drop and pickup are directly under /, which cannot be a partner's chroot; give them a parent of their own")
            } else if parent == spoolRoot || spoolRoot.hasPrefix(parent + "/") {
                fail(path, "the chroot would be \(parent), which holds the spool root and so the gateway's own files "
                     + "(ledger, work area): give drop and pickup a parent of their own, such as partners/\(id ?? "ID")")
            } else {
                chroot = parent
            }
        }
        hostedFacts.append(HostedFacts(path: path, id: id, user: user, chroot: chroot))
        guard let user, let chroot, !keyFiles.isEmpty else { return nil }
        return HostedSFTP(user: user, authorizedKeyFiles: keyFiles, chroot: chroot)
    }

    /// Across partners: no two hosted partners share an account or a chroot, and no other partner's drop
    /// or pickup (nor the gateway's state directory) lies inside a hosted partner's chroot, where that
    /// partner would see it.
    mutating func crossCheckHosted(stateDirectory: String?) {
        var users: [String: String] = [:], chroots: [String: String] = [:]
        for h in hostedFacts {
            let name = h.id.map { "partner '\($0)'" } ?? h.path
            if let user = h.user {
                if let other = users[user] {
                    fail(h.path + ".user", "'\(user)' is already the account of \(other); each hosted partner needs its own")
                } else {
                    users[user] = "\(name)\(lineText(h.path + ".user"))"
                }
            }
            guard let chroot = h.chroot else { continue }
            if let other = chroots[chroot] {
                fail(h.path, "its chroot \(chroot) is already the chroot of \(other); each hosted partner needs its own")
                continue
            }
            chroots[chroot] = "\(name)\(lineText(h.path))"
            for p in facts where p.path + ".hosted" != h.path {
                for (key, directory) in [("drop", p.drop), ("pickup", p.pickup)] {
                    guard let directory, directory == chroot || directory.hasPrefix(chroot + "/") else { continue }
                    let owner = p.id.map { "partner '\($0)'" } ?? p.path
                    fail(p.path + "." + key, "\(directory) lies inside \(chroot), the chroot of hosted \(name), "
                         + "who would see \(owner)'s files over SFTP")
                }
            }
            if let stateDirectory, stateDirectory == chroot || stateDirectory.hasPrefix(chroot + "/") {
                fail(h.path, "the chroot \(chroot) holds the gateway's state directory \(stateDirectory), which the partner would see")
            }
        }
    }
}
