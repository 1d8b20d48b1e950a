import FlotillaCoordinatorState
import FlotillaProto
import FlotillaTransport

/// `flotillactl breakers`: list, reset and trip per-model circuit breakers (admin role).
extension CoordinatorService {
    func listBreakers() async -> Flotilla_V1_ListBreakersResponse {
        let now = await core.now()
        var response = Flotilla_V1_ListBreakersResponse()
        response.breakers = await core.read { state in
            state.breakers.map { $0.info(at: now, policy: state.breakerPolicy) }
        }
        return response
    }

    func actOnBreaker(_ request: Flotilla_V1_BreakerActionRequest) async throws -> Flotilla_V1_BreakerActionResponse {
        guard request.action == .reset || request.action == .trip else {
            throw FlotillaError(.invalidArgument, "a breaker action is RESET or TRIP")
        }
        let now = await core.now()
        _ = try await core.proposeChecked(.breakerAction(request.model, request.action, at: now))
        logger.notice("breaker \(request.action == .reset ? "reset" : "tripped") by an operator",
                      metadata: ["flotilla.model": "\(request.model)"])
        var response = Flotilla_V1_BreakerActionResponse()
        response.breaker = await core.read { state in
            state.breaker(request.model).info(at: now, policy: state.breakerPolicy)
        }
        return response
    }
}
