import FlotillaProto
import FlotillaTransport
import Foundation
import SwiftProtobuf

/// The admin side of a coordinator for `FakeCoordinator`: breakers and tenants that
/// BreakerAction and SetTenant change the way PROTOCOL.md says the real one does, and a
/// ClusterStatusResponse carrying the scaling signals and the current tenants. Requests
/// are checked (unknown model: NOT_FOUND; no action or no tenant name: INVALID_ARGUMENT),
/// so a command that sends a wrong field fails its test rather than passing on canned data.
final class FakeAdminPlane: @unchecked Sendable {
    // Guards `breakers` and `tenants`; requests arrive on NIO's threads while the test reads.
    private let lock = NSLock()
    private var breakerRecords: [Flotilla_V1_BreakerInfo]
    private var tenantRecords: [Flotilla_V1_TenantUsage]
    private let status: Flotilla_V1_ClusterStatusResponse

    init(
        breakers: [Flotilla_V1_BreakerInfo] = AdminFixtures.breakers,
        tenants: [Flotilla_V1_TenantUsage] = AdminFixtures.tenants,
        status: Flotilla_V1_ClusterStatusResponse = AdminFixtures.scalingStatus
    ) {
        breakerRecords = breakers
        tenantRecords = tenants
        self.status = status
    }

    var breakers: [Flotilla_V1_BreakerInfo] { lock.withLock { breakerRecords } }
    var tenants: [Flotilla_V1_TenantUsage] { lock.withLock { tenantRecords } }

    /// `status` with the tenants as they are now.
    var currentStatus: Flotilla_V1_ClusterStatusResponse {
        var current = status
        current.tenants = tenants
        return current
    }

    var script: FakeCoordinator.Script {
        { [self] message in reply(to: message) }
    }

    func reply(to message: any SwiftProtobuf.Message) -> ServiceReply {
        switch message {
        case is Flotilla_V1_ClusterStatusRequest:
            return .message(currentStatus)
        case is Flotilla_V1_ListBreakersRequest:
            var response = Flotilla_V1_ListBreakersResponse()
            response.breakers = breakers
            return .message(response)
        case let action as Flotilla_V1_BreakerActionRequest:
            return breakerAction(action)
        case let set as Flotilla_V1_SetTenantRequest:
            return setTenant(set)
        default:
            return .failure(FlotillaError(.failedPrecondition, "not scripted"))
        }
    }

    private func breakerAction(_ request: Flotilla_V1_BreakerActionRequest) -> ServiceReply {
        lock.withLock {
            guard let index = breakerRecords.firstIndex(where: { $0.model == request.model }) else {
                return .failure(FlotillaError(.notFound, "no model named \(request.model)"))
            }
            var breaker = breakerRecords[index]
            switch request.action {
            case .reset:
                breaker.state = .closed
                breaker.recentFailures = 0
                breaker.nextTransitionMs = 0
            case .trip:
                breaker.state = .open
                breaker.nextTransitionMs = 30_000
            default:
                return .failure(FlotillaError(.invalidArgument, "action must be RESET or TRIP"))
            }
            breaker.probesInFlight = 0
            breaker.probesSucceeded = 0
            breakerRecords[index] = breaker
            var response = Flotilla_V1_BreakerActionResponse()
            response.breaker = breaker
            return .message(response)
        }
    }

    private func setTenant(_ request: Flotilla_V1_SetTenantRequest) -> ServiceReply {
        guard request.hasTenant, !request.tenant.tenant.isEmpty else {
            return .failure(FlotillaError(.invalidArgument, "tenant.tenant is required"))
        }
        return lock.withLock {
            if let index = tenantRecords.firstIndex(where: { $0.quota.tenant == request.tenant.tenant }) {
                tenantRecords[index].quota = request.tenant
            } else {
                var usage = Flotilla_V1_TenantUsage()
                usage.quota = request.tenant
                tenantRecords.append(usage)
            }
            var response = Flotilla_V1_SetTenantResponse()
            response.tenant = request.tenant
            return .message(response)
        }
    }
}

/// Breakers, tenants and scaling signals as a coordinator would serve them.
enum AdminFixtures {
    static let breakers: [Flotilla_V1_BreakerInfo] = {
        var open = Flotilla_V1_BreakerInfo()
        open.model = "mochi-1"
        open.state = .open
        open.recentFailures = 5
        open.nextTransitionMs = 12_000
        open.fallbackChain = ["open-sora", "cogvideo"]
        var closed = Flotilla_V1_BreakerInfo()
        closed.model = "sdxl"
        closed.state = .closed
        closed.recentFailures = 1
        var halfOpen = Flotilla_V1_BreakerInfo()
        halfOpen.model = "open-sora"
        halfOpen.state = .halfOpen
        halfOpen.probesInFlight = 2
        halfOpen.probesSucceeded = 1
        halfOpen.probesAllowed = 3
        return [open, closed, halfOpen]
    }()

    static let tenants: [Flotilla_V1_TenantUsage] = {
        var studio = Flotilla_V1_TenantUsage()
        studio.quota.tenant = "studio"
        studio.quota.maxGpus = 16
        studio.quota.maxQueuedJobs = 100
        studio.quota.defaultTier = .premium
        studio.quota.homeRegion = "us-east"
        studio.gpusAllocated = 6
        studio.jobsQueued = 3
        var hobby = Flotilla_V1_TenantUsage()
        hobby.quota.tenant = "hobby"
        hobby.quota.defaultTier = .free
        hobby.jobsQueued = 2
        return [studio, hobby]
    }()

    /// `AdminCommandTests.status` plus every scaling signal.
    static let scalingStatus: Flotilla_V1_ClusterStatusResponse = {
        var status = AdminCommandTests.status
        var mochi = Flotilla_V1_ModelQueue()
        mochi.model = "mochi-1"
        mochi.queued = 3
        mochi.oldestWaitMs = 95_000
        status.modelQueues = [mochi]
        var h100 = Flotilla_V1_GpuTypeUsage()
        h100.gpuType = "H100"
        h100.total = 8
        h100.allocated = 6
        var a10g = Flotilla_V1_GpuTypeUsage()
        a10g.gpuType = "A10G"
        a10g.total = 4
        status.gpuTypes = [h100, a10g]
        status.p99QueueWaitMs = 42_000
        var grow = Flotilla_V1_CapacityRecommendation()
        grow.gpuType = "H100"
        grow.changePercent = 25
        grow.reason = "p99 queue wait 42s is over the 30s target"
        var shrink = Flotilla_V1_CapacityRecommendation()
        shrink.gpuType = "A10G"
        shrink.changePercent = -50
        shrink.reason = "idle for 15 minutes"
        status.capacity = [grow, shrink]
        return status
    }()
}
