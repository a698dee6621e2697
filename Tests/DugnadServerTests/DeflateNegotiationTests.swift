import NIOHTTP1
import Testing

@testable import DugnadServer

/// Reading `Sec-WebSocket-Extensions` offers (RFC 7692 §5, §7.1) without sockets: what is
/// accepted, what the answer says, and that a malformed offer is declined, never a crash.
@Suite struct DeflateNegotiationTests {
    @Test func withoutAnOfferNothingIsAgreed() {
        #expect(DeflateNegotiation.agree(offers: []) == nil)
        #expect(DeflateNegotiation.agree(offers: ["x-webkit-deflate-frame"]) == nil)
        #expect(DeflateNegotiation.agree(offers: [""]) == nil)
    }

    @Test func aBareOfferIsAnsweredWithServerNoContextTakeover() throws {
        let agreement = try #require(DeflateNegotiation.agree(offers: ["permessage-deflate"]))
        #expect(agreement.serverMaxWindowBits == 15)
        #expect(!agreement.clientNoContextTakeover)
        #expect(agreement.responseHeader == "permessage-deflate; server_no_context_takeover")
    }

    @Test func chromesOfferIsAcceptedWithoutNamingTheClientWindow() throws {
        let agreement = try #require(
            DeflateNegotiation.agree(offers: ["permessage-deflate; client_max_window_bits"]))
        #expect(agreement.responseHeader == "permessage-deflate; server_no_context_takeover")
    }

    @Test func clientNoContextTakeoverIsAcceptedAndEchoed() throws {
        let agreement = try #require(
            DeflateNegotiation.agree(offers: ["Permessage-Deflate ; Client_No_Context_Takeover"]))
        #expect(agreement.clientNoContextTakeover)
        #expect(agreement.responseHeader == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    }

    @Test(arguments: ["10", "\"10\""])
    func aServerWindowLimitIsHonouredAndNamedInTheAnswer(_ value: String) throws {
        let agreement = try #require(
            DeflateNegotiation.agree(offers: ["permessage-deflate; server_max_window_bits=\(value); client_max_window_bits=9"]))
        #expect(agreement.serverMaxWindowBits == 10)
        #expect(agreement.responseHeader == "permessage-deflate; server_no_context_takeover; server_max_window_bits=10")
    }

    @Test(arguments: [
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=ten",
        "permessage-deflate; client_max_window_bits=abc",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; unknown_parameter",
        "permessage-deflate; ;;; =; server_max_window_bits=\"",
    ])
    func aMalformedOfferIsDeclined(_ offer: String) {
        #expect(DeflateNegotiation.agree(offers: [offer]) == nil)
    }

    @Test func theFirstOfferTheHubCanHonourWins() throws {
        let agreement = try #require(
            DeflateNegotiation.agree(offers: [
                "foo, permessage-deflate; server_max_window_bits=16",
                "permessage-deflate; server_max_window_bits=12, permessage-deflate",
            ]))
        #expect(agreement.serverMaxWindowBits == 12)
    }

    @Test func compressionSwitchedOffAgreesToNothing() {
        var configuration = ServerConfiguration()
        let head = HTTPRequestHead(
            version: .http1_1, method: .GET, uri: "/ws", headers: ["Sec-WebSocket-Extensions": "permessage-deflate"])
        #expect(WebSocketUpgrade.deflate(head, configuration: configuration) != nil)
        configuration.permessageDeflate = false
        #expect(WebSocketUpgrade.deflate(head, configuration: configuration) == nil)
    }
}
