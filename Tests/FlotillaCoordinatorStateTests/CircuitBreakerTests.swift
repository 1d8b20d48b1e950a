import FlotillaCoordinatorState
import FlotillaProto
import Testing

/// Every time is an injected unix-ms value; nothing sleeps.
@Suite struct CircuitBreakerTests {
    let policy = BreakerPolicy(fallbacks: ["mochi-1": "open-sora", "veo-3": "mochi-1", "open-sora": "x"])
    let t0: UInt64 = 1_700_000_000_000

    /// A breaker opened at `at` by five failures in the second before it.
    func opened(at: UInt64) -> CircuitBreaker {
        var breaker = CircuitBreaker(model: "mochi-1")
        for back in stride(from: UInt64(4_000), through: 0, by: -1_000) {
            breaker.recordFailure(at: at - back, policy: policy)
        }
        return breaker
    }

    /// An opened breaker moved into HALF_OPEN with `probes` probes admitted.
    func halfOpen(at: UInt64, probes: Int) -> CircuitBreaker {
        var breaker = opened(at: at - 30_000)
        for _ in 0..<probes {
            let admitted = breaker.admitProbe(at: at, policy: policy)
            #expect(admitted)
        }
        return breaker
    }

    @Test func fourFailuresWithinTheWindowStayClosedAndTheFifthOpens() {
        var breaker = CircuitBreaker(model: "mochi-1")
        for i in 0..<4 { breaker.recordFailure(at: t0 + UInt64(i) * 15_000, policy: policy) }
        #expect(breaker.phase(at: t0 + 45_000, policy: policy) == .closed)
        #expect(breaker.admission(at: t0 + 45_000, policy: policy) == .allowed)
        #expect(breaker.recentFailures(at: t0 + 45_000, policy: policy) == 4)

        breaker.recordFailure(at: t0 + 59_999, policy: policy)
        #expect(breaker.phase(at: t0 + 59_999, policy: policy) == .open)
        #expect(breaker.record.openedUnixMs == t0 + 59_999)
        #expect(breaker.admission(at: t0 + 59_999, policy: policy) == .refused(retryAfterMs: 30_000))
    }

    @Test func failuresSpreadOverMoreThanTheWindowDoNotOpen() {
        var breaker = CircuitBreaker(model: "mochi-1")
        for i in 0..<10 { breaker.recordFailure(at: t0 + UInt64(i) * 16_000, policy: policy) }
        #expect(breaker.phase(at: t0 + 144_000, policy: policy) == .closed)
        #expect(breaker.recentFailures(at: t0 + 144_000, policy: policy) == 4)
        #expect(breaker.record.failuresUnixMs == [t0 + 96_000, t0 + 112_000, t0 + 128_000, t0 + 144_000])

        // A failure exactly one window old no longer counts.
        var edge = CircuitBreaker(model: "mochi-1")
        for at in [t0, t0 + 10, t0 + 20, t0 + 30, t0 + 60_000] { edge.recordFailure(at: at, policy: policy) }
        #expect(edge.phase(at: t0 + 60_000, policy: policy) == .closed)
        edge.recordFailure(at: t0 + 60_005, policy: policy)
        #expect(edge.phase(at: t0 + 60_005, policy: policy) == .open)
    }

    @Test func openTurnsHalfOpenAfterTheRecoveryTimeWithoutACommand() {
        let breaker = opened(at: t0)
        #expect(breaker.phase(at: t0 + 29_999, policy: policy) == .open)
        #expect(breaker.admission(at: t0 + 29_999, policy: policy) == .refused(retryAfterMs: 1))
        #expect(breaker.msUntilNextTransition(at: t0 + 29_999, policy: policy) == 1)
        #expect(breaker.msUntilNextTransition(at: t0 + 10_000, policy: policy) == 20_000)
        #expect(breaker.phase(at: t0 + 30_000, policy: policy) == .halfOpen)
        #expect(breaker.admission(at: t0 + 30_000, policy: policy) == .probe)
        #expect(breaker.msUntilNextTransition(at: t0 + 30_000, policy: policy) == 0)
        // Reading changed nothing: the record still says OPEN.
        #expect(breaker.record.state == .open)
        var early = breaker
        let admitted = early.admitProbe(at: t0 + 29_999, policy: policy)
        #expect(!admitted)
        #expect(early == breaker)
    }

    @Test func aFailureWhileOpenIsRecordedButDoesNotExtendTheOpenPeriod() {
        var breaker = opened(at: t0)
        breaker.recordFailure(at: t0 + 10_000, policy: policy)
        #expect(breaker.recentFailures(at: t0 + 10_000, policy: policy) == 6)
        #expect(breaker.record.openedUnixMs == t0)
        #expect(breaker.phase(at: t0 + 30_000, policy: policy) == .halfOpen)
    }

    @Test func halfOpenAdmitsExactlyThreeProbesAndAReleasedSlotOpensAgain() {
        var breaker = opened(at: t0)
        let now = t0 + 30_000
        for _ in 0..<3 {
            let admitted = breaker.admitProbe(at: now, policy: policy)
            #expect(admitted)
        }
        #expect(breaker.record.state == .halfOpen)
        #expect(breaker.probesAdmitted == 3)
        #expect(breaker.admission(at: now, policy: policy) == .refused(retryAfterMs: CircuitBreaker.probesBusyRetryAfterMs))
        let fourth = breaker.admitProbe(at: now + 1, policy: policy)
        #expect(!fourth)
        #expect(breaker.probesAdmitted == 3)

        breaker.releaseProbe()
        #expect(breaker.probesAdmitted == 2)
        #expect(breaker.admission(at: now + 2, policy: policy) == .probe)
        let again = breaker.admitProbe(at: now + 2, policy: policy)
        #expect(again)
        let beyond = breaker.admitProbe(at: now + 3, policy: policy)
        #expect(!beyond)
    }

    @Test func releasingWithNoProbeInFlightChangesNothing() {
        var breaker = halfOpen(at: t0, probes: 1)
        breaker.recordSuccess(at: t0 + 1, probe: true, policy: policy)
        let before = breaker
        breaker.releaseProbe()
        #expect(breaker == before)
        var closed = CircuitBreaker(model: "m")
        closed.releaseProbe()
        #expect(closed == CircuitBreaker(model: "m"))
    }

    @Test func closedAdmitsWithoutCountingProbes() {
        var breaker = CircuitBreaker(model: "m")
        let admitted = breaker.admitProbe(at: t0, policy: policy)
        #expect(admitted)
        #expect(breaker.probesAdmitted == 0)
        breaker.recordSuccess(at: t0, probe: true, policy: policy)
        #expect(breaker == CircuitBreaker(model: "m"))
    }

    @Test func threeProbeSuccessesCloseAndClearTheFailures() {
        var breaker = halfOpen(at: t0, probes: 3)
        breaker.recordSuccess(at: t0 + 1_000, probe: true, policy: policy)
        breaker.recordSuccess(at: t0 + 2_000, probe: true, policy: policy)
        #expect(breaker.phase(at: t0 + 2_000, policy: policy) == .halfOpen)
        #expect(breaker.probesSucceeded == 2)
        breaker.recordSuccess(at: t0 + 3_000, probe: true, policy: policy)
        #expect(breaker.phase(at: t0 + 3_000, policy: policy) == .closed)
        #expect(breaker.recentFailures(at: t0 + 3_000, policy: policy) == 0)
        #expect(breaker.probesAdmitted == 0 && breaker.probesSucceeded == 0)

        for i in 1...4 { breaker.recordFailure(at: t0 + 3_000 + UInt64(i), policy: policy) }
        #expect(breaker.phase(at: t0 + 3_010, policy: policy) == .closed)
        breaker.recordFailure(at: t0 + 3_010, policy: policy)
        #expect(breaker.phase(at: t0 + 3_010, policy: policy) == .open)
    }

    @Test func aFailureInHalfOpenReopensWithANewOpenedAt() {
        var breaker = halfOpen(at: t0, probes: 3)
        breaker.recordSuccess(at: t0 + 1_000, probe: true, policy: policy)
        breaker.recordSuccess(at: t0 + 2_000, probe: true, policy: policy)
        let reopened = t0 + 5_000
        breaker.recordFailure(at: reopened, policy: policy)
        #expect(breaker.phase(at: reopened, policy: policy) == .open)
        #expect(breaker.record.openedUnixMs == reopened)
        #expect(breaker.probesAdmitted == 0 && breaker.probesSucceeded == 0)
        #expect(breaker.phase(at: reopened + 29_999, policy: policy) == .open)
        #expect(breaker.admission(at: reopened + 29_999, policy: policy) == .refused(retryAfterMs: 1))
        #expect(breaker.phase(at: reopened + 30_000, policy: policy) == .halfOpen)
    }

    @Test func aFailureInADueOpenBreakerReopensIt() {
        var breaker = opened(at: t0)
        breaker.recordFailure(at: t0 + 40_000, policy: policy)
        #expect(breaker.phase(at: t0 + 40_000, policy: policy) == .open)
        #expect(breaker.record.openedUnixMs == t0 + 40_000)
        #expect(breaker.msUntilNextTransition(at: t0 + 40_000, policy: policy) == 30_000)
    }

    @Test func successesThatAreNotProbesDoNotCountInHalfOpen() {
        var breaker = halfOpen(at: t0, probes: 3)
        for i in 1...5 { breaker.recordSuccess(at: t0 + UInt64(i), probe: false, policy: policy) }
        #expect(breaker.phase(at: t0 + 10, policy: policy) == .halfOpen)
        #expect(breaker.probesSucceeded == 0)

        // A probe success with no probe admitted (a due OPEN) counts neither.
        var due = opened(at: t0)
        let before = due
        due.recordSuccess(at: t0 + 30_000, probe: true, policy: policy)
        #expect(due == before)
    }

    @Test func operatorResetAndTrip() {
        var breaker = CircuitBreaker(model: "veo-3")
        breaker.recordFailure(at: t0, policy: policy)
        breaker.trip(at: t0 + 1_000)
        #expect(breaker.phase(at: t0 + 1_000, policy: policy) == .open)
        #expect(breaker.record.openedUnixMs == t0 + 1_000)
        #expect(breaker.msUntilNextTransition(at: t0 + 1_000, policy: policy) == 30_000)
        #expect(breaker.recentFailures(at: t0 + 1_000, policy: policy) == 1)

        // Tripping a HALF_OPEN breaker clears its probes and restarts the clock.
        var half = halfOpen(at: t0, probes: 2)
        half.trip(at: t0 + 500)
        #expect(half.probesAdmitted == 0)
        #expect(half.phase(at: t0 + 30_499, policy: policy) == .open)

        breaker.reset()
        #expect(breaker == CircuitBreaker(model: "veo-3"))
        #expect(breaker.phase(at: t0 + 1_000, policy: policy) == .closed)
        #expect(breaker.recentFailures(at: t0 + 1_000, policy: policy) == 0)
        #expect(breaker.msUntilNextTransition(at: t0 + 1_000, policy: policy) == 0)
    }

    @Test func recentFailuresAgeOutOfTheWindow() {
        var breaker = CircuitBreaker(model: "m")
        breaker.recordFailure(at: t0, policy: policy)
        breaker.recordFailure(at: t0 + 30_000, policy: policy)
        #expect(breaker.recentFailures(at: t0 + 30_000, policy: policy) == 2)
        #expect(breaker.recentFailures(at: t0 + 59_999, policy: policy) == 2)
        #expect(breaker.recentFailures(at: t0 + 60_000, policy: policy) == 1)
        #expect(breaker.recentFailures(at: t0 + 90_000, policy: policy) == 0)
    }

    @Test func infoDescribesTheBreakerForListings() {
        var breaker = halfOpen(at: t0, probes: 2)
        breaker.recordSuccess(at: t0 + 100, probe: true, policy: policy)
        let info = breaker.info(at: t0 + 200, policy: policy)
        #expect(info.model == "mochi-1")
        #expect(info.state == .halfOpen)
        #expect(info.recentFailures == 5)
        #expect(info.nextTransitionMs == 0)
        #expect(info.probesInFlight == 1)
        #expect(info.probesSucceeded == 1)
        #expect(info.probesAllowed == 3)
        #expect(info.fallbackChain == ["open-sora", "x"])

        let open = opened(at: t0).info(at: t0 + 12_000, policy: policy)
        #expect(open.state == .open && open.nextTransitionMs == 18_000 && open.probesInFlight == 0)
        #expect(CircuitBreaker(model: "veo-3").info(at: t0, policy: policy).fallbackChain == ["mochi-1", "open-sora", "x"])
        #expect(CircuitBreaker(model: "veo-3").info(at: t0, policy: policy).state == .closed)
    }

    @Test func fallbackChainsFollowTheMapAndStopOnACycle() {
        #expect(policy.fallbackChain(for: "mochi-1") == ["open-sora", "x"])
        #expect(policy.fallbackChain(for: "x") == [])
        #expect(policy.fallbackChain(for: "unknown") == [])
        let cyclic = BreakerPolicy(fallbacks: ["a": "b", "b": "c", "c": "a", "self": "self", "d": "b", "e": ""])
        #expect(cyclic.fallbackChain(for: "a") == ["b", "c"])
        #expect(cyclic.fallbackChain(for: "d") == ["b", "c", "a"])
        #expect(cyclic.fallbackChain(for: "self") == [])
        #expect(cyclic.fallbackChain(for: "e") == [])
    }

    @Test func policyProtoRoundTripsAndZeroFieldsMeanTheDefaults() {
        #expect(BreakerPolicy(Flotilla_V1_BreakerPolicy()) == BreakerPolicy())
        let defaults = BreakerPolicy()
        #expect(defaults.failureThreshold == 5 && defaults.windowMs == 60_000)
        #expect(defaults.recoveryMs == 30_000 && defaults.halfOpenProbes == 3 && defaults.fallbacks.isEmpty)

        let custom = BreakerPolicy(failureThreshold: 2, windowMs: 10_000, recoveryMs: 5_000, halfOpenProbes: 1,
                                   fallbacks: ["mochi-1": "open-sora"])
        #expect(custom.proto.failureThreshold == 2 && custom.proto.halfOpenProbes == 1)
        #expect(BreakerPolicy(custom.proto) == custom)
        #expect(BreakerPolicy(policy.proto) == policy)

        var partial = Flotilla_V1_BreakerPolicy()
        partial.recoveryMs = 7_000
        #expect(BreakerPolicy(partial) == BreakerPolicy(recoveryMs: 7_000))
    }

    @Test func recordRoundTripsExactly() {
        var probing = halfOpen(at: t0, probes: 3)
        probing.recordSuccess(at: t0 + 1, probe: true, policy: policy)
        var reopened = probing
        reopened.recordFailure(at: t0 + 2, policy: policy)
        var tripped = CircuitBreaker(model: "veo-3")
        tripped.trip(at: t0)
        for breaker in [CircuitBreaker(model: "m"), opened(at: t0), probing, reopened, tripped] {
            #expect(CircuitBreaker(breaker.record) == breaker)
            #expect(CircuitBreaker(breaker.record).record == breaker.record)
        }
        let record = probing.record
        #expect(record.model == "mochi-1" && record.state == .halfOpen)
        #expect(record.openedUnixMs == t0 - 30_000)
        #expect(record.probesAdmitted == 3 && record.probesSucceeded == 1)
        #expect(record.failuresUnixMs.count == 5)
        // An unset state reads as CLOSED.
        var bare = Flotilla_V1_BreakerRecord()
        bare.model = "m"
        #expect(CircuitBreaker(bare) == CircuitBreaker(model: "m"))
    }

    @Test func absurdInputsNeverTrap() {
        let odd = BreakerPolicy(failureThreshold: -3, windowMs: .max, recoveryMs: .max, halfOpenProbes: 0)
        var breaker = CircuitBreaker(model: "m")
        breaker.recordFailure(at: .max, policy: odd)
        #expect(breaker.phase(at: .max, policy: odd) == .halfOpen) // threshold acts as 1; max + recovery saturates
        let admitted = breaker.admitProbe(at: .max, policy: odd)
        #expect(admitted)
        let second = breaker.admitProbe(at: .max, policy: odd)
        #expect(!second)
        breaker.recordSuccess(at: .max, probe: true, policy: odd)
        #expect(breaker.phase(at: .max, policy: odd) == .closed)

        breaker.trip(at: 0)
        #expect(breaker.msUntilNextTransition(at: 0, policy: odd) == .max)
        #expect(breaker.recentFailures(at: 0, policy: odd) == 0)
        let zeroWindow = BreakerPolicy(windowMs: 0, recoveryMs: 0)
        var fresh = CircuitBreaker(model: "m")
        for at in [UInt64.max, 0, 5] { fresh.recordFailure(at: at, policy: zeroWindow) }
        #expect(fresh.phase(at: 5, policy: zeroWindow) == .closed)
        _ = fresh.info(at: 0, policy: odd)

        // Failures while OPEN are bounded.
        var flooded = opened(at: t0)
        for i in 0..<1_000 { flooded.recordFailure(at: t0 + UInt64(i), policy: policy) }
        #expect(flooded.record.failuresUnixMs.count == 64)
        #expect(flooded.phase(at: t0 + 1_000, policy: policy) == .open)
    }
}

