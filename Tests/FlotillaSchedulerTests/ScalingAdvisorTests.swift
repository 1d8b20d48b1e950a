import FlotillaProto
import FlotillaScheduler
import Testing

private let start: UInt64 = 1_800_000_000_000
private let second: UInt64 = 1000
private let minute: UInt64 = 60_000

/// One sample: GPU types with total/allocated GPUs, queued waits per requested
/// type ("any" for jobs that take any type) and the p99 per type.
private func sample(_ usage: [(String, Int, Int)], waits: [String: [UInt64]] = [:],
                    p99: [String: UInt64] = [:]) -> ScalingSignals {
    ScalingSignals(
        gpuTypes: usage.map { ScalingSignals.GPUUsage(gpuType: $0.0, total: $0.1, allocated: $0.2) },
        demand: waits.keys.sorted().map { type in
            let waits = waits[type] ?? []
            return ScalingSignals.Demand(gpuType: type, queued: waits.count, gpusRequested: waits.count,
                                         oldestWaitMs: waits.max() ?? 0, waitsMs: waits)
        },
        p99QueueWaitMs: p99.values.max() ?? 0,
        p99QueueWaitMsByGPUType: p99)
}

private func h100(allocated: Int, of total: Int = 100, waits: [UInt64] = [], anyWaits: [UInt64] = [],
                  p99: UInt64? = nil) -> ScalingSignals {
    var queued: [String: [UInt64]] = [:]
    if !waits.isEmpty { queued["H100"] = waits }
    if !anyWaits.isEmpty { queued["any"] = anyWaits }
    return sample([("H100", total, allocated)], waits: queued, p99: p99.map { ["H100": $0] } ?? [:])
}

/// Observes `signals` every `every` ms from `from` to `through`, both included.
private func feed(_ advisor: inout ScalingAdvisor, _ signals: ScalingSignals, from: UInt64, through: UInt64,
                  every: UInt64 = second) {
    var at = from
    while at <= through {
        advisor.observe(signals, at: at)
        at += every
    }
}

private func changes(_ advisor: ScalingAdvisor, at now: UInt64) -> [String: Int32] {
    Dictionary(uniqueKeysWithValues: advisor.recommendations(at: now).map { ($0.gpuType, $0.changePercent) })
}

@Suite struct ScalingAdvisorTests {
    @Test func defaultsAreTheDesignTable() {
        let policy = ScalingPolicy()
        #expect(policy.queueDepthHigh == .init(jobs: 100, waitingLongerThanMs: 5 * minute, changePercent: 10,
                                               cooldownMs: 5 * minute))
        #expect(policy.queueDepthCritical == .init(jobs: 500, waitingLongerThanMs: 10 * minute, changePercent: 25,
                                                   cooldownMs: 2 * minute))
        #expect(policy.utilizationHigh == .init(percent: 85, forMs: 10 * minute, changePercent: 10, cooldownMs: 5 * minute))
        #expect(policy.utilizationLow == .init(percent: 40, forMs: 30 * minute, changePercent: -10, cooldownMs: 15 * minute))
        #expect(policy.p99Latency == .init(sloMs: minute, sloMultiple: 2, forMs: 5 * minute, changePercent: 20,
                                           cooldownMs: 3 * minute))
        #expect(policy.p99Latency.breachAboveMs == 2 * minute)
    }

    // MARK: GPU utilisation high

    @Test func utilizationHighFiresAfterExactlyTenMinutes() {
        var advisor = ScalingAdvisor()
        feed(&advisor, h100(allocated: 86), from: start, through: start + 10 * minute - second)
        #expect(advisor.recommendations(at: start + 10 * minute - second).isEmpty)
        advisor.observe(h100(allocated: 86), at: start + 10 * minute)
        let recommendations = advisor.recommendations(at: start + 10 * minute)
        #expect(recommendations.count == 1)
        #expect(recommendations.first?.gpuType == "H100")
        #expect(recommendations.first?.changePercent == 10)
        #expect(recommendations.first?.reason == "GPU utilisation > 85 % for 10 min (now 86 %, 86/100 GPUs): +10 %")
    }

    @Test func utilizationAtExactlyEightyFivePercentNeverFires() {
        var advisor = ScalingAdvisor()
        feed(&advisor, h100(allocated: 85), from: start, through: start + 30 * minute, every: 10 * second)
        #expect(advisor.recommendations(at: start + 30 * minute).isEmpty)
    }

    @Test func oneSampleBelowTheThresholdStartsTheTenMinutesAgain() {
        var advisor = ScalingAdvisor()
        feed(&advisor, h100(allocated: 90), from: start, through: start + 5 * minute)
        advisor.observe(h100(allocated: 80), at: start + 5 * minute + second)
        let again = start + 5 * minute + 2 * second
        feed(&advisor, h100(allocated: 90), from: again, through: again + 10 * minute - second)
        #expect(advisor.recommendations(at: again + 10 * minute - second).isEmpty)
        advisor.observe(h100(allocated: 90), at: again + 10 * minute)
        #expect(changes(advisor, at: again + 10 * minute) == ["H100": 10])
    }

    @Test func samplesTooFarApartDoNotCoverTheSpan() {
        var advisor = ScalingAdvisor()
        // Every 61 s: no two samples are close enough to cover the time between them.
        feed(&advisor, h100(allocated: 95), from: start, through: start + 20 * minute, every: 61 * second)
        #expect(advisor.recommendations(at: advisor.lastObservedAt!).isEmpty)
        // Every 60 s does.
        var steady = ScalingAdvisor()
        feed(&steady, h100(allocated: 95), from: start, through: start + 10 * minute, every: 60 * second)
        #expect(changes(steady, at: start + 10 * minute) == ["H100": 10])
        // An advisor not fed for more than a minute recommends nothing.
        #expect(changes(steady, at: start + 11 * minute) == ["H100": 10])
        #expect(steady.recommendations(at: start + 11 * minute + 1).isEmpty)
    }

    @Test func aTypeWithNoGPUsHasNoUtilization() {
        var advisor = ScalingAdvisor()
        feed(&advisor, sample([("L4", 0, 0)]), from: start, through: start + 40 * minute, every: 10 * second)
        #expect(advisor.recommendations(at: start + 40 * minute).isEmpty)
    }

    // MARK: Queue depth

    @Test func queueDepthHighFiresAboveOneHundredJobsWaitingOverFiveMinutes() {
        let long = 5 * minute + 1
        var advisor = ScalingAdvisor()
        advisor.observe(h100(allocated: 50, waits: Array(repeating: long, count: 100)), at: start)
        #expect(advisor.recommendations(at: start).isEmpty)
        advisor.observe(h100(allocated: 50, waits: Array(repeating: 5 * minute, count: 101)), at: start + second)
        #expect(advisor.recommendations(at: start + second).isEmpty)
        advisor.observe(h100(allocated: 50, waits: Array(repeating: long, count: 101) + [1, 2, 3]), at: start + 2 * second)
        let recommendations = advisor.recommendations(at: start + 2 * second)
        #expect(recommendations.map(\.changePercent) == [10])
        #expect(recommendations.first?.reason == "queue > 100 jobs waiting > 5 min (101 waiting): +10 %")
    }

    @Test func jobsForAnyTypeCountTowardEveryType() {
        let long = 6 * minute
        let signals = sample([("H100", 10, 5), ("A100", 10, 5)],
                             waits: ["H100": Array(repeating: long, count: 60), "any": Array(repeating: long, count: 41)])
        var advisor = ScalingAdvisor()
        advisor.observe(signals, at: start)
        // H100: 60 + 41 > 100; A100: 41.
        #expect(changes(advisor, at: start) == ["H100": 10])
        let both = sample([("H100", 10, 5), ("a100", 10, 5)],
                          waits: ["H100": Array(repeating: long, count: 60), "any": Array(repeating: long, count: 101)])
        advisor.observe(both, at: start + second)
        #expect(changes(advisor, at: start + second) == ["H100": 10, "a100": 10])
        #expect(advisor.recommendations(at: start + second).map(\.gpuType) == ["H100", "a100"])
    }

    @Test func queueForATypeWithNoWorkersIsRecommendedForIt() {
        let signals = sample([("H100", 8, 8), ("B200", 0, 0)], waits: ["B200": Array(repeating: 11 * minute, count: 501)])
        var advisor = ScalingAdvisor()
        advisor.observe(signals, at: start)
        #expect(changes(advisor, at: start) == ["B200": 25])
    }

    @Test func criticalBeatsHighAndAnswersBoth() {
        let waits = Array(repeating: 10 * minute + 1, count: 501)
        var advisor = ScalingAdvisor()
        advisor.observe(h100(allocated: 100, waits: waits), at: start)
        let made = advisor.evaluate(at: start)
        #expect(made.map(\.rule) == [.queueDepthCritical])
        #expect(made.first?.changePercent == 25)
        #expect(made.first?.answers == [.queueDepthCritical, .queueDepthHigh])
        #expect(made.first?.reason == "queue > 500 jobs waiting > 10 min (501 waiting): +25 %")
        // 500 jobs: only the high rule.
        advisor.observe(h100(allocated: 100, waits: Array(waits.dropFirst())), at: start + second)
        #expect(advisor.evaluate(at: start + second).map(\.rule) == [.queueDepthHigh])
    }

    // MARK: Cooldowns

    @Test func cooldownSuppressesTheSameRuleUntilItEnds() {
        let deep = h100(allocated: 50, waits: Array(repeating: 6 * minute, count: 150))
        var advisor = ScalingAdvisor()
        advisor.observe(deep, at: start)
        #expect(advisor.advise(at: start).map(\.changePercent) == [10])
        #expect(advisor.cooldownEnds(.queueDepthHigh, gpuType: "h100", at: start) == start + 5 * minute)
        feed(&advisor, deep, from: start + second, through: start + 5 * minute - second)
        #expect(advisor.advise(at: start + 5 * minute - second).isEmpty)
        advisor.observe(deep, at: start + 5 * minute)
        #expect(advisor.advise(at: start + 5 * minute).map(\.changePercent) == [10])
    }

    @Test func recommendationsWithoutAcknowledgingDoNotStartACooldown() {
        let deep = h100(allocated: 50, waits: Array(repeating: 6 * minute, count: 150))
        var advisor = ScalingAdvisor()
        advisor.observe(deep, at: start)
        #expect(advisor.recommendations(at: start).count == 1)
        advisor.observe(deep, at: start + second)
        #expect(advisor.recommendations(at: start + second).count == 1)
        advisor.acknowledge(advisor.evaluate(at: start + second), at: start + second)
        #expect(advisor.recommendations(at: start + second).isEmpty)
    }

    @Test func criticalRepeatsAfterTwoMinutesWhileTheHighRuleItAnsweredCoolsForFive() {
        let critical = h100(allocated: 100, waits: Array(repeating: 11 * minute, count: 600))
        var advisor = ScalingAdvisor()
        advisor.observe(critical, at: start)
        #expect(advisor.advise(at: start).map(\.changePercent) == [25])
        // The high rule fires too, but the +25 % answered it: nothing a second later.
        advisor.observe(critical, at: start + second)
        #expect(advisor.advise(at: start + second).isEmpty)
        feed(&advisor, critical, from: start + 2 * second, through: start + 2 * minute)
        #expect(advisor.advise(at: start + 2 * minute).map(\.changePercent) == [25])
        // The queue shrinks below critical: the high rule waits for its own cooldown (from `start`).
        let deep = h100(allocated: 100, waits: Array(repeating: 11 * minute, count: 200))
        feed(&advisor, deep, from: start + 2 * minute + second, through: start + 5 * minute - second)
        #expect(advisor.advise(at: start + 5 * minute - second).isEmpty)
        advisor.observe(deep, at: start + 5 * minute)
        #expect(advisor.advise(at: start + 5 * minute).map(\.changePercent) == [10])
    }

    @Test func cooldownsArePerGPUType() {
        let long = Array(repeating: 6 * minute, count: 101)
        var advisor = ScalingAdvisor()
        advisor.observe(sample([("H100", 8, 8), ("A100", 8, 8)], waits: ["H100": long]), at: start)
        #expect(advisor.advise(at: start).map(\.gpuType) == ["H100"])
        advisor.observe(sample([("H100", 8, 8), ("A100", 8, 8)], waits: ["H100": long, "A100": long]), at: start + second)
        #expect(advisor.advise(at: start + second).map(\.gpuType) == ["A100"])
    }

    // MARK: P99 latency

    @Test func p99BreachFiresAfterFiveMinutesAboveTwiceTheSLO() {
        var advisor = ScalingAdvisor()
        feed(&advisor, h100(allocated: 50, p99: 2 * minute), from: start, through: start + 20 * minute, every: 10 * second)
        #expect(advisor.recommendations(at: start + 20 * minute).isEmpty)

        let breach = h100(allocated: 50, p99: 2 * minute + 1)
        feed(&advisor, breach, from: start + 21 * minute, through: start + 26 * minute - second)
        #expect(advisor.recommendations(at: start + 26 * minute - second).isEmpty)
        advisor.observe(breach, at: start + 26 * minute)
        let made = advisor.evaluate(at: start + 26 * minute)
        #expect(made.map(\.changePercent) == [20])
        #expect(made.first?.reason == "p99 queue wait > 2x SLO 1 min for 5 min (now 2 min): +20 %")
    }

    @Test func p99SLOIsConfigurable() {
        var policy = ScalingPolicy()
        policy.p99Latency.sloMs = 30 * second
        var advisor = ScalingAdvisor(policy: policy)
        feed(&advisor, h100(allocated: 50, p99: 61 * second), from: start, through: start + 5 * minute)
        #expect(changes(advisor, at: start + 5 * minute) == ["H100": 20])
        #expect(advisor.recommendations(at: start + 5 * minute).first?.reason
            == "p99 queue wait > 2x SLO 30 s for 5 min (now 1 min 1 s): +20 %")
    }

    @Test func strongestRuleWins() {
        // High utilisation and a p99 breach, both sustained: +20 % beats +10 %.
        var advisor = ScalingAdvisor()
        let busy = h100(allocated: 95, p99: 3 * minute)
        feed(&advisor, busy, from: start, through: start + 10 * minute)
        let made = advisor.evaluate(at: start + 10 * minute)
        #expect(made.map(\.rule) == [.p99LatencyBreach])
        #expect(made.first?.answers == [.p99LatencyBreach, .gpuUtilizationHigh])
        // And a critical queue beats both.
        let worse = h100(allocated: 95, waits: Array(repeating: 11 * minute, count: 501), p99: 3 * minute)
        advisor.observe(worse, at: start + 10 * minute + second)
        #expect(advisor.evaluate(at: start + 10 * minute + second).map(\.changePercent) == [25])
    }

    @Test func aRuleThatDidNotFireWithTheWinnerKeepsItsOwnCooldown() {
        // Utilisation high from `start`; the p99 breaches from start + 4 min.
        var advisor = ScalingAdvisor()
        feed(&advisor, h100(allocated: 95), from: start, through: start + 4 * minute - second)
        let both = h100(allocated: 95, p99: 3 * minute)
        feed(&advisor, both, from: start + 4 * minute, through: start + 9 * minute)
        // At 9 min the p99 rule has held for 5 min; utilisation for only 9.
        let first = advisor.advise(at: start + 9 * minute)
        #expect(first.map(\.rule) == [.p99LatencyBreach])
        #expect(first.first?.answers == [.p99LatencyBreach])
        // At 10 min utilisation fires; the p99 rule cools until 12 min.
        feed(&advisor, both, from: start + 9 * minute + second, through: start + 10 * minute)
        #expect(advisor.advise(at: start + 10 * minute).map(\.rule) == [.gpuUtilizationHigh])
        feed(&advisor, both, from: start + 10 * minute + second, through: start + 12 * minute)
        #expect(advisor.advise(at: start + 12 * minute).map(\.rule) == [.p99LatencyBreach])
    }

    // MARK: GPU utilisation low

    @Test func utilizationLowRemovesTenPercentAfterThirtyMinutes() {
        var advisor = ScalingAdvisor()
        let idle = h100(allocated: 39)
        feed(&advisor, idle, from: start, through: start + 30 * minute - second)
        #expect(advisor.recommendations(at: start + 30 * minute - second).isEmpty)
        advisor.observe(idle, at: start + 30 * minute)
        let made = advisor.advise(at: start + 30 * minute)
        #expect(made.map(\.changePercent) == [-10])
        #expect(made.first?.reason
            == "GPU utilisation < 40 % with nothing queued for 30 min (now 39 %, 39/100 GPUs): -10 %")
        // Cooldown: 15 minutes.
        feed(&advisor, idle, from: start + 30 * minute + second, through: start + 45 * minute - second, every: 10 * second)
        advisor.observe(idle, at: start + 45 * minute - second)
        #expect(advisor.advise(at: start + 45 * minute - second).isEmpty)
        advisor.observe(idle, at: start + 45 * minute)
        #expect(advisor.advise(at: start + 45 * minute).map(\.changePercent) == [-10])
    }

    @Test func utilizationAtFortyPercentOrWithJobsQueuedIsNotLow() {
        var advisor = ScalingAdvisor()
        feed(&advisor, h100(allocated: 40), from: start, through: start + 40 * minute, every: 10 * second)
        #expect(advisor.recommendations(at: start + 40 * minute).isEmpty)
        var waiting = ScalingAdvisor()
        feed(&waiting, h100(allocated: 10, anyWaits: [1]), from: start, through: start + 40 * minute, every: 10 * second)
        #expect(waiting.recommendations(at: start + 40 * minute).isEmpty)
    }

    @Test func noScaleDownWhileAScaleUpRuleFiresEvenCoolingDown() {
        var advisor = ScalingAdvisor()
        // Idle GPUs, but the p99 of recent starts breaches the SLO (jobs stuck elsewhere).
        let odd = h100(allocated: 10, p99: 3 * minute)
        feed(&advisor, odd, from: start, through: start + 30 * minute)
        #expect(advisor.advise(at: start + 30 * minute).map(\.changePercent) == [20])
        advisor.observe(odd, at: start + 30 * minute + second)
        #expect(advisor.advise(at: start + 30 * minute + second).isEmpty)
    }

    // MARK: Time

    @Test func aClockSteppingBackStartsAfresh() {
        var advisor = ScalingAdvisor()
        let deep = h100(allocated: 50, waits: Array(repeating: 6 * minute, count: 150))
        advisor.observe(deep, at: start)
        #expect(advisor.advise(at: start).count == 1)
        advisor.observe(deep, at: start - minute)
        #expect(advisor.advise(at: start - minute).count == 1)
    }

    @Test func nothingBeforeTheFirstSample() {
        let advisor = ScalingAdvisor()
        #expect(advisor.recommendations(at: start).isEmpty)
        #expect(advisor.lastObservedAt == nil)
    }

    @Test func protoCarriesTypeChangeAndReason() {
        var advisor = ScalingAdvisor()
        advisor.observe(h100(allocated: 50, waits: Array(repeating: 6 * minute, count: 101)), at: start)
        let proto = advisor.recommendations(at: start)
        var expected = Flotilla_V1_CapacityRecommendation()
        expected.gpuType = "H100"
        expected.changePercent = 10
        expected.reason = "queue > 100 jobs waiting > 5 min (101 waiting): +10 %"
        #expect(proto == [expected])
    }
}
