import Foundation

/// The names in a directory, sorted (empty when it does not exist): what end-to-end tests compare.
public func listing(_ directory: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
}
