import EDIFACT
import Foundation
import Jobs

// Issue 7, the instruction step of a process job: an accepted file from an agency that holds CUSRES messages
// is read into instructions, each kept as a fact (one per object) with the job's commit. It runs after the
// agency's signature gate, so only a file signed under that agency's own CA (when it signs) gets here.
// Refusals (no processing indicator, a bad container number, ...) are application errors: an APERAK to the
// agency naming the segment and byte offset. An instruction about something the library does not hold yet is
// kept all the same (the manifest may arrive later: the merge finds it then) and the APERAK says so.

extension GatewayPipeline {
    /// One instruction read from a file (or why not), with where it is: for the APERAK.
    struct InstructionReading {
        var instruction: AgencyInstruction?
        var errors: [ManifestMappingError]
        var location: String
        var offset: Int?
    }

    /// Reads the CUSRES instructions of an accepted agency file into `decision` (facts, notes, APERAK).
    func readInstructions(_ decision: inout ProcessDecision, context c: Context, path: String, output: inout ProcessOutput) {
        if let size = Self.fileSize(path), size > configuration.maxDocumentBytes {
            // Mapped in memory, as a manifest is: a file over the limit is refused, never read whole.
            let refusal = ManifestMappingError(code: "instruction.too-large", location: "file",
                message: "\(size) bytes is over the \(configuration.maxDocumentBytes) an instruction file is read in memory")
            recordInstructions(&decision, context: c, readings: [InstructionReading(instruction: nil, errors: [refusal], location: "file")],
                               what: "CUSRES message", output: &output)
            return
        }
        guard let bytes = Self.readFile(path) else {
            decision = transient(PipelineErrorCode.rawIO, "cannot read the stored bytes at \(path)", decision.line)
            return
        }
        let readings = CUSRESMapping.map(bytes).map {
            InstructionReading(instruction: $0.instruction, errors: $0.errors, location: "UNH segment \($0.segmentNumber)", offset: $0.byteOffset)
        }
        recordInstructions(&decision, context: c, readings: readings, what: "CUSRES message", output: &output)
    }

    /// Turns what was read into facts to record with the job (one per object), notes for the line and the
    /// operator, and the agency's APERAK; a file of which nothing counts is rejected.
    func recordInstructions(_ decision: inout ProcessDecision, context c: Context, readings: [InstructionReading], what: String,
                            output: inout ProcessOutput) {
        var refusals: [ManifestMappingError] = []
        var notes: [String] = []
        let receivedAt = now()
        c.libraryReady()
        let known = (try? store.known(readings.flatMap { $0.instruction?.objects ?? [] })) ?? []
        for reading in readings {
            refusals += reading.errors
            guard let instruction = reading.instruction else { continue }
            var unknown: [String] = []
            for object in instruction.objects {
                decision.instructions.append(InstructionFact(
                    agency: c.partner.id, reference: instruction.reference, action: instruction.action, object: object,
                    issuedAt: instruction.issuedAt, receivedAt: receivedAt, batchId: c.batch.id, signer: nil,
                    verification: "unsigned", note: instruction.note))
                if !known.contains(object) { unknown.append("\(object.kind.rawValue) \(object.reference)") }
            }
            let objects = instruction.objects.map { "\($0.kind.rawValue) \($0.reference)" }
            notes.append("instruction \(instruction.reference): \(instruction.action.rawValue) "
                         + objects.prefix(3).joined(separator: ", ") + (objects.count > 3 ? " and \(objects.count - 3) more" : ""))
            if !unknown.isEmpty {
                // Kept: the merge applies it once the manifest is filed.
                refusals.append(ManifestMappingError(
                    code: "instruction.unknown-object", location: reading.location, offset: reading.offset,
                    message: "instruction \(instruction.reference): the library holds no " + unknown.joined(separator: ", ")
                        + " yet; the instruction is kept and applies when it is filed"))
            }
        }
        if decision.instructions.isEmpty && refusals.isEmpty {
            refusals.append(ManifestMappingError(code: "instruction.none", location: "file", message: "the file holds no \(what)"))
        }
        if !refusals.isEmpty {
            notes.append("\(refusals.count) instruction error(s): " + refusals.prefix(3).map(\.description).joined(separator: "; ")
                         + (refusals.count > 3 ? "; ..." : ""))
        }
        do {
            if let name = try applicationReceipt(&decision, refusals: refusals, context: c) { output.receipts.append(name) }
        } catch let error as RawStoreError {
            // Not stored (a full disk): the file must still be answered, so the job is retried, not closed.
            decision = transient(PipelineErrorCode.rawIO, "APERAK not stored: \(error)", failedLine(c.line, "APERAK not stored: \(error)"))
            return
        } catch {
            notes.append("no APERAK: \(error)")
        }
        if decision.instructions.isEmpty {
            // Nothing of the file counts: it is rejected by its content.
            let reason = "instruction refused: " + refusals.prefix(3).map(\.description).joined(separator: "; ")
            decision.line.outcome = .rejected
            decision.batchState = (c.batch.id, .rejected, reason)
            output.outcome = IntakeFileOutcome.rejected.rawValue
            output.findings = reason
        }
        decision.line.reason = ([decision.line.reason] + notes).compactMap { $0 }.joined(separator: "; ")
        decision.result = .succeeded(output: JobJSON.encode(output))
    }

    /// Whether an accepted file is an agency's instructions: CUSRES from a partner whose role is agency.
    func holdsInstructions(_ c: Context, reports: [InterchangeReport]) -> Bool {
        c.partner.role == .agency && reports.contains { $0.messageTypes.contains("CUSRES") }
    }
}
