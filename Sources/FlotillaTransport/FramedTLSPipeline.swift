import FlotillaTLS
import FlotillaWire
import NIOCore

/// The handlers every Flotilla connection stacks under its protocol handler:
/// TLS, then the frame decoder and encoder.
enum FramedTLSPipeline {
    static func handlers(
        tls: TLSContext, mode: TLSHandler.Mode, wire: WireConfiguration, admission: PeerAdmission? = nil,
        budget: PartialFrameBudget? = nil
    ) -> [any ChannelHandler] {
        [
            TLSHandler(context: tls, mode: mode),
            ByteToMessageHandler(FrameDecoder(configuration: wire, admission: admission, budget: budget)),
            FrameEncoderHandler(configuration: wire),
        ]
    }
}
