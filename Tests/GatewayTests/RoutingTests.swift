import Foundation
import Testing

@testable import Gateway

// Routing rules: presets, narrowing filters, the reasons given, the copies cut from the model, and the
// configuration that declares them.

/// A sea manifest from Shanghai to Kemba: food (HS 0901), machinery (8479), a dangerous-goods item (UN 1263).
private func manifest(mode: TransportMode = .sea) -> Manifest {
    Manifest(
        documentNumber: "MAN1", function: .original, sender: "CARRIERX",
        transport: TransportMeans(mode: mode, voyage: "FA503R", meansId: "3FZO7", meansName: "MSC GULSUN",
                                  departurePort: "CNSHA", arrivalPort: "KEMBA", crewCount: 22),
        containers: [Container(number: "MSCU1234566"), Container(number: "TGHU7654320"), Container(number: "CSQU3054383")],
        consignments: [
            Consignment(billOfLading: "BL-FOOD", loadingPort: "CNSHA", dischargePort: "KEMBA",
                        parties: [Party(role: .consignee, name: "Nairobi Coffee Ltd")],
                        goods: [GoodsItem(sequence: 1, description: "COFFEE", hsCode: "090111",
                                          containers: [ContainerShare(container: "MSCU1234566")]),
                                GoodsItem(sequence: 2, description: "PUMPS", hsCode: "841370",
                                          containers: [ContainerShare(container: "TGHU7654320")])]),
            Consignment(billOfLading: "BL-MACH", parties: [Party(role: .consignee, id: "KE123", name: "Machines Ltd")],
                        goods: [GoodsItem(sequence: 1, description: "MACHINE PARTS", hsCode: "847990",
                                          containers: [ContainerShare(container: "TGHU7654320")])]),
            Consignment(billOfLading: "BL-PAINT",
                        goods: [GoodsItem(sequence: 1, description: "PAINT", hsCode: "320890",
                                          dangerousGoods: [DangerousGoods(unNumber: "1263", hazardClass: "3")],
                                          containers: [ContainerShare(container: "CSQU3054383")])]),
        ])
}

@Suite("Routing")
struct RoutingTests {
    @Test("presets: customs gets everything as CUSCAR, inspection the listed HS codes, border the transport, maritime waterways")
    func presets() {
        let rules = [RoutingRule(agency: "CUSTOMS", preset: .customs), RoutingRule(agency: "CIQ", preset: .inspection),
                     RoutingRule(agency: "BORDER", preset: .border), RoutingRule(agency: "MSA", preset: .maritime)]
        let decisions = Router.route(manifest(), rules: rules)
        #expect(decisions.map(\.format) == [.cuscarD96A, .ciqXML, .borderXML, .manifestXML])
        #expect(decisions.map(\.selected) == [true, true, true, true])
        #expect(decisions[0].consignments.filter(\.selected).map(\.billOfLading) == ["BL-FOOD", "BL-MACH", "BL-PAINT"])
        // Inspection: only the coffee of BL-FOOD, nothing of the others, each with its reason.
        let ciq = decisions[1]
        #expect(ciq.consignments.map(\.selected) == [true, false, false])
        #expect(ciq.consignments[0].goods == [1] && ciq.consignments[0].reason == "HS 090111 on the list")
        #expect(ciq.consignments[1].reason == "no goods with an HS code on the list")
        #expect(decisions[2].consignments.isEmpty && decisions[2].reason.hasPrefix("border: the transport means"))
        // A road manifest: maritime says why not.
        let road = Router.route(manifest(mode: .road), rules: rules)
        #expect(!road[3].selected && road[3].reason == "transport mode road is not among inland-waterway, sea")
        #expect(road[0].selected && road[2].selected)
    }

    @Test("filters: ports, dangerous goods, parties; the copy keeps only what was selected")
    func filters() {
        let dangerous = RoutingRule(agency: "MSA", preset: .maritime, dangerousGoodsOnly: true)
        let decision = Router.route(manifest(), rules: [dangerous])[0]
        #expect(decision.consignments.filter(\.selected).map(\.billOfLading) == ["BL-PAINT"])
        #expect(decision.consignments[2].reason == "dangerous goods UN 1263")
        let copy = Router.copy(of: manifest(), for: decision)
        #expect(copy.consignments.map(\.billOfLading) == ["BL-PAINT"] && copy.containers.map(\.number) == ["CSQU3054383"])

        let ciq = Router.route(manifest(), rules: [RoutingRule(agency: "CIQ", preset: .inspection)])[0]
        let ciqCopy = Router.copy(of: manifest(), for: ciq)
        #expect(ciqCopy.consignments.count == 1 && ciqCopy.consignments[0].goods.map(\.description) == ["COFFEE"])
        #expect(ciqCopy.containers.map(\.number) == ["MSCU1234566"])

        let elsewhere = Router.route(manifest(), rules: [RoutingRule(agency: "X", preset: .customs, ports: ["NLRTM"])])[0]
        #expect(!elsewhere.selected && elsewhere.reason.hasPrefix("no port of the manifest (CNSHA, KEMBA) is among NLRTM"))
        let party = Router.route(manifest(), rules: [RoutingRule(agency: "X", preset: .customs, parties: ["ke123"])])[0]
        #expect(party.consignments.filter(\.selected).map(\.billOfLading) == ["BL-MACH"])
        #expect(party.consignments[1].reason == "party matches 'ke123'")
    }

    @Test("HS prefixes of any length match a code's leading digits; with dangerous goods only, both filters apply in turn")
    func hsPrefixesAndDangerousGoods() {
        let prefixes = HSPrefixes(["8479", "09", "3208901234"])
        #expect(prefixes.matches("847990") && prefixes.matches("0901110000") && prefixes.matches("3208901234"))
        #expect(!prefixes.matches("841370") && !prefixes.matches("320890") && !prefixes.matches("190901"))

        let base = manifest()
        let hs = Router.route(base, rules: [RoutingRule(agency: "Y", preset: .inspection, hsPrefixes: ["8413", "8479"])])[0]
        #expect(hs.consignments.map(\.goods) == [[2], [1], []])
        #expect(hs.consignments.map(\.reason) == ["HS 841370 on the list", "HS 847990 on the list", "no goods with an HS code on the list"])
        // Both filters: the paint is dangerous and on the list; the pumps are on the list, not dangerous.
        let both = Router.route(base, rules: [RoutingRule(agency: "Y", preset: .inspection, hsPrefixes: ["32", "8413"],
                                                          dangerousGoodsOnly: true)])[0]
        #expect(both.consignments.map(\.selected) == [false, false, true])
        #expect(both.consignments.map(\.reason) == ["no goods with an HS code on the list", "no goods with an HS code on the list",
                                                     "HS 320890 on the list; dangerous goods UN 1263"])
        // Ports: a consignment's port of discharge is enough; none on the list names them all.
        let ports = Router.route(base, rules: [RoutingRule(agency: "M", preset: .maritime, ports: ["KEMBA"]),
                                               RoutingRule(agency: "N", preset: .maritime, ports: ["NLRTM"])])
        #expect(ports[0].selected)
        #expect(ports[1].reason == "no port of the manifest (CNSHA, KEMBA) is among NLRTM", "\(ports[1])")
    }

    @Test("a copy cut by walking the router's decision equals one cut by bill of lading; unused containers are left out")
    func copyPaths() {
        var base = manifest()
        // A container no goods item is in: no copy carries it, not even one that takes every consignment whole.
        base.containers.append(Container(number: "MSKU0000005"))
        let rules = [RoutingRule(agency: "CUSTOMS", preset: .customs), RoutingRule(agency: "CIQ", preset: .inspection),
                     RoutingRule(agency: "MSA", preset: .maritime, dangerousGoodsOnly: true),
                     RoutingRule(agency: "X", preset: .customs, parties: ["ke123"]),
                     RoutingRule(agency: "Y", preset: .inspection, hsPrefixes: ["84"])]
        for decision in Router.route(base, rules: rules) {
            // The same choices in another order, as a decision read back from elsewhere: looked up by bill.
            var byBill = decision
            byBill.consignments.reverse()
            let walked = Router.copy(of: base, for: decision)
            #expect(walked == Router.copy(of: base, for: byBill), "\(decision.agency)")
            #expect(!walked.containers.contains { $0.number == "MSKU0000005" }, "\(decision.agency)")
        }
        let whole = Router.copy(of: base, for: Router.route(base, rules: [rules[0]])[0])
        #expect(whole.consignments == base.consignments && whole.containers == manifest().containers)
        let pumps = Router.copy(of: base, for: Router.route(base, rules: [rules[4]])[0])
        #expect(pumps.consignments.map(\.billOfLading) == ["BL-FOOD", "BL-MACH"])
        #expect(pumps.consignments[0].goods.map(\.description) == ["PUMPS"] && pumps.containers.map(\.number) == ["TGHU7654320"])
    }

    @Test("[partner.routing] loads with presets and filters; mistakes name their key")
    func configuration() throws {
        let base = """
            [gateway]
            sender_id = "S"
            [[partner]]
            id = "CIQ"
            role = "agency"
            drop = "a/drop"
            pickup = "a/pickup"

            """
        let loaded = try ConfigurationLoader.parse(base + """
            [partner.routing]
            preset = "inspection"
            hs_prefixes = ["0901", "44"]
            modes = ["sea", "inland-waterway"]
            ports = ["KEMBA"]
            format = "manifest-xml"
            """, configurationDirectory: "/srv/spool")
        let rule = try #require(loaded.partners.first?.routing)
        #expect(rule.preset == .inspection && rule.format == .manifestXML && rule.hsPrefixes == ["0901", "44"])
        #expect(rule.modes == [.sea, .inlandWaterway] && rule.ports == ["KEMBA"])
        let sample = try ConfigurationLoader.load(path: CLI.packageRoot.appendingPathComponent("spool/gateway.toml").path)
        #expect(sample.partners.compactMap(\.routing).map(\.preset) == [.customs, .inspection, .border, .maritime])

        for (text, expected) in [
            ("[partner.routing]\npreset = \"police\"\n", "partner[1].routing.preset: 'police' is not one of: customs"),
            ("[partner.routing]\npreset = \"customs\"\nhs_prefixes = [\"09a\"]\n", "partner[1].routing.hs_prefixes[1]: '09a' is not an HS code prefix"),
            ("[partner.routing]\npreset = \"customs\"\nports = [\"Kemba\"]\n", "partner[1].routing.ports[1]: 'Kemba' is not a UN/LOCODE"),
            ("[partner.routing]\npreset = \"customs\"\nmodes = [\"ship\"]\n", "partner[1].routing.modes[1]: 'ship' is not one of"),
            ("[partner.routing]\n", "partner[1].routing.preset: missing"),
        ] {
            do {
                _ = try ConfigurationLoader.parse(base + text, configurationDirectory: "/srv/spool")
                Issue.record("\(text) loaded")
            } catch {
                let found = error.errors.map { "\($0.key): \($0.message)" }
                #expect(found.contains { $0.hasPrefix(expected) }, "\(found)")
            }
        }
        do {
            _ = try ConfigurationLoader.parse(base.replacingOccurrences(of: "\"agency\"", with: "\"carrier\"")
                                              + "[partner.routing]\npreset = \"customs\"\n", configurationDirectory: "/srv/spool")
            Issue.record("a carrier with routing loaded")
        } catch {
            #expect(error.errors.contains { $0.key == "partner[1].routing" && $0.message.hasPrefix("applies only to agencies") })
        }
    }
}

@Suite("gateway route explain")
struct RouteExplainTests {
    @Test("explains a CUSCAR and an XML manifest against the sample agencies; a manifest that does not map exits 1 naming the segment")
    func explain() throws {
        let scratch = try Scratch()
        let config = CLI.packageRoot.appendingPathComponent("spool/gateway.toml").path
        let fixtures = CLI.packageRoot.appendingPathComponent("Tests/GatewayTests/Fixtures/manifest")
        var run = try scratch.gateway("route", "explain", fixtures.appendingPathComponent("realistic-d96a.edi").path, "--config", config)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.hasPrefix("manifest COSU-CQ-2025-0301 (replace), 3 consignment(s)\n  CUSTOMS  gets  cuscar-d96a"), "\(run)")
        #expect(run.stdout.contains("  MSA  nothing  manifest-xml  — no port of the manifest (CNCKG, CNSHA) is among KEMBA"), "\(run)")
        run = try scratch.gateway("route", "explain", fixtures.appendingPathComponent("sample-manifest.xml").path, "--config", config, "--json")
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("\"billOfLading\": \"MSJYSHA240003\"") && run.stdout.contains("\"reason\": \"HS 030617 on the list\""), "\(run)")
        // The engine's D95B fixture carries a container number whose check digit is wrong.
        run = try scratch.gateway("route", "explain", CLI.fixtures.appendingPathComponent("valid/cuscar-d95b.edi").path, "--config", config)
        #expect(run.status == 1, "\(run)")
        #expect(run.stderr.contains("[manifest.container-check-digit]") && run.stderr.contains("EQD segment"), "\(run)")
    }
}
