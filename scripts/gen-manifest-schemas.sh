#!/bin/sh
# Regenerates Sources/Gateway/Manifest/ManifestSchemas.swift from schemas/*.xsd (run from the package root).
set -e
out=Sources/Gateway/Manifest/ManifestSchemas.swift
{
cat <<'HEAD'
// GENERATED from schemas/*.xsd: do not edit by hand. Each constant below is its file's bytes verbatim
// between the raw-string delimiters (the file's final newline, then an empty line, then the closing
// delimiter). After changing a schema, paste the new file in place of the old text; the test
// "embedded schemas equal the files in schemas/" (XMLManifestTests) fails until they match.
//
// Why embedded: the gateway binary must validate without finding a `schemas/` directory at run time
// (installed binaries, tests, the fuzz harness all run from different places), and a schema read from
// disk at run time could be swapped. The files in schemas/ stay the published, reviewable source.

/// The XML schemas the gateway ships, embedded byte for byte (see `schemas/` at the package root).
public enum ManifestSchema: String, Sendable, Hashable, CaseIterable {
    /// `schemas/manifest-1.xsd`, `urn:swg:manifest:1`: the project's XML manifest, as carriers file it.
    case manifest = "manifest-1.xsd"
    /// `schemas/ciq-manifest-1.xsd`, `urn:swg:ciq:1`: the inspection-and-quarantine copy.
    case ciqManifest = "ciq-manifest-1.xsd"
    /// `schemas/border-1.xsd`, `urn:swg:border:1`: the border-control copy.
    case border = "border-1.xsd"
    /// `schemas/instruction-1.xsd`, `urn:swg:instruction:1`: an agency's instruction (release, inspect, hold).
    case instruction = "instruction-1.xsd"
    /// `schemas/terminal-notice-1.xsd`, `urn:swg:terminal-notice:1`: a release, inspection or hold notice to a terminal.
    case terminalNotice = "terminal-notice-1.xsd"
    /// `schemas/status-1.xsd`, `urn:swg:status:1`: consignments' combined state, to carriers and agencies.
    case status = "status-1.xsd"
    /// `schemas/status-request-1.xsd`, `urn:swg:status-request:1`: a partner's request for a status file.
    case statusRequest = "status-request-1.xsd"

    /// The file name under `schemas/`.
    public var fileName: String { rawValue }

    /// The target namespace.
    public var namespace: String {
        switch self {
        case .manifest: "urn:swg:manifest:1"
        case .ciqManifest: "urn:swg:ciq:1"
        case .border: "urn:swg:border:1"
        case .instruction: "urn:swg:instruction:1"
        case .terminalNotice: "urn:swg:terminal-notice:1"
        case .status: "urn:swg:status:1"
        case .statusRequest: "urn:swg:status-request:1"
        }
    }

    /// The schema text, identical to the file.
    public var text: String {
        switch self {
        case .manifest: manifestSchemaText
        case .ciqManifest: ciqManifestSchemaText
        case .border: borderSchemaText
        case .instruction: instructionSchemaText
        case .terminalNotice: terminalNoticeSchemaText
        case .status: statusSchemaText
        case .statusRequest: statusRequestSchemaText
        }
    }
}
HEAD
for pair in manifest-1:manifestSchemaText ciq-manifest-1:ciqManifestSchemaText border-1:borderSchemaText instruction-1:instructionSchemaText terminal-notice-1:terminalNoticeSchemaText status-1:statusSchemaText status-request-1:statusRequestSchemaText; do
  file=${pair%%:*}; name=${pair##*:}
  printf '\n// schemas/%s.xsd\nprivate let %s = #"""\n' "$file" "$name"
  cat "schemas/$file.xsd"
  printf '\n"""#\n'
done
} > $out
