import EDIFACT

/// Streams files through the EDIFACT validator; the engine behind `gateway edifact validate`.
public enum EDIFACTFileValidation {
    /// Validates the file at `path` in 64 KiB chunks, calling `onInterchange` as soon as each interchange
    /// is complete (so callers can print and forget it). Returns the segments and bytes read.
    @discardableResult
    public static func validate(
        path: String, options: ValidationOptions, chunkSize: Int = ChunkedFile.defaultChunkSize,
        onInterchange: (InterchangeReport) -> Void
    ) throws(InputFileError) -> (segments: Int, bytes: Int) {
        let validator = EDIFACTValidator(options: options)
        let bytes = try ChunkedFile.forEachChunk(path: path, chunkSize: chunkSize) { chunk in
            validator.feed(chunk)
            for r in validator.takeReports() { onInterchange(r) }
        }
        validator.finish()
        for r in validator.takeReports() { onInterchange(r) }
        return (validator.segmentCount, bytes)
    }

    /// Runs `gateway edifact validate`: findings and one summary line per file (or one JSON document) on
    /// `out`, unreadable files on `err`. Success only when every file is valid.
    public static func run(files: [String], json: Bool, options: ValidationOptions, out: OutputSink, err: OutputSink) -> CommandStatus {
        var status = CommandStatus.success
        var document = ValidationDocument(files: [])
        var options = options
        // Text output needs only counts: keep no report of a clean message, so memory stays flat
        // however many messages one interchange holds.
        if !json { options.keepAcceptedMessages = false }
        for file in files {
            var tally = FileTally()
            var entry = ValidationDocument.File(file: file)
            do throws(InputFileError) {
                let read = try validate(path: file, options: options) { report in
                    let findings = LocatedFinding.all(in: report)
                    tally.add(report, findings: findings.count)
                    if json {
                        entry.interchanges.append(.init(report))
                        entry.findings += findings.map(ValidationDocument.Finding.init)
                    } else {
                        for f in findings { out.line(FindingText.line(file: file, f.diagnostic)) }
                    }
                }
                tally.segments = read.segments
                tally.bytes = read.bytes
                entry.segments = read.segments
                entry.valid = tally.isValid
                if !json { out.line(tally.summary(file: file)) }
                status = max(status, tally.isValid ? .success : .invalid)
            } catch {
                out.flush()
                err.line(error.description)
                entry.error = "cannot \(error.operation): \(error.reason)"
                status = .failure
            }
            out.flush()
            document.files.append(entry)
        }
        if json { out.write(document.encoded()) }
        out.flush()
        return status
    }
}
