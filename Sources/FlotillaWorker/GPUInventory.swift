import FlotillaConfig
import FlotillaProto
import Logging

/// The GPUs a worker registers: from nvidia-smi or from its configuration,
/// as `gpu_source` says.
public enum GPUInventory {
    public static func discover(_ configuration: WorkerConfiguration, logger: Logger,
                                query: () async throws -> [Flotilla_V1_Gpu]? = { try await NvidiaSMI.query() }) async throws -> [Flotilla_V1_Gpu] {
        switch configuration.gpuSource {
        case .config:
            return configuration.gpus
        case .nvidiaSMI:
            guard let found = try await query(), !found.isEmpty else {
                throw ConfigError(key: "gpu_source", "nvidia-smi was asked for but is not installed or lists no GPU")
            }
            return found
        case .auto:
            do {
                if let found = try await query(), !found.isEmpty {
                    logger.info("GPUs from nvidia-smi", metadata: ["flotilla.count": "\(found.count)"])
                    return found
                }
            } catch {
                logger.warning("nvidia-smi output unreadable; using the configured GPUs", metadata: ["error": "\(error)"])
            }
            return configuration.gpus
        }
    }
}
