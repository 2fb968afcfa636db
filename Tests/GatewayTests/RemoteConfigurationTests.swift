import Foundation
import Testing

@testable import Gateway

// [[endpoint]] and sftp://ENDPOINT/path directories, [partner.remote]: what loads and what each mistake says.

private let endpoint = """
    [gateway]
    sender_id = "SWGATEWAY"

    [[endpoint]]
    name = "carrierx-sftp"
    host = "sftp.carrierx.example"
    user = "swg"
    private_key = "keys/carrierx"
    known_hosts = "keys/carrierx.known_hosts"

    """

private func partner(drop: String = "sftp://carrierx-sftp/outbound", pickup: String = "sftp://carrierx-sftp/inbound",
                     extra: String = "") -> String {
    """
    [[partner]]
    id = "CARRIERX"
    role = "carrier"
    drop = "\(drop)"
    pickup = "\(pickup)"
    \(extra)
    """
}

private func configurationMistakes(_ text: String) -> [String] {
    do {
        _ = try ConfigurationLoader.parse(text, configurationDirectory: "/srv/spool")
        return []
    } catch {
        return error.errors.map { "\($0.key): \($0.message)" }
    }
}

@Suite("Remote endpoints in the configuration")
struct RemoteConfigurationTests {
    @Test("an endpoint with defaults and a partner with both directories on it")
    func loads() throws {
        let c = try ConfigurationLoader.parse(endpoint + partner(extra: "[partner.remote]\nprocessed_directory = \"/outbound/done\"\ndone_marker = \".ok\"\n"),
                                              configurationDirectory: "/srv/spool")
        let e = try #require(c.endpoints["carrierx-sftp"])
        #expect(e.host == "sftp.carrierx.example" && e.port == 22 && e.user == "swg")
        #expect(e.privateKey == "/srv/spool/keys/carrierx" && e.knownHosts == "/srv/spool/keys/carrierx.known_hosts")
        #expect(e.connectTimeoutSeconds == 10 && e.transferTimeoutSeconds == 60 && e.maxSessions == 2)
        #expect(e.passphraseFile == nil && e.passphraseEnvironment == nil)
        let p = try #require(c.partners.first)
        #expect(p.remoteDrop == RemoteDirectory(endpoint: "carrierx-sftp", path: "/outbound"))
        #expect(p.remotePickup == RemoteDirectory(endpoint: "carrierx-sftp", path: "/inbound"))
        #expect(p.localDirectories.isEmpty)
        #expect(p.remote == RemoteSettings(claim: .rename, processedDirectory: "/outbound/done", doneMarker: ".ok"))
        // A local pickup beside a remote drop.
        let mixed = try ConfigurationLoader.parse(endpoint + partner(pickup: "partners/CARRIERX/pickup"), configurationDirectory: "/srv/spool")
        #expect(mixed.partners.first?.localDirectories == ["/srv/spool/partners/CARRIERX/pickup"])
    }

    @Test("the passphrase comes from its file's first line or from the environment, never the configuration")
    func passphrase() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swg-pass-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "s3cret\nignored\n".write(to: dir.appendingPathComponent("pass"), atomically: true, encoding: .utf8)
        var e = RemoteEndpoint(name: "x", host: "h", user: "u", privateKey: "/k", passphraseFile: dir.appendingPathComponent("pass").path,
                               knownHosts: "/kh")
        #expect(try e.sftpEndpoint().passphrase == "s3cret")
        e.passphraseFile = dir.appendingPathComponent("missing").path
        #expect(throws: SFTPError.self) { try e.sftpEndpoint() }
        e.passphraseFile = nil
        e.passphraseEnvironment = "SWG_TEST_SURELY_UNSET_VARIABLE"
        do {
            _ = try e.sftpEndpoint()
            Issue.record("an unset variable must fail")
        } catch {
            #expect(error.message.contains("SWG_TEST_SURELY_UNSET_VARIABLE") && error.message.contains("endpoint x"))
        }
    }

    @Test("each mistake names its key", arguments: [
        (partner(drop: "sftp://nowhere/outbound"), "partner[1].drop: endpoint 'nowhere' is not defined under [[endpoint]] (known: carrierx-sftp)"),
        (partner(drop: "sftp://carrierx-sftp/out/../etc"), "partner[1].drop: 'sftp://carrierx-sftp/out/../etc' is not sftp://ENDPOINT/absolute/path"),
        (partner(drop: "sftp://carrierx-sftp"), "partner[1].drop: 'sftp://carrierx-sftp' is not sftp://ENDPOINT/absolute/path"),
        (partner(drop: "partners/X/drop", pickup: "partners/X/pickup", extra: "[partner.remote]\nclaim = \"none\"\n"),
         "partner[1].remote: applies only when drop or pickup is an sftp://ENDPOINT/path directory"),
        (partner(extra: "[partner.remote]\nclaim = \"copy\"\n"), "partner[1].remote.claim: 'copy' is not one of: rename, none"),
        (partner(extra: "[partner.remote]\ndone_marker = \"a/b\"\n"), "partner[1].remote.done_marker: 'a/b' is not a file-name suffix"),
        (partner(extra: "[partner.remote]\nprocessed_directory = \"done\"\n"), "partner[1].remote.processed_directory: 'done' is not an absolute directory"),
        (partner(drop: "sftp://carrierx-sftp/x", pickup: "sftp://carrierx-sftp/x"), "partner[1].pickup: is the same directory as drop"),
    ])
    func mistakes(text: String, expected: String) {
        let found = Self.found(endpoint + text)
        #expect(found.contains { $0.hasPrefix(expected) }, "\(found)")
    }

    @Test("endpoint mistakes", arguments: [
        ("port = 70000\n", "endpoint[1].port: 70000 is not a TCP port"),
        ("passphrase_file = \"a\"\npassphrase_env = \"B\"\n", "endpoint[1].passphrase_env: give passphrase_file or passphrase_env, not both"),
        ("colour = \"blue\"\n", "endpoint[1].colour: unknown key 'colour'"),
    ])
    func endpointMistakes(text: String, expected: String) {
        let found = Self.found(endpoint + text + partner())
        #expect(found.contains { $0.hasPrefix(expected) }, "\(found)")
        let missing = Self.found("[gateway]\nsender_id = \"S\"\n[[endpoint]]\nname = \"e\"\n")
        for key in ["host", "user", "private_key", "known_hosts"] {
            #expect(missing.contains { $0.hasPrefix("endpoint[1].\(key): missing") }, "\(missing)")
        }
    }

    static func found(_ text: String) -> [String] { configurationMistakes(text) }
}
