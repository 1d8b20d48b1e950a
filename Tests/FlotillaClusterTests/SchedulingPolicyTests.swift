import FlotillaProto
import FlotillaTestSupport
import FlotillaTransport
import Foundation
import Testing

extension ProcessClusterTests {
    /// The scheduling policy and circuit breakers with real coordinator and
    /// worker processes: a process executor that keeps failing opens its
    /// model's breaker, and a premium job on a full cluster preempts a free one.
    @Suite struct SchedulingPolicyTests {
        static let stepper = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("cluster-configs/jobs/stepper.sh").path

        static func spec(_ model: String, steps: UInt64, tier: Flotilla_V1_Tier = .standard, params: [String: String] = [:],
                         fallback: Bool = false) -> Flotilla_V1_JobSpec {
            var spec = ClusterHarness.spec(model: model, steps: steps, params: params)
            spec.tier = tier
            spec.maxAttempts = 1
            spec.fallbackAllowed = fallback
            return spec
        }

        func breaker(_ model: String, _ admin: FlotillaConnection) async throws -> Flotilla_V1_BreakerInfo {
            let list = try await admin.request(Flotilla_V1_ListBreakersRequest(), expecting: Flotilla_V1_ListBreakersResponse.self)
            return try #require(list.breakers.first { $0.model == model })
        }

        @Test func aFailingModelOpensItsBreakerThenProbesCloseIt() async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = ["breakers.recovery": "4s", "breakers.fallbacks": "{flaky: steady}"]
                try await cluster.startCoordinator()
                try await cluster.startWorker("w1", gpus: 4, models: """
                    [{name: flaky, executor: process, command: [\(Self.stepper)], default_steps: 3}, \
                    {name: steady, executor: simulated, step_duration: 10ms, default_steps: 3}]
                    """)
                var admin = try await cluster.admin()
                let failing = ["fail_at_step": "1", "step_ms": "10"]
                var failed: [String] = []
                for _ in 0..<5 { failed.append(try await cluster.submit(Self.spec("flaky", steps: 3, params: failing), via: admin).job.id) }
                for id in failed {
                    let job = try await cluster.waitForJob(id, via: admin, "failed") { $0.state == .failed }
                    #expect(job.error.contains("simulated failure at step 1"), "\(job.error)")
                }
                let open = try await breaker("flaky", admin)
                #expect(open.state == .open)
                #expect(open.recentFailures == 5)
                let metrics = try await httpGet(port: cluster.httpPort, path: "/metrics").body
                #expect(metrics.contains(#"flotilla_breaker_state{model="flaky"} 2"#), "\(metrics.prefix(2_000))")

                // The breaker is replicated state: a restarted coordinator still has it.
                await admin.close()
                await cluster.coordinator?.killNow()
                try await cluster.startCoordinator()
                admin = try await cluster.admin()
                let restored = try await breaker("flaky", admin)
                #expect(restored.state != .closed && restored.recentFailures == 5, "\(restored)")

                // Refused fast, with when to try again.
                let started = ContinuousClock.now
                do {
                    _ = try await cluster.submit(Self.spec("flaky", steps: 3), via: admin)
                    Issue.record("a submission for an open model was accepted")
                } catch let error as FlotillaError {
                    #expect(error.code == .breakerOpen, "\(error)")
                    #expect((error.retryAfterMilliseconds ?? 0) > 0)
                }
                let refusal = ContinuousClock.now - started
                #expect(refusal < .milliseconds(250), "refused in \(refusal)")

                // A job that allows fallback runs on the next model of the chain.
                let fallback = try await cluster.submit(Self.spec("flaky", steps: 3, fallback: true), via: admin).job
                let fellBack = try await cluster.waitForJob(fallback.id, via: admin, "succeeded on the fallback") { $0.state == .succeeded }
                #expect(fellBack.fallbackUsed && fellBack.modelUsed == "steady")

                // After the recovery time, three good probes close it.
                let deadline = ContinuousClock.now + .seconds(10)
                while try await breaker("flaky", admin).state != .halfOpen {
                    guard ContinuousClock.now < deadline else { throw ChildProcessError("breaker never went HALF_OPEN") }
                    try await Task.sleep(for: .milliseconds(50))
                }
                var probes: [String] = []
                for _ in 0..<3 {
                    probes.append(try await cluster.submit(Self.spec("flaky", steps: 3, params: ["step_ms": "10"]), via: admin).job.id)
                }
                for id in probes { try await cluster.waitForJob(id, via: admin, "probe succeeded") { $0.state == .succeeded } }
                #expect(try await breaker("flaky", admin).state == .closed)
                let after = try await cluster.submit(Self.spec("flaky", steps: 3, params: ["step_ms": "10"]), via: admin).job
                try await cluster.waitForJob(after.id, via: admin, "succeeded once closed") { $0.state == .succeeded }
            }
        }

        @Test func aPremiumJobPreemptsAFreeJobWhichResumesFromItsCheckpoint() async throws {
            try await ClusterHarness.withCluster { cluster in
                cluster.coordinatorSettings = ["scheduler.preemption.grace": "10s"]
                try await cluster.startCoordinator()
                try await cluster.startWorker("w1", gpus: 1, models: """
                    [{name: stepper, executor: process, command: [\(Self.stepper)], default_steps: 30, checkpoint_every: 2}]
                    """)
                let admin = try await cluster.admin()
                let free = try await cluster.submit(Self.spec("stepper", steps: 30, tier: .free, params: ["step_ms": "100"]),
                                                    via: admin).job
                try await cluster.waitForJob(free.id, via: admin, "checkpointed") { $0.latestCheckpoint.step >= 2 }
                let premium = try await cluster.submit(Self.spec("stepper", steps: 4, tier: .premium, params: ["step_ms": "50"]),
                                                       via: admin).job
                let premiumDone = try await cluster.waitForJob(premium.id, via: admin, "premium succeeded") { $0.state == .succeeded }
                let freeDone = try await cluster.waitForJob(free.id, via: admin, "free succeeded") { $0.state == .succeeded }
                #expect(freeDone.attempts.count == 2, "\(freeDone.attempts)")
                #expect(freeDone.attempts.first?.state == .preempted)
                let resumed = try #require(freeDone.attempts.last?.resumedFromStep)
                #expect(resumed >= 2, "the free job resumed from step \(resumed)")
                // Scaling signals, in the status and as gauges.
                let status = try await admin.request(Flotilla_V1_ClusterStatusRequest(),
                                                     expecting: Flotilla_V1_ClusterStatusResponse.self)
                #expect(status.gpuTypes.map { "\($0.gpuType) \($0.allocated)/\($0.total)" } == ["A100 0/1"])
                #expect(status.modelQueues.contains { $0.model == "stepper" && $0.queued == 0 })
                #expect(status.p99QueueWaitMs > 0, "the free job waited for the premium one")
                // The gauges are sampled once a second: wait for the sample after the jobs ended.
                var metrics = try await httpGet(port: cluster.httpPort, path: "/metrics").body
                let sampled = ContinuousClock.now + .seconds(5)
                while !metrics.contains(#"flotilla_queue_depth{tier="premium"} 0"#), ContinuousClock.now < sampled {
                    try await Task.sleep(for: .milliseconds(100))
                    metrics = try await httpGet(port: cluster.httpPort, path: "/metrics").body
                }
                #expect(metrics.contains(#"flotilla_gpus_total{gpu_type="A100"} 1"#), "\(metrics.prefix(2_000))")
                #expect(metrics.contains(#"flotilla_queue_depth{tier="premium"} 0"#))
                // The premium job ran while the free one waited.
                #expect(premiumDone.attempts.first!.startedUnixMs >= freeDone.attempts.first!.endedUnixMs)
                #expect(freeDone.attempts.last!.startedUnixMs >= premiumDone.attempts.first!.endedUnixMs)
            }
        }
    }
}
