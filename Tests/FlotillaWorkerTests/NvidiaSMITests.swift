import FlotillaProto
@testable import FlotillaWorker
import Logging
import Testing

@Suite struct NvidiaSMITests {
    @Test func parsesTheQueryOutput() throws {
        let output = """
            0, NVIDIA H100 80GB HBM3, 81559, GPU-5c2a1f3e-1111-2222-3333-444455556666
              1 ,NVIDIA H100 80GB HBM3 ,  81559 , GPU-aaaa

            2, NVIDIA L4, [N/A], [N/A]\r
            """
        let gpus = try NvidiaSMI.parse(output)
        #expect(gpus.map(\.index) == [0, 1, 2])
        #expect(gpus[0].type == "NVIDIA H100 80GB HBM3")
        #expect(gpus[0].memoryMib == 81559 && gpus[1].memoryMib == 81559)
        #expect(gpus[0].uuid == "GPU-5c2a1f3e-1111-2222-3333-444455556666")
        #expect(gpus[1].type == "NVIDIA H100 80GB HBM3" && gpus[1].uuid == "GPU-aaaa")
        #expect(gpus[2].memoryMib == 0 && gpus[2].uuid == "")
    }

    @Test func emptyOutputListsNoGPU() throws {
        #expect(try NvidiaSMI.parse("").isEmpty)
        #expect(try NvidiaSMI.parse("\n\n").isEmpty)
    }

    @Test func aMalformedLineIsAnErrorNamingIt() {
        let error = #expect(throws: NvidiaSMI.ParseError.self) {
            try NvidiaSMI.parse("0, A100, 40960, GPU-1\nNo devices were found\n")
        }
        #expect(error?.line == 2)
        #expect(error?.description.contains("No devices were found") == true)
        #expect(throws: NvidiaSMI.ParseError.self) { try NvidiaSMI.parse("x, A100, 40960, GPU-1") }
        #expect(throws: NvidiaSMI.ParseError.self) { try NvidiaSMI.parse("0, A100, lots, GPU-1") }
    }

    @Test func autoFallsBackToTheConfiguredGPUs() async throws {
        var configuration = WorkerConfiguration(
            name: "w", coordinators: [.init(host: "h", port: 1)], certificatePath: "", privateKeyPath: "", trustRootsPath: "",
            checkpointDirectory: "/tmp", models: [])
        var configured = Flotilla_V1_Gpu()
        configured.index = 3
        configured.type = "A100"
        configuration.gpus = [configured]
        let logger = Logger(label: "test")
        let none = try await GPUInventory.discover(configuration, logger: logger, query: { nil })
        #expect(none.map(\.index) == [3])
        let found = try await GPUInventory.discover(configuration, logger: logger, query: { try NvidiaSMI.parse("0, H100, 1, u") })
        #expect(found.map(\.type) == ["H100"])
        configuration.gpuSource = .config
        #expect(try await GPUInventory.discover(configuration, logger: logger, query: { try NvidiaSMI.parse("0, H100, 1, u") })
            .map(\.index) == [3])
    }
}
