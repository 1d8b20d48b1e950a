import FlotillaRandom
import FlotillaWire
import Foundation

/// Steps of a set duration with a set failure rate: what demos, tests and
/// benchmarks run instead of a model. Checkpoints are real files, so resumes,
/// hashing and verification work exactly as for a process job.
public struct SimulatedExecutor: AttemptExecutor {
    public typealias Sleep = @Sendable (Duration) async throws -> Void

    public var stepDuration: Duration
    /// The chance (0…1) that an attempt fails, at a random step, as the model's fault.
    public var failureRate: Double
    /// Makes failures repeatable: the same seed, job and attempt fail the same way.
    public var seed: UInt64?
    let sleep: Sleep

    public init(stepDuration: Duration, failureRate: Double = 0, seed: UInt64? = nil,
                sleep: @escaping Sleep = { try await Task.sleep(for: $0) }) {
        self.stepDuration = stepDuration
        self.failureRate = failureRate
        self.seed = seed
        self.sleep = sleep
    }

    public func start(_ launch: AttemptLaunch) throws -> any AttemptExecution {
        var random = seed.map { SplitMix64(seed: $0 ^ Self.mix(launch.jobID, UInt64(launch.token.attempt))) }
        var system = SystemRandomNumberGenerator()
        func draw(_ range: ClosedRange<UInt64>) -> UInt64 {
            random != nil ? UInt64.random(in: range, using: &random!) : UInt64.random(in: range, using: &system)
        }
        var failureStep: UInt64?
        let roll = Double(draw(0...(1 << 53 - 1))) / Double(1 << 53)
        if roll < failureRate, launch.steps > launch.startStep {
            failureStep = draw((launch.startStep + 1)...launch.steps)
        }
        return SimulatedExecution(launch: launch, stepDuration: stepDuration, failureStep: failureStep, sleep: sleep)
    }

    /// A stable (unlike `Hasher`) mix of the job and attempt, FNV-1a.
    static func mix(_ jobID: String, _ attempt: UInt64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in jobID.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash ^ (attempt &* 0x9e37_79b9_7f4a_7c15)
    }
}

/// One simulated attempt: a task stepping through its steps.
final class SimulatedExecution: AttemptExecution {
    let events: AsyncStream<ExecutionEvent>
    private let continuation: AsyncStream<ExecutionEvent>.Continuation
    private let launch: AttemptLaunch
    /// The step this attempt is bound to fail at, if any.
    let failureStep: UInt64?
    private let request = Locked<StopRequest?>(nil)
    private let runner = Locked<Task<Void, Never>?>(nil)

    enum StopRequest { case cancel, checkpoint }

    init(launch: AttemptLaunch, stepDuration: Duration, failureStep: UInt64?, sleep: @escaping SimulatedExecutor.Sleep) {
        (events, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        self.launch = launch
        self.failureStep = failureStep
        let task = Task { [self] in
            await run(stepDuration: stepDuration, failureStep: failureStep, sleep: sleep)
        }
        runner.withLock { $0 = task }
    }

    func cancel(grace: Duration) {
        // A cancel overrides a pending checkpoint request: the attempt is not wanted.
        request.withLock { $0 = .cancel }
        runner.current?.cancel()
    }

    func checkpointAndStop(grace: Duration) {
        request.withLock { if $0 == nil { $0 = .checkpoint } }
        runner.current?.cancel()
    }

    private func run(stepDuration: Duration, failureStep: UInt64?, sleep: SimulatedExecutor.Sleep) async {
        var step = launch.startStep
        let total = launch.steps
        while step < total {
            if request.current != nil { return stop(at: step) }
            do {
                try await sleep(stepDuration)
            } catch {
                return stop(at: step)
            }
            if request.current != nil { return stop(at: step) }
            step += 1
            if step == failureStep {
                return finish(.failed(exitCode: 1, errorTail: "simulated failure of \(launch.model) at step \(step)", modelFault: true))
            }
            continuation.yield(.progress(step: step, total: total))
            if launch.checkpointEvery > 0, step % launch.checkpointEvery == 0, step < total {
                do {
                    try writeCheckpoint(at: step)
                } catch {
                    return finish(.failed(exitCode: 1, errorTail: "\(error)", modelFault: false))
                }
            }
        }
        finish(.succeeded)
    }

    private func stop(at step: UInt64) {
        switch request.current {
        case .checkpoint?:
            if step > launch.startStep {
                do {
                    try writeCheckpoint(at: step)
                } catch {
                    return finish(.failed(exitCode: 1, errorTail: "\(error)", modelFault: false))
                }
            }
            finish(.stoppedForCheckpoint)
        default:
            finish(.cancelled)
        }
    }

    private func writeCheckpoint(at step: UInt64) throws {
        let path = try SimulatedCheckpoint.write(launch: launch, step: step)
        continuation.yield(.checkpoint(step: step, path: path))
    }

    private func finish(_ outcome: ExecutionOutcome) {
        continuation.yield(.finished(outcome))
        continuation.finish()
    }
}
