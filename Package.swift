// swift-tools-version:6.0
import PackageDescription

/// Pure, hot code the simulations run millions of steps of.
let optimizedAlways: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Flotilla",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "flotillactl", targets: ["flotillactl"]),
        .executable(name: "flotilla-bench", targets: ["flotilla-bench"]),
        .executable(name: "flotilla-coordinator", targets: ["flotilla-coordinator"]),
        .executable(name: "flotilla-worker", targets: ["flotilla-worker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // System libraries: OpenSSL 3 (TLS, certificates) and LZ4 (frame compression).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Functions wrapping the OpenSSL macros Swift cannot import.
        .target(name: "COpenSSLShim", dependencies: ["COpenSSL"]),
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),

        // Generated from proto-spec/flotilla/v1/*.proto by scripts/generate-proto.sh.
        .target(
            name: "FlotillaProto",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // One seeded generator whose bounded draws do not depend on the toolchain, so a seed
        // replays the same cases everywhere (simulations, fuzzing, the simulated executor).
        .target(name: "FlotillaRandom"),
        // Frame header, LZ4, message kinds and the frame codec (NIOCore only).
        .target(
            name: "FlotillaWire",
            dependencies: [
                "CLZ4", "FlotillaProto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Seeded fuzzing of the frame decoder, for the tests and `flotilla-bench fuzz`;
        // not part of what the protocol's users link.
        .target(
            name: "FlotillaWireFuzz",
            dependencies: [
                "FlotillaWire", "FlotillaRandom", "FlotillaProto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // TLS over system OpenSSL as a NIO ChannelHandler, and peer identity.
        .target(
            name: "FlotillaTLS",
            dependencies: [
                "COpenSSL", "COpenSSLShim", "FlotillaPKI",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Certificate authority and node certificates (flotillactl tls).
        .target(name: "FlotillaPKI", dependencies: ["COpenSSL", "COpenSSLShim"]),
        // Server and client: handshake, roles, requests, streams, reconnects.
        .target(
            name: "FlotillaTransport",
            dependencies: [
                "FlotillaWire", "FlotillaTLS", "FlotillaProto", "FlotillaPKI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // flotillactl's commands; the executable is a thin main over them.
        .target(
            name: "FlotillaCTL",
            dependencies: [
                "FlotillaPKI", "FlotillaTransport", "FlotillaTLS", "FlotillaProto", "FlotillaWire",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Raft consensus as a value (etcd-io/raft's shape): tick, step, propose, ready, advance.
        // No I/O, no clock; randomness from a seed. The coordinator's shell does the rest.
        // Optimized in debug builds too, so the suite's 1,000 simulated seeds take seconds.
        .target(name: "FlotillaRaft", dependencies: ["FlotillaRandom"], swiftSettings: optimizedAlways),
        // Seeded simulations of a Raft group over a hostile network, with the invariants checked
        // after every step: for the tests and `flotilla-bench raft-sim`.
        .target(name: "FlotillaRaftSimulation", dependencies: ["FlotillaRaft", "FlotillaRandom"], swiftSettings: optimizedAlways),
        // Seeded simulations of a whole replicated region: coordinators (Raft, log, state,
        // planner), workers and a client, with the jobs' invariants: tests and `cluster-sim`.
        .target(
            name: "FlotillaClusterSimulation",
            dependencies: [
                "FlotillaRaft", "FlotillaRaftSimulation", "FlotillaRandom", "FlotillaCoordinatorState", "FlotillaScheduler",
                "FlotillaProto", "FlotillaWorker",
            ],
            swiftSettings: optimizedAlways
        ),
        // Raft messages to and from the wire (consensus.proto), snapshots in chunks.
        .target(
            name: "FlotillaRaftWire",
            dependencies: ["FlotillaRaft", "FlotillaProto", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // A Raft member's stable storage: entries and snapshots in the durable log, term and vote
        // in a synced file; carries out step 1 of the Ready contract.
        .target(name: "FlotillaRaftStorage", dependencies: ["FlotillaRaft", "FlotillaLog"]),
        // A Raft member's network: ordered links to the peers over mutual TLS, and the checked
        // inbound queue.
        .target(
            name: "FlotillaRaftHost",
            dependencies: [
                "FlotillaRaft", "FlotillaRaftWire", "FlotillaTransport", "FlotillaTLS", "FlotillaPKI", "FlotillaProto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]),
        // The coordinator's durable log: CRC32C-checked segments, group commit, snapshots.
        .target(
            name: "FlotillaLog",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),
        // The coordinator's replicated state machine (pure: no I/O, no clock) and its leader's planner.
        .target(
            name: "FlotillaCoordinatorState",
            dependencies: [
                "FlotillaProto", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // Scheduling policy (tiers, fair share, quotas, gang placement, preemption, retries,
        // breaker admission) and scaling signals: pure values over the coordinator state.
        .target(
            name: "FlotillaScheduler",
            dependencies: ["FlotillaCoordinatorState", "FlotillaProto", .product(name: "DequeModule", package: "swift-collections")]
        ),
        // Failover drills' decisions: blast radius, targets, watching the recovery, the verdict. Pure.
        .target(name: "FlotillaDrills", dependencies: ["FlotillaCoordinatorState", "FlotillaProto"]),
        // YAML configuration with FLOTILLA_* environment overrides and errors that name the key.
        .target(name: "FlotillaConfig", dependencies: [.product(name: "Yams", package: "Yams")]),
        // The coordinator process: log + state machine + planner behind the protocol, metrics, health.
        .target(
            name: "FlotillaCoordinator",
            dependencies: [
                "FlotillaConfig", "FlotillaCoordinatorState", "FlotillaScheduler", "FlotillaDrills", "FlotillaLog",
                "FlotillaTransport", "FlotillaTLS", "FlotillaPKI", "FlotillaProto", "FlotillaWire",
                "FlotillaRaft", "FlotillaRaftStorage", "FlotillaRaftHost",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The worker process: registration, heartbeats, directives, process and simulated executors.
        .target(
            name: "FlotillaWorker",
            dependencies: [
                "FlotillaConfig", "FlotillaTransport", "FlotillaTLS", "FlotillaPKI", "FlotillaProto",
                "FlotillaWire", "FlotillaRandom", "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "flotilla-coordinator",
            dependencies: ["FlotillaCoordinator", "FlotillaLog", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "flotilla-worker",
            dependencies: ["FlotillaWorker", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "flotillactl", dependencies: ["FlotillaCTL"]),
        .executableTarget(
            name: "flotilla-bench",
            dependencies: [
                "FlotillaWire", "FlotillaWireFuzz", "FlotillaRandom", "FlotillaTransport", "FlotillaPKI", "FlotillaProto",
                "FlotillaTLS", "FlotillaTestSupport",
                "FlotillaScheduler", "FlotillaCoordinatorState", "FlotillaRaftSimulation", "FlotillaClusterSimulation",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Shared by the test targets: temporary directories, test certificates, binaries.
        .target(
            name: "FlotillaTestSupport",
            dependencies: [
                "FlotillaPKI", "FlotillaRandom", "FlotillaWire", "FlotillaTransport",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "FlotillaWireTests",
            dependencies: [
                "FlotillaWire", "FlotillaWireFuzz", "FlotillaRandom", "FlotillaProto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .testTarget(
            name: "FlotillaTLSTests",
            dependencies: [
                "FlotillaTLS", "FlotillaPKI", "FlotillaTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "FlotillaPKITests", dependencies: ["FlotillaPKI", "FlotillaTestSupport"]),
        .testTarget(
            name: "FlotillaTransportTests",
            dependencies: [
                "FlotillaTransport", "FlotillaTestSupport", "FlotillaProto", "FlotillaWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "FlotillaLogTests",
            dependencies: [
                "FlotillaLog",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "FlotillaCoordinatorStateTests",
            dependencies: ["FlotillaCoordinatorState", "FlotillaScheduler", "FlotillaProto", "FlotillaTestSupport"]
        ),
        .testTarget(name: "FlotillaDrillsTests", dependencies: ["FlotillaDrills", "FlotillaCoordinatorState", "FlotillaProto", "FlotillaTestSupport"]),
        .testTarget(name: "FlotillaSchedulerTests", dependencies: ["FlotillaScheduler", "FlotillaCoordinatorState", "FlotillaProto", "FlotillaTestSupport"]),
        .testTarget(name: "FlotillaCTLTests", dependencies: ["FlotillaTestSupport", "FlotillaTransport", "FlotillaCTL", "FlotillaProto"]),
        .testTarget(name: "FlotillaConfigTests", dependencies: ["FlotillaConfig"]),
        // Scenario scripts (testdata/*.txt) and seeded simulations of the Raft core.
        .testTarget(
            name: "FlotillaRaftTests",
            dependencies: [
                "FlotillaRaft", "FlotillaRaftSimulation", "FlotillaRaftStorage", "FlotillaRaftWire", "FlotillaLog",
                "FlotillaRandom", "FlotillaProto", "FlotillaClusterSimulation",
            ],
            exclude: ["testdata"]
        ),
        .testTarget(
            name: "FlotillaWorkerTests",
            dependencies: ["FlotillaWorker", "FlotillaTestSupport", "FlotillaProto", "FlotillaTransport", "FlotillaConfig"]
        ),
        .testTarget(
            name: "FlotillaCoordinatorTests",
            dependencies: [
                "FlotillaCoordinator", "FlotillaCoordinatorState", "FlotillaConfig", "FlotillaTestSupport",
                "FlotillaTransport", "FlotillaProto", "FlotillaTLS", "FlotillaPKI", "FlotillaRaft", "FlotillaRaftHost", "FlotillaRaftWire", "FlotillaWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Real processes on loopback: coordinator, workers and flotillactl started, killed and paused.
        .testTarget(
            name: "FlotillaClusterTests",
            dependencies: [
                "FlotillaTestSupport", "FlotillaTransport", "FlotillaProto", "FlotillaTLS", "FlotillaPKI", "FlotillaWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
    ]
)
