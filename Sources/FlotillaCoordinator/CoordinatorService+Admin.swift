import FlotillaCoordinatorState
import FlotillaProto
import FlotillaScheduler
import FlotillaTransport

/// Administration requests (PROTOCOL.md §11.5), admin role only.
extension CoordinatorService {
    func clusterStatus() async -> Flotilla_V1_ClusterStatusResponse {
        let now = await core.now()
        let scaling = self.scaling
        let (summary, signals, _, tenants) = await core.read { state in
            (state.summary, scaling.signals(of: state, at: now), state.lastAppliedIndex,
             state.tenants.map { quota in
                 var usage = Flotilla_V1_TenantUsage()
                 usage.quota = quota
                 usage.gpusAllocated = UInt32(clamping: state.gpusAllocated(tenant: quota.tenant))
                 usage.jobsQueued = UInt32(clamping: state.queuedJobCount(tenant: quota.tenant))
                 return usage
             })
        }
        var response = Flotilla_V1_ClusterStatusResponse()
        response.cluster = configuration.cluster
        response.region = configuration.region
        response.coordinators = await core.coordinatorInfos(address: configuration.listen.description)
        response.workersReady = UInt32(summary.workersReady)
        response.workersTotal = UInt32(summary.workersTotal)
        response.gpusTotal = UInt32(summary.gpusTotal)
        response.gpusAllocated = UInt32(summary.gpusAllocated)
        response.jobsQueued = UInt32(summary.jobsQueued)
        response.jobsRunning = UInt32(summary.jobsRunning)
        response.jobsSucceeded = UInt64(summary.jobsSucceeded)
        response.jobsFailed = UInt64(summary.jobsFailed)
        // Queues per tier and model, GPUs per type, p99 wait; capacity from the advisor.
        scaling.fill(&response, signals: signals, now: now)
        response.tenants = tenants
        return response
    }

    func listWorkers() async -> Flotilla_V1_ListWorkersResponse {
        var response = Flotilla_V1_ListWorkersResponse()
        response.workers = await core.workerInfos()
        return response
    }

    func drainWorker(_ request: Flotilla_V1_DrainWorkerRequest) async throws -> Flotilla_V1_DrainWorkerResponse {
        guard let worker = await core.read({ $0.worker(idOrName: request.worker) }) else {
            throw FlotillaError(.notFound, "no worker \(request.worker)")
        }
        let reason = request.reason.isEmpty ? "drained by an operator" : request.reason
        _ = try await core.proposeChecked(.drain(worker.id, reason: reason, at: await core.now()))
        logger.info("worker drained by an operator", metadata: ["flotilla.worker": "\(worker.name)"])
        var response = Flotilla_V1_DrainWorkerResponse()
        if let info = await core.read({ $0.workerInfo(worker.id) }) { response.worker = info }
        return response
    }

    /// Drill records, newest first.
    func listDrills(_ request: Flotilla_V1_ListDrillsRequest) async -> Flotilla_V1_ListDrillsResponse {
        var response = Flotilla_V1_ListDrillsResponse()
        let drills = await core.read { Array($0.drills.reversed()) }
        response.drills = request.limit == 0 ? drills : Array(drills.prefix(Int(request.limit)))
        return response
    }

    func getDrill(_ request: Flotilla_V1_GetDrillRequest) async throws -> Flotilla_V1_DrillReport {
        guard let drill = await core.read({ $0.drill(request.id) }) else { throw FlotillaError(.notFound, "no drill \(request.id)") }
        return drill
    }

    func setTenant(_ request: Flotilla_V1_SetTenantRequest) async throws -> Flotilla_V1_SetTenantResponse {
        guard JobSpecValidation.isName(request.tenant.tenant) else {
            throw FlotillaError(.invalidArgument, "tenant \"\(request.tenant.tenant)\" is not a valid name")
        }
        _ = try await core.proposeChecked(.setTenant(request.tenant, at: await core.now()))
        var response = Flotilla_V1_SetTenantResponse()
        response.tenant = await core.read({ $0.tenant(request.tenant.tenant) }) ?? request.tenant
        return response
    }
}
