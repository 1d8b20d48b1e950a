import FlotillaCoordinatorState
import FlotillaProto
import SwiftProtobuf
import Testing
@testable import FlotillaCoordinator

@Suite struct OutgoingDirectivesTests {
    static func stop(_ job: String) -> Flotilla_V1_WorkerDirective {
        Flotilla_V1_WorkerDirective.with { $0.stop = Flotilla_V1_FencingTokenForJob.with { $0.jobID = job } }
    }

    /// The frames a subscription sends for `directives`, as the job ids they stop, frame by frame.
    static func frames(_ directives: [Flotilla_V1_WorkerDirective], batches: Bool) async throws -> [[String]] {
        let (stream, continuation) = AsyncThrowingStream<any SwiftProtobuf.Message, any Error>.makeStream()
        DirectiveStream(id: 1, connectionID: 1, continuation: continuation, acceptsBatches: batches).send(directives)
        continuation.finish()
        var frames: [[String]] = []
        for try await item in stream {
            if let batch = item as? Flotilla_V1_WorkerDirectives {
                frames.append(batch.directives.map(\.stop.jobID))
            } else if let single = item as? Flotilla_V1_WorkerDirective {
                frames.append(["single:" + single.stop.jobID])
            }
        }
        return frames
    }

    @Test func directivesAreGroupedPerWorkerInFirstSeenOrder() {
        var outgoing = OutgoingDirectives()
        outgoing.add(Directive(workerID: WorkerID("w2"), directive: Self.stop("a")))
        outgoing.add(Directive(workerID: WorkerID("w1"), directive: Self.stop("b")))
        outgoing.add(Directive(workerID: WorkerID("w2"), directive: Self.stop("c")))
        let taken = outgoing.take()
        #expect(taken.map(\.0) == [WorkerID("w2"), WorkerID("w1")])
        #expect(taken.map { $0.1.map(\.stop.jobID) } == [["a", "c"], ["b"]])
        #expect(outgoing.take().isEmpty)
    }

    @Test func aBatchingSubscriberGetsOneFrameAndAnOlderOneFrameEach() async throws {
        let three = ["a", "b", "c"].map(Self.stop)
        #expect(try await Self.frames(three, batches: true) == [["a", "b", "c"]])
        #expect(try await Self.frames(three, batches: false) == [["single:a"], ["single:b"], ["single:c"]])
        // One directive is never wrapped.
        #expect(try await Self.frames([Self.stop("a")], batches: true) == [["single:a"]])
    }

    @Test func moreThanTheLimitIsSplitInOrder() async throws {
        let many = (0..<(DirectiveStream.maxBatch + 5)).map { Self.stop("j\($0)") }
        let frames = try await Self.frames(many, batches: true)
        #expect(frames.map(\.count) == [DirectiveStream.maxBatch, 5])
        #expect(frames.flatMap { $0 } == many.map(\.stop.jobID))
        #expect(DirectiveStream.maxBatch == 1_000)
    }
}
