import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `gateway sshd-config`: writes what the host's OpenSSH needs so hosted partners (`[partner.hosted]`) log in
/// to our own SFTP server and see only their drop and pickup directories.
///
/// The gateway never edits the system's sshd_config: it writes a fragment the operator includes once, the
/// partners' authorized keys, and a setup script for what needs root (accounts, chroot ownership), so a
/// configuration change is reviewed and applied by the operator, and running it again is always safe.
public enum SSHDConfigWriter {
    /// The fragment's file name in the output directory.
    public static let fragmentName = "swg-partners.conf"
    /// The directory of per-account authorized keys files in the output directory (sshd's `%u`).
    public static let authorizedKeysDirectory = "authorized_keys"
    /// The setup script's file name in the output directory.
    public static let setupName = "setup.sh"

    /// One hosted partner as sshd will serve it.
    public struct Partner: Sendable, Hashable, Codable {
        /// The partner id.
        public var id: String
        /// Its system account.
        public var user: String
        /// The chroot (absolute): what the partner sees as `/`.
        public var chroot: String
        /// The drop and pickup directories as the partner sees them (`/drop`, `/pickup`).
        public var drop: String
        public var pickup: String
        /// How many public keys may log in as it.
        public var keys: Int
        /// Its authorized keys file (absolute).
        public var authorizedKeys: String
    }

    /// Everything `sshd-config` decided, for the summary and `--json`.
    public struct Plan: Sendable, Hashable, Codable {
        /// The configuration file (absolute).
        public var config: String
        /// The output directory (absolute).
        public var output: String
        /// The group that shares drop and pickup with each partner's account (the gateway service's group).
        public var group: String
        public var partners: [Partner]
        /// The files written (absolute), fragment last but for the script.
        public var files: [String]
        /// Authorized keys files of accounts no longer hosted, removed.
        public var removed: [String]
        /// The lines the operator puts in the main sshd_config.
        public var sshdConfig: [String]
        /// The script to run as root.
        public var setup: String
    }

    /// Why nothing (or not everything) was written.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    // MARK: The verb

    /// Runs the verb. Exit status: 0 written; 1 nothing hosted, a path sshd cannot take, or a write failed;
    /// 2 the configuration cannot be read or has mistakes (key files included), as the other verbs print them.
    public static func run(configPath: String, output: String, group: String, json: Bool,
                           out: OutputSink, err: OutputSink) -> Int32 {
        defer { out.flush(); err.flush() }
        guard let configuration = ConfigurationLoader.loadReporting(path: configPath, err: err, nothingWas: "written") else {
            return 2
        }
        let check = HostedKeysCheck(configuration)
        if !check.mistakes.isEmpty {
            let index = lineIndex(path: configPath)
            for finding in check.mistakes {
                err.line(ConfigurationError(key: finding.key, line: index?.line(for: finding.key), message: finding.message)
                    .formatted(path: configPath))
            }
            let n = check.mistakes.count
            err.line("\(configPath): \(n) mistake\(n == 1 ? "" : "s"); nothing was written")
            return 2
        }
        let cwd = Paths.currentDirectory()
        let absoluteConfig = Paths.resolve(configPath, against: cwd)
        let plan: Plan
        do {
            plan = try write(configuration, keys: check.keys, configPath: absoluteConfig,
                             output: Paths.resolve(output, against: cwd), group: group)
        } catch {
            err.line("sshd-config: \(error)")
            return 1
        }
        out.write(json ? render(plan) : text(plan))
        for p in plan.partners {
            if let problem = unsafeAncestor(of: p.chroot) {
                err.line("warning: partner \(p.id)'s chroot \(p.chroot): \(problem); sshd refuses such a chroot, and setup.sh stops there")
            }
        }
        return 0
    }

    /// Checks, renders and writes every file into `output`; throws before writing anything when a partner
    /// cannot be served (none hosted, a path sshd_config or the script cannot carry).
    public static func write(_ configuration: GatewayConfiguration, keys: [String: [OpenSSHPublicKey]],
                             configPath: String, output: String, group: String) throws(Failure) -> Plan {
        let hosted = configuration.partners.filter { $0.hosted != nil }
        guard !hosted.isEmpty else {
            throw Failure(description: "no partner in \(configPath) has a [partner.hosted] table, so there is nothing to "
                          + "write; add one to each partner that logs in to our own SFTP server")
        }
        if let problem = HostedSFTP.problem(withUser: group), group != "root" {
            throw Failure(description: "--group: \(problem)")
        }
        let keysDirectory = output + "/" + authorizedKeysDirectory
        try requireSafe(output, what: "the output directory")
        var partners: [Partner] = []
        for p in hosted {
            let h = p.hosted!
            try requireSafe(h.chroot, what: "partner \(p.id)'s chroot")
            try requireSafe(p.dropDirectory, what: "partner \(p.id)'s drop directory")
            try requireSafe(p.pickupDirectory, what: "partner \(p.id)'s pickup directory")
            partners.append(Partner(id: p.id, user: h.user, chroot: h.chroot, drop: "/" + lastComponent(p.dropDirectory),
                                    pickup: "/" + lastComponent(p.pickupDirectory), keys: keys[p.id]?.count ?? 0,
                                    authorizedKeys: keysDirectory + "/" + h.user))
        }
        let fragmentPath = output + "/" + fragmentName, setupPath = output + "/" + setupName
        let fragmentText = fragment(partners, configPath: configPath, output: output)
        let script = setupScript(partners, configPath: configPath, output: output, group: group)

        var files: [String] = []
        do {
            try makeDirectory(output)
            try makeDirectory(keysDirectory)
            // Keys first, then the fragment that names them, so sshd never sees a Match block without its keys.
            for (p, partner) in zip(partners, hosted) {
                let text = authorizedKeys(keys[partner.id] ?? [])
                try replaceFile(p.authorizedKeys, contents: text, mode: 0o644)
                files.append(p.authorizedKeys)
            }
            try replaceFile(fragmentPath, contents: fragmentText, mode: 0o644)
            files.append(fragmentPath)
            try replaceFile(setupPath, contents: script, mode: 0o755)
            files.append(setupPath)
        } catch {
            throw Failure(description: "\(error)")
        }
        // Accounts no longer hosted lose their keys once the fragment no longer names them.
        var removed: [String] = []
        let current = Set(partners.map(\.user))
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: keysDirectory)) ?? []).sorted()
        where !current.contains(name) && !name.hasPrefix(".") {
            if unlink(keysDirectory + "/" + name) == 0 { removed.append(keysDirectory + "/" + name) }
        }
        return Plan(config: configPath, output: output, group: group, partners: partners, files: files, removed: removed,
                    sshdConfig: ["Subsystem sftp internal-sftp", "Include \(fragmentPath)"], setup: setupPath)
    }

    // MARK: What is written

    /// The sshd_config fragment: one `Match User` block per hosted partner. sshd has no way to end a Match
    /// block but another Match, so the fragment must be the last thing in the main configuration.
    public static func fragment(_ partners: [Partner], configPath: String, output: String) -> String {
        var lines = [
            "# Generated by `gateway sshd-config` from \(configPath).",
            "# Do not edit: change [partner.hosted] in that file and run `gateway sshd-config` again.",
            "#",
            "# Include it at the END of the main sshd_config, after every other setting and Match block:",
            "#     Subsystem sftp internal-sftp",
            "#     Include \(output)/\(fragmentName)",
            "# A Match block lasts until the next Match or the end of the configuration, so a setting written after",
            "# the Include would apply to the last partner only.",
        ]
        for p in partners {
            lines += [
                "",
                "# \(p.id): sees \(p.drop) and \(p.pickup), starts in \(p.drop); \(p.keys) key\(p.keys == 1 ? "" : "s")",
                "Match User \(p.user)",
                "    ChrootDirectory \(p.chroot)",
                "    ForceCommand internal-sftp -d \(p.drop)",
                "    AuthorizedKeysFile \(output)/\(authorizedKeysDirectory)/%u",
                "    AuthenticationMethods publickey",
                "    PasswordAuthentication no",
                "    KbdInteractiveAuthentication no",
                "    AllowTcpForwarding no",
                "    AllowAgentForwarding no",
                "    AllowStreamLocalForwarding no",
                "    X11Forwarding no",
                "    PermitTunnel no",
                "    PermitTTY no",
                "    PermitUserRC no",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// An account's authorized keys: every key `restrict`ed (no forwarding of any kind, no pty, no
    /// ~/.ssh/rc), on top of the Match block, so a key copied elsewhere by mistake stays harmless.
    public static func authorizedKeys(_ keys: [OpenSSHPublicKey]) -> String {
        keys.map { "restrict " + $0.line + "\n" }.joined()
    }

    /// The root-only part, as a script the operator reads and runs: accounts, chroot ownership and modes.
    /// It changes only what differs and says what it did, so running it twice is harmless; it refuses,
    /// rather than chmod-ing, an ancestor directory sshd would reject, since that is a system directory.
    public static func setupScript(_ partners: [Partner], configPath: String, output: String, group: String) -> String {
        var s = """
            #!/bin/bash
            # Generated by `gateway sshd-config` from \(configPath).
            # Do not edit: change [partner.hosted] there and run `gateway sshd-config` again.
            #
            # Run as root before reloading sshd. It creates each hosted partner's system account when missing,
            # makes each chroot root-owned (mode 0755, as sshd requires of a ChrootDirectory and its ancestors),
            # and gives drop and pickup to the partner's account and the gateway's group (mode 0770).
            # Safe to run again: it changes only what differs, and prints what it did.
            set -euo pipefail
            umask 022

            GATEWAY_GROUP=\(shellQuote(group))
            KEYS_DIR=\(shellQuote(output + "/" + authorizedKeysDirectory))

            say() { printf '%s\\n' "$*"; }
            die() { printf 'setup.sh: %s\\n' "$*" >&2; exit 1; }

            [ "$(id -u)" -eq 0 ] || die "run me as root: I create accounts and change owners"
            getent group "$GATEWAY_GROUP" >/dev/null || die "group $GATEWAY_GROUP (the gateway's) does not exist"

            # The partner's account: a system account without home or shell. useradd leaves it locked ('!'), which
            # sshd with UsePAM no refuses; '*' is "no password" without the lock. An account with a real password
            # is somebody else's: refused.
            account() {
                local user=$1 password
                if id -u "$user" >/dev/null 2>&1; then
                    say "account $user: exists"
                else
                    useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin "$user"
                    say "account $user: created"
                fi
                password=$(getent shadow "$user" | cut -d: -f2)
                case $password in
                    '*') ;;
                    ''|'!'|'!!'|'!*'|'*LK*') usermod -p '*' "$user"; say "account $user: unlocked for key logins (no password)" ;;
                    *) die "account $user has a password: a hosted partner's account must be its own, without one" ;;
                esac
            }

            # DIR's ancestors must be root-owned and not writable by group or others, or sshd refuses the
            # chroot (or, for the keys, StrictModes refuses the keys). These are not ours to chmod: refuse.
            ancestors_safe() {
                local dir=$1 what=$2 owner mode
                while [ "$dir" != / ]; do
                    dir=$(dirname "$dir")
                    [ -e "$dir" ] || continue
                    owner=$(stat -L -c %u "$dir"); mode=$(stat -L -c %a "$dir")
                    if [ "$owner" != 0 ] || (( 8#$mode & 8#022 )); then
                        die "$dir (owner uid $owner, mode $mode) must be owned by root and not writable by group or others for $what; fix it, or put the spool elsewhere (never under /tmp)"
                    fi
                done
            }

            # owned DIR USER GROUP MODE: make DIR (if missing), then owner and mode, saying what changed.
            owned() {
                local dir=$1 owner=$2 group=$3 mode=$4
                if [ ! -d "$dir" ]; then mkdir -p "$dir"; say "$dir: created"; fi
                if [ "$(stat -c %U:%G "$dir")" != "$owner:$group" ]; then chown "$owner:$group" "$dir"; say "$dir: owner $owner:$group"; fi
                if [ "$(stat -c %a "$dir")" != "${mode#0}" ]; then chmod "$mode" "$dir"; say "$dir: mode $mode"; fi
            }

            # The chroot: root-owned, 0755, every ancestor checked first (before anything is created under it).
            chroot_dir() {
                local dir=$1
                ancestors_safe "$dir" "the chroot $dir"
                owned "$dir" root root 0755
            }

            # The authorized keys sshd reads (StrictModes): root-owned, not writable by others, ancestors too.
            ancestors_safe "$KEYS_DIR" "the authorized keys in $KEYS_DIR"
            owned "$KEYS_DIR" root root 0755
            for f in "$KEYS_DIR"/*; do
                [ -f "$f" ] || continue
                if [ "$(stat -c %U:%G:%a "$f")" != root:root:644 ]; then chown root:root "$f"; chmod 0644 "$f"; say "$f: root:root 0644"; fi
            done

            """
        for p in partners {
            s += """

                # \(p.id): sftp user \(p.user), sees \(p.drop) and \(p.pickup)
                account \(shellQuote(p.user))
                chroot_dir \(shellQuote(p.chroot))
                owned \(shellQuote(p.chroot + p.drop)) \(shellQuote(p.user)) "$GATEWAY_GROUP" 0770
                owned \(shellQuote(p.chroot + p.pickup)) \(shellQuote(p.user)) "$GATEWAY_GROUP" 0770

                """
        }
        s += """

            say "done: \(partners.count) hosted partner\(partners.count == 1 ? "" : "s"); check the main sshd_config with sshd -t, then reload sshd"

            """
        return s
    }

    // MARK: Summary

    /// The text summary: per partner what it sees, then what the operator does next.
    public static func text(_ plan: Plan) -> String {
        var lines = ["wrote \(plan.output)/\(fragmentName), \(plan.output)/\(authorizedKeysDirectory)/ and \(plan.setup) "
                     + "from \(plan.config)"]
        let idWidth = plan.partners.map(\.id.count).max() ?? 0
        let userWidth = plan.partners.map(\.user.count).max() ?? 0
        for p in plan.partners {
            lines.append("partner \(p.id.padding(toLength: idWidth, withPad: " ", startingAt: 0))  "
                         + "user \(p.user.padding(toLength: userWidth, withPad: " ", startingAt: 0))  "
                         + "sees \(p.drop) \(p.pickup)  \(p.keys) key\(p.keys == 1 ? "" : "s")  chroot \(p.chroot)")
        }
        for r in plan.removed { lines.append("removed \(r) (no hosted partner has that account any more)") }
        lines += [
            "",
            "Next, as root:",
            "  1. run \(plan.setup) (accounts, chroot owners and modes; safe to run again)",
            "  2. in the main sshd_config, set (replacing any other Subsystem sftp line) and add at the very END,",
            "     after every Match block:",
        ]
        lines += plan.sshdConfig.map { "       " + $0 }
        lines.append("  3. sshd -t, then reload sshd")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func render(_ plan: Plan) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(plan)) ?? Data("{}".utf8)
        return String(decoding: JSONText.prettyPrinted(data), as: UTF8.self) + "\n"
    }

    // MARK: Files

    /// sshd_config splits arguments on blanks and quotes and expands `%` tokens in ChrootDirectory and
    /// AuthorizedKeysFile; the script quotes, but a path that needs quoting anywhere is refused here rather
    /// than escaped three ways.
    static func requireSafe(_ path: String, what: String) throws(Failure) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+@,=:")
        if let bad = path.first(where: { !allowed.contains($0) }) {
            throw Failure(description: "\(what) \(path) has '\(bad)', which sshd_config cannot take as is; use only "
                          + "letters, digits and / . _ - + @ , = :")
        }
    }

    /// The first existing ancestor of `path` sshd would refuse under a ChrootDirectory (not root-owned, or
    /// writable by group or others, as /tmp is), in words; nil when there is none.
    static func unsafeAncestor(of path: String) -> String? {
        var dir = path
        while dir != "/" {
            dir = Paths.parent(of: dir)
            var status = stat()
            guard stat(dir, &status) == 0 else { continue }
            if status.st_uid != 0 || status.st_mode & 0o022 != 0 {
                return "\(dir) is " + (status.st_uid != 0 ? "not owned by root" : "writable by group or others")
            }
        }
        return nil
    }

    static func shellQuote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    static func lastComponent(_ path: String) -> String { String(path[path.index(after: path.lastIndex(of: "/")!)...]) }

    /// Makes `path` and missing parents, mode 0755 (sshd reads it as root; partners never see it).
    static func makeDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Failure(description: "\(path) exists and is not a directory") }
            return
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        _ = chmod(path, 0o755)
    }

    /// Replaces `path` whole: a temporary beside it, written, given its mode, synced, renamed over, and the
    /// directory synced; sshd or a reader sees the old file or the new one, never half of one.
    static func replaceFile(_ path: String, contents: String, mode: mode_t) throws(Failure) {
        let temp = Paths.parent(of: path) + "/." + lastComponent(path) + ".tmp-\(getpid())"
        func failure(_ operation: String, _ file: String) -> Failure {
            Failure(description: "cannot \(operation) \(file): \(String(cString: strerror(errno)))")
        }
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        if fd < 0 { throw failure("create", temp) }
        let bytes = Array(contents.utf8)
        var done = 0, ok = true
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { systemWrite(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 { if errno == EINTR { continue }; ok = false; break }
            done += n
        }
        if !ok || fchmod(fd, mode) != 0 || fsync(fd) != 0 {
            let error = failure("write", temp)
            close(fd); unlink(temp)
            throw error
        }
        if close(fd) != 0 { unlink(temp); throw failure("write", temp) }
        if rename(temp, path) != 0 { let e = failure("rename into place", path); unlink(temp); throw e }
        let dir = open(Paths.parent(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }

    private static func lineIndex(path: String) -> TOMLLineIndex? {
        var bytes: [UInt8] = []
        guard (try? ChunkedFile.forEachChunk(path: path, { bytes.append(contentsOf: $0) })) != nil,
              let text = String(validating: bytes, as: UTF8.self) else { return nil }
        return TOMLLineIndex(text)
    }
}

/// `write(2)`, under a name the enum's own `write` does not shadow.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }
