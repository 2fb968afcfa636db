#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Lexical path handling for configured directories: resolution against the spool root and
/// normalization, so two spellings of one directory compare equal without touching the disk
/// (directories may not exist yet when the configuration is checked).
enum Paths {
    /// The process's working directory, for resolving a relative `--config`.
    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return "/" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Why `text` is not an acceptable directory setting, or nil when it is: it must be absolute, or
    /// relative and (unless `escapeAllowed`) stay inside the spool root.
    static func problem(with text: String, escapeAllowed: Bool) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.hasPrefix("~") { return "'\(text)': '~' is not expanded; write an absolute path or one relative to the spool root" }
        if text.utf8.contains(0) { return "contains a NUL character" }
        if !escapeAllowed && !text.hasPrefix("/") {
            let inside = normalize("/__spool__/" + text)
            if inside == "/__spool__" { return "'\(text)' is the spool root itself; give a directory inside it" }
            if !inside.hasPrefix("/__spool__/") {
                return "'\(text)' leaves the spool root; write an absolute path to put it elsewhere"
            }
        }
        return nil
    }

    /// `path` made absolute against `base` (itself absolute) and normalized.
    static func resolve(_ path: String, against base: String) -> String {
        normalize(path.hasPrefix("/") ? path : base + "/" + path)
    }

    /// Removes `.`, empty components and `..` (lexically; never above `/`) and any trailing slash.
    static func normalize(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { _ = parts.popLast(); continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The directory containing `path` (absolute, normalized).
    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// `path` relative to `root` when inside it (for short, machine-independent summaries), else as is.
    static func display(_ path: String, relativeTo root: String) -> String {
        if path == root { return "." }
        let prefix = root == "/" ? "/" : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
