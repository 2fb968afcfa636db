import ArgumentParser
import Foundation
import Gateway

/// `gateway verify FILE`: the pipeline's signature check on a file on disk, explained.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a file's signature as the pipeline would, and explain the verdict.",
        discussion: """
            Runs the same check as the pipeline on FILE: the detached signature (--signature, else FILE.p7s \
            beside it), an enveloping .p7m or an XML signature inside the document, against the anchors of \
            each agency the partner's policy names (never the system store). Prints the format detected, the \
            anchors tried, the verdict and its code, the operator's reason and the words the partner reads in \
            its APERAK, the signer (subject, issuer, serial, SHA-256 fingerprint, validity), the chain and the \
            CRL used. The partner is --partner, else the partner whose drop directory holds FILE. Give --at the \
            time the file was received to reach the pipeline's verdict. Exit status: 0 when the signature is \
            valid (or none is required and none is present), 1 when it is refused, 2 on a usage error or when \
            the configuration cannot be read or has mistakes, 3 when the trust configuration cannot be used.
            """
    )

    @Argument(help: ArgumentHelp("The file to check.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("The partner whose signature policy applies (default: the partner whose drop directory holds the file).",
                               valueName: "partner"))
    var partner: String?

    @Option(help: ArgumentHelp("The detached signature (default: FILE.p7s, when present).", valueName: "file"))
    var signature: String?

    @Option(help: ArgumentHelp("Judge the certificates and CRLs as of this time instead of now, as YYYY-MM-DDTHH:MM:SSZ (UTC).",
                               valueName: "time"))
    var at: String?

    @Option(help: ArgumentHelp("""
        The configuration file. Default: $\(ConfigurationCheck.environmentVariable), else \
        \(ConfigurationCheck.defaultPath).
        """, valueName: "path"))
    var config: String?

    @Flag(help: "Print one JSON document instead of text.")
    var json = false

    func validate() throws {
        if file.isEmpty { throw ValidationError("Invalid file: the path is empty") }
        if let at, ConfigurationCheck.parseTimestamp(at) == nil {
            throw ValidationError("Invalid --at: '\(at)' is not a UTC time as YYYY-MM-DDTHH:MM:SSZ")
        }
        if config?.isEmpty == true { throw ValidationError("Invalid --config: the path is empty") }
        if partner?.isEmpty == true { throw ValidationError("Invalid --partner: the id is empty") }
        if signature?.isEmpty == true { throw ValidationError("Invalid --signature: the path is empty") }
    }

    func run() throws {
        let path = ConfigurationCheck.path(option: config, environment: ProcessInfo.processInfo.environment)
        let time = at.flatMap(ConfigurationCheck.parseTimestamp) ?? Date()
        let status = VerifyVerb.run(filePath: file, partner: partner, signaturePath: signature, validationTime: time,
                                    configPath: path, json: json, out: .standardOutput(), err: .standardError())
        if status != .valid { throw ExitCode(status.rawValue) }
    }
}
