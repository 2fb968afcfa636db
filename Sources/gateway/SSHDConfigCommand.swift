import ArgumentParser
import Foundation
import Gateway

/// `gateway sshd-config`: what the host's OpenSSH needs for the partners that log in to us.
struct SSHDConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sshd-config",
        abstract: "Write the sshd Match blocks, authorized keys and setup script for hosted partners.",
        discussion: """
            For every partner with a [partner.hosted] table, writes into the output directory (created if \
            needed; each file replaced whole, never half-written): swg-partners.conf, one sshd_config Match \
            block per partner (internal-sftp only, chrooted to the common parent of its drop and pickup, \
            public keys only, no forwarding, no tty), to be included at the END of the main sshd_config; \
            authorized_keys/USER, the partner's keys, each restricted; and setup.sh, to run as root: it \
            creates the system accounts, makes each chroot root-owned (refusing ancestors sshd would refuse) \
            and gives drop and pickup to the partner's account and the gateway's group. Prints what each \
            partner sees and the lines to add to the main sshd_config. \
            Exit status: 0 when written, 1 when no partner is hosted or a file cannot be written, 2 on a usage \
            error or when the configuration cannot be read or has mistakes (unreadable key files and lines \
            that are not OpenSSH public keys included).
            """
    )

    @Option(help: ArgumentHelp("""
        The configuration file. Default: $\(ConfigurationCheck.environmentVariable), else \
        \(ConfigurationCheck.defaultPath).
        """, valueName: "path"))
    var config: String?

    @Option(help: ArgumentHelp("The directory to write into, such as /etc/ssh/swg (created if needed).", valueName: "dir"))
    var output: String

    @Option(help: ArgumentHelp("""
        The gateway service's group, which shares each partner's drop and pickup with the partner's account \
        (the gateway claims and delivers there); root suits a gateway running as root.
        """, valueName: "group"))
    var group = "root"

    @Flag(help: "Print one JSON document (the partners, the files written, the sshd_config lines).")
    var json = false

    func validate() throws {
        if config?.isEmpty == true { throw ValidationError("Invalid --config: the path is empty") }
        if output.isEmpty { throw ValidationError("Invalid --output: the path is empty") }
    }

    func run() throws {
        let path = ConfigurationCheck.path(option: config, environment: ProcessInfo.processInfo.environment)
        let status = SSHDConfigWriter.run(configPath: path, output: output, group: group, json: json,
                                          out: .standardOutput(), err: .standardError())
        if status != 0 { throw ExitCode(status) }
    }
}
