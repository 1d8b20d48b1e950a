import FlotillaProto
import FlotillaWire
import SwiftProtobuf
import Testing

@Suite struct MessageKindTests {
    @Test func everyKindMapsToADistinctMessageTypeAndBack() {
        var seen = Set<ObjectIdentifier>()
        for kind in MessageKind.allCases {
            #expect(seen.insert(ObjectIdentifier(kind.messageType)).inserted, "\(kind) shares its type")
            #expect(MessageKind.of(kind.messageType) == kind)
            #expect(MessageKind.of(kind.messageType.init()) == kind)
        }
        // One kind per message declared in proto-spec/flotilla/v1/*.proto.
        #expect(MessageKind.allCases.count == 85)
    }

    @Test func numbersFollowTheAreaRanges() {
        for kind in MessageKind.allCases {
            #expect(kind.rawValue >= 1 && kind.rawValue < 600)
        }
        #expect(MessageKind.hello.rawValue == 1)
        #expect(MessageKind.ack.rawValue == 9)
        #expect(MessageKind.registerWorkerRequest.rawValue == 100)
        #expect(MessageKind.submitJobRequest.rawValue == 200)
        #expect(MessageKind.clusterStatusRequest.rawValue == 300)
        #expect(MessageKind.raftMessage.rawValue == 406)
        #expect(MessageKind.regionHealthRequest.rawValue == 500)
    }

    @Test func aForeignMessageHasNoKindAndCannotBeEnveloped() {
        #expect(MessageKind.of(Google_Protobuf_Empty()) == nil)
        #expect(throws: WireError.self) { try Envelope(Google_Protobuf_Empty()) }
    }

    @Test func anEnvelopeWhoseKindDisagreesWithItsMessageIsRefused() throws {
        var envelope = try Envelope(Flotilla_V1_Ping())
        envelope.kind = .pong
        #expect(throws: WireError.self) { try envelope.frame() }
    }
}
