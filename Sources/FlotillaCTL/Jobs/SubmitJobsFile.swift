import FlotillaProto
import FlotillaTransport
import Foundation

/// `flotillactl jobs submit --file jobs.jsonl`: every spec of the file, in
/// `SubmitJobsRequest`s of up to 1,000 (one log sync each), with one line per
/// job: its id, or why it was refused.
struct SubmitJobsFile {
    let path: String
    let json: Bool

    func run(_ connection: ConnectionOptions) async throws {
        let contents: Data
        do {
            contents = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CommandFailure("cannot read \(path): \(error.localizedDescription)")
        }
        let file = try JobsFile(contents: contents, name: path)
        var accepted = 0
        var duplicates = 0
        var refused = 0
        try await ClusterSession.with(connection) { session in
            for batch in file.batches {
                var request = Flotilla_V1_SubmitJobsRequest()
                request.specs = batch.map(\.spec)
                let response = try await session.request(request, expecting: Flotilla_V1_SubmitJobsResponse.self)
                guard response.results.count == batch.count else {
                    throw CommandFailure("the coordinator answered \(response.results.count) results for \(batch.count) specs")
                }
                if json { Console.line(try JSONOutput.line(response)) }
                for (line, result) in zip(batch, response.results) {
                    if result.hasError {
                        refused += 1
                        FileHandle.standardError.write(Data(
                            "flotillactl: \(path):\(line.number): \(FlotillaError(result.error).codeName): \(result.error.message)\n".utf8))
                    } else {
                        if result.duplicate { duplicates += 1 } else { accepted += 1 }
                        if !json { Console.line(result.jobID) }
                    }
                }
            }
        }
        FileHandle.standardError.write(Data(
            "flotillactl: \(accepted) jobs submitted, \(duplicates) already known (same idempotency key), \(refused) refused\n".utf8))
        if refused > 0 { throw CommandFailure("\(refused) of \(file.lines.count) specs were refused") }
    }
}
