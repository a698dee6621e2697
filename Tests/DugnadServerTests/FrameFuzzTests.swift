import DugnadTestSupport
import DugnadProtocol
import Foundation
import Testing

/// A black-box fuzzer for the WebSocket layer: a live hub gets random and malformed frames
/// (bad or missing masks, lying lengths, reserved opcodes and bits, fragmented and
/// oversized control frames, stray continuations, interleaved messages, invalid UTF-8,
/// random bytes) on authenticated and unauthenticated connections. After each case the
/// answer must be the one RFC 6455 and the wire contract ask for: a close frame with the
/// right code followed by the end of the TCP connection, or a connection that still answers
/// a WebSocket ping and a `ping` request. At the end a fresh client must still be able to
/// join and publish: the server survived.
///
/// Deterministic by default. `DUGNAD_FRAME_FUZZ_SEED=<n>` replays a seed (printed with every
/// failure), `DUGNAD_FRAME_FUZZ_SEED=random` picks one, `DUGNAD_FRAME_FUZZ_CASES=<n>` sets
/// the number of cases (default 300).
@Suite struct FrameFuzzTests {
    static let defaultSeed: UInt64 = 0x5EED_D06A_D000_0001
    static let defaultCases = 300

    @Test func randomAndMalformedFramesGetRFC6455AnswersAndTheServerSurvives() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed: UInt64
        switch environment["DUGNAD_FRAME_FUZZ_SEED"] {
        case nil, ""?: seed = Self.defaultSeed
        case "random"?: seed = UInt64.random(in: 1...UInt64.max)
        case let text?: seed = UInt64(text) ?? UInt64(text.dropFirst(2), radix: 16) ?? Self.defaultSeed
        }
        let cases = environment["DUGNAD_FRAME_FUZZ_CASES"].flatMap { Int($0) } ?? Self.defaultCases
        print("FrameFuzzTests: seed \(seed), \(cases) cases (replay with DUGNAD_FRAME_FUZZ_SEED=\(seed))")

        let hub = try await TestHub.start { configuration in
            // A client that never answers our close frame must not hold a case for long.
            configuration.closeTimeoutSeconds = 2
        }
        let token = try await TestHub.token("fuzzer")
        // All cases come from the seed first, so they are the same however the runs interleave.
        var random = SplitMix64(seed: seed)
        var fuzzCases: [FuzzCase] = []
        var tally: [String: Int] = [:]
        for _ in 0..<cases {
            let fuzzCase = FuzzCase.make(&random, authenticated: random.chance(0.7), token: token)
            tally[fuzzCase.label, default: 0] += 1
            fuzzCases.append(fuzzCase)
        }
        // A few connections at a time: most of a case is waiting on the network.
        let lanes = 6
        let problems = await withTaskGroup(of: (Int, String?).self) { group in
            var problems: [(Int, String)] = []
            var next = 0
            func startNext() {
                guard next < fuzzCases.count else { return }
                let index = next
                let fuzzCase = fuzzCases[index]
                next += 1
                group.addTask { (index, await self.run(fuzzCase, index: index, hub: hub)) }
            }
            for _ in 0..<lanes { startNext() }
            for await (index, problem) in group {
                if let problem { problems.append((index, problem)) }
                startNext()
            }
            return problems.sorted { $0.0 < $1.0 }
        }
        if problems.count > 20 {
            // Only the first 20 in full; the rest by kind, so that no kind of problem is hidden.
            var kinds: [String: Int] = [:]
            for (index, problem) in problems.dropFirst(20) {
                kinds["\(fuzzCases[index].label): \(problem.prefix { $0 != "(" && $0 != ":" })", default: 0] += 1
            }
            let summary = kinds.sorted { $0.key < $1.key }.map { "\($0.value)× \($0.key)" }.joined(separator: "; ")
            Issue.record("seed \(seed): \(problems.count - 20) more problems: \(summary)")
        }
        for (index, problem) in problems.prefix(20) {
            let fuzzCase = fuzzCases[index]
            Issue.record(
                "seed \(seed) case \(index) [\(fuzzCase.authenticated ? "authenticated" : "unauthenticated")] \(fuzzCase.label): \(problem)\n  sent: \(fuzzCase.hexDump)"
            )
        }

        // Survival: a fresh pair of clients can join, publish and receive.
        let publisher = try await hub.connect("survivor-a")
        let reader = try await hub.connect("survivor-b")
        try await publisher.ok("join", [("channel", "fuzz-survival")])
        try await reader.ok("join", [("channel", "fuzz-survival")])
        let published = try await publisher.ok("publish", [("channel", "fuzz-survival"), ("body", "still here")])
        #expect(published.at("message", "body") == "still here", "seed \(seed)")
        let delivered = try await reader.next(type: "message")
        #expect(delivered["body"] == "still here", "seed \(seed)")
        await publisher.close()
        await reader.close()
        await hub.stop()
        print(
            "FrameFuzzTests: seed \(seed): "
                + tally.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }

    /// Runs one case on a fresh connection; returns what went wrong, or nil.
    private func run(_ fuzzCase: FuzzCase, index: Int, hub: TestHub) async -> String? {
        let client: TestClient
        do {
            client = fuzzCase.authenticated ? try await hub.connect("fuzz-\(index)") : try await hub.rawConnect()
        } catch {
            return "could not connect: \(error)"
        }
        let socket = client.socket
        for chunk in fuzzCase.chunks {
            if chunk.pauseBefore { try? await Task.sleep(for: .milliseconds(20)) }
            // Once the server has closed, later writes may fail: that is fine, the answer is checked below.
            try? await socket.sendRaw(chunk.bytes)
        }
        let observer = Observer(socket: socket, authenticated: fuzzCase.authenticated, expectedRefs: fuzzCase.refs)
        let problem: String?
        switch fuzzCase.expect {
        case .open:
            problem = await observer.expectUsable(welcomeFirst: fuzzCase.label == "fragmented-auth")
        case .close(let codes):
            problem = await observer.expectClose(codes)
        case .openOrClose(let codes):
            problem = await observer.expectUsableOrClose(codes)
        case .closeOrSilence:
            problem = await observer.expectCloseOrSilence()
        case .nothing:
            problem = nil
        }
        await socket.close(timeout: .milliseconds(200))
        return problem
    }
}

// MARK: - Checking the answer

/// Reads what the server sends on one connection and checks it against the expectation.
private final class Observer {
    let socket: WebSocketClient
    var authenticated: Bool
    /// `ref`s of valid requests sent in the case: each must be answered before the probe.
    let expectedRefs: [String]
    var answeredRefs: Set<String> = []

    init(socket: WebSocketClient, authenticated: Bool, expectedRefs: [String]) {
        self.socket = socket
        self.authenticated = authenticated
        self.expectedRefs = expectedRefs
    }

    /// Handles one text frame from the server; returns a complaint if it is not a frame of the contract.
    private func take(_ text: String) -> String? {
        guard case .object(let object)? = try? JSONParser.parse(text), case .string(let type)? = object["type"] else {
            return "server sent a text frame that is not a JSON object with a type: \(text.prefix(200))"
        }
        switch type {
        case "welcome":
            authenticated = true
        case "reply":
            if case .string(let ref)? = object["ref"] { answeredRefs.insert(ref) }
            if object["ok"] == .bool(false), object["error"]?["message"]?.stringValue?.isEmpty != false {
                return "error reply without a message: \(text.prefix(200))"
            }
        case "error":
            if object["code"]?.stringValue == nil || object["message"]?.stringValue?.isEmpty != false {
                return "error event without code or message: \(text.prefix(200))"
            }
        default:
            break
        }
        return nil
    }

    /// The connection is still usable: it answers a WebSocket ping with its payload, and an
    /// authenticated one answers a `ping` request (after every earlier request). An
    /// unauthenticated one answers the request with close 4001, as the contract says.
    func expectUsable(welcomeFirst: Bool = false) async -> String? {
        if welcomeFirst, let problem = await wait(for: "the welcome", until: { _ in self.authenticated }) {
            return problem
        }
        let probe = Array("probe-\(UInt32.random(in: 0...UInt32.max))".utf8)
        do {
            try await socket.send(opcode: .ping, payload: probe)
        } catch {
            return "could not send the probe ping: \(error)"
        }
        if let problem = await wait(
            for: "the pong to the probe",
            until: { event in
                if case .pong(let payload) = event { return payload == probe }
                return false
            })
        {
            return problem
        }
        if !authenticated {
            try? await socket.sendText(#"{"type":"ping","ref":"probe"}"#)
            return await expectClose([CloseCode.unauthorized.rawValue])
        }
        try? await socket.sendText(#"{"type":"ping","ref":"probe"}"#)
        if let problem = await wait(for: "the reply to the probe request", until: { _ in self.answeredRefs.contains("probe") }) {
            return problem
        }
        let missing = expectedRefs.filter { !answeredRefs.contains($0) }
        if !missing.isEmpty { return "no reply to requests \(missing) sent before the probe" }
        if let error = socket.connectionError { return "the client failed the connection: \(error)" }
        return nil
    }

    /// A close frame with one of `codes`, and then the end of the TCP connection, with no
    /// data frame after the close frame.
    func expectClose(_ codes: [UInt16]) async -> String? {
        var code: UInt16??
        let problem = await wait(
            for: "a close frame with \(codes)",
            until: { event in
                if case .close(let received, _) = event { code = .some(received) }
                return code != nil
            })
        if let problem { return problem }
        guard let received = code.flatMap({ $0 }) else { return "close frame without a status code, expected \(codes)" }
        guard codes.contains(received) else { return "close code \(received), expected one of \(codes)" }
        return await expectDisconnect()
    }

    func expectUsableOrClose(_ codes: [UInt16]) async -> String? {
        // A close may already be on its way; a ping/pong round trip tells which.
        let probe = Array("either-\(UInt32.random(in: 0...UInt32.max))".utf8)
        try? await socket.send(opcode: .ping, payload: probe)
        var closeCode: UInt16??
        let problem = await wait(
            for: "a pong or a close frame",
            until: { event in
                switch event {
                case .pong(let payload): return payload == probe
                case .close(let received, _):
                    closeCode = .some(received)
                    return true
                default: return false
                }
            })
        if let problem { return problem }
        if let closeCode {
            guard let received = closeCode, codes.contains(received) else {
                let shown = closeCode.map { String($0) } ?? "none"
                return "close code \(shown), expected one of \(codes) or an open connection"
            }
            return await expectDisconnect()
        }
        return await expectUsable()
    }

    /// Random bytes may be an incomplete frame the server keeps waiting for: then nothing
    /// comes. Anything that does come must be a close frame with a code that may be sent.
    func expectCloseOrSilence() async -> String? {
        let deadline = ContinuousClock.now + .milliseconds(250)
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { return nil }
            let event: WebSocketClientEvent
            do {
                event = try await socket.receive(timeout: remaining)
            } catch {
                return nil
            }
            switch event {
            case .close(let code?, _):
                guard Self.sendable(code) else { return "close code \(code) is not one a server may send" }
                return await expectDisconnect()
            case .close(nil, _):
                return "close frame without a status code"
            case .disconnected:
                return "connection dropped without a close frame"
            case .text(let text):
                if let complaint = take(text) { return complaint }
            case .binary:
                return "server sent a binary frame"
            case .ping, .pong:
                continue
            }
        }
    }

    /// After its close frame the server ends the TCP connection (RFC 6455 §7.1.1) and sends
    /// nothing else.
    private func expectDisconnect() async -> String? {
        let deadline = ContinuousClock.now + TestClient.eventTimeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return "the server did not end the TCP connection after its close frame" }
            let event: WebSocketClientEvent
            do {
                event = try await socket.receive(timeout: remaining)
            } catch {
                return "the server did not end the TCP connection after its close frame"
            }
            switch event {
            case .disconnected: return nil
            case .text(let text): return "data frame after the close frame: \(text.prefix(120))"
            case .binary: return "binary frame after the close frame"
            case .close(let code, let reason):
                return "a second close frame (\(code.map(String.init) ?? "no code") '\(reason)') after the first"
            case .ping, .pong: return "control frame \(event) after the close frame"
            }
        }
    }

    /// Waits until `done` holds for an event, checking every event on the way.
    private func wait(for what: String, until done: (WebSocketClientEvent) -> Bool) async -> String? {
        let deadline = ContinuousClock.now + TestClient.eventTimeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return "timed out waiting for \(what)" }
            let event: WebSocketClientEvent
            do {
                event = try await socket.receive(timeout: remaining)
            } catch {
                return "timed out waiting for \(what)"
            }
            if case .text(let text) = event, let complaint = take(text) { return complaint }
            if done(event) { return nil }
            switch event {
            case .close(let code, let reason):
                return "unexpected close \(code.map(String.init) ?? "without code") '\(reason)' while waiting for \(what)"
            case .disconnected:
                return "connection dropped while waiting for \(what)"
            case .binary:
                return "server sent a binary frame"
            case .text, .ping, .pong:
                continue
            }
        }
    }

    /// Codes an endpoint may put in a close frame (RFC 6455 §7.4).
    static func sendable(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}

// MARK: - Generating cases

private enum Expectation {
    /// The connection stays usable.
    case open
    /// A close frame with one of these codes, then TCP close.
    case close([UInt16])
    /// Either (e.g. non-minimal length encodings, which RFC 6455 forbids but servers may accept).
    case openOrClose([UInt16])
    /// Random bytes: a close with any sendable code, or nothing (an incomplete frame).
    case closeOrSilence
    /// Nothing to check on the connection (it is dropped mid-frame); only survival counts.
    case nothing
}

private struct Chunk {
    var bytes: [UInt8]
    /// Sleep briefly before writing, so the server sees the chunks in separate reads.
    var pauseBefore = false
}

private struct FuzzCase {
    var label: String
    var authenticated: Bool
    var chunks: [Chunk] = []
    var expect: Expectation = .open
    /// `ref`s of complete valid requests (authenticated connections only).
    var refs: [String] = []

    var hexDump: String {
        let all = chunks.flatMap(\.bytes)
        let shown = all.prefix(96).map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
        return "\(all.count) bytes in \(chunks.count) writes: \(shown)\(all.count > 96 ? " ..." : "")"
    }

    static let protocolError = CloseCode.protocolError.rawValue
    static let unsupportedData = CloseCode.unsupportedData.rawValue
    static let invalidPayload = CloseCode.invalidPayload.rawValue
    static let messageTooBig = CloseCode.messageTooBig.rawValue
    static let unauthorized = CloseCode.unauthorized.rawValue
    static let maxMessage = 65_536

    static func make(_ random: inout SplitMix64, authenticated: Bool, token: String) -> FuzzCase {
        var builder = FuzzCase(label: "", authenticated: authenticated)
        builder.addPrefix(&random)
        let scenarios: [(weight: Int, build: (inout FuzzCase, inout SplitMix64) -> Void)] = [
            (6, { $0.validTraffic(&$1) }),
            (5, { $0.unmasked(&$1) }),
            (5, { $0.reservedBits(&$1) }),
            (5, { $0.reservedOpcode(&$1) }),
            (5, { $0.fragmentedControl(&$1) }),
            (5, { $0.oversizedControl(&$1) }),
            (5, { $0.strayContinuation(&$1) }),
            (5, { $0.messageInsideMessage(&$1) }),
            (3, { $0.binary(&$1) }),
            (8, { $0.invalidUTF8(&$1) }),
            (4, { $0.splitUTF8(&$1) }),
            (6, { $0.tooBig(&$1) }),
            (8, { $0.closeFrames(&$1) }),
            (3, { $0.nonMinimalLength(&$1) }),
            (3, { $0.splitAcrossWrites(&$1) }),
            (2, { $0.truncatedThenHangUp(&$1) }),
            (6, { $0.randomBytes(&$1) }),
            (4, { $0.randomText(&$1) }),
            (authenticated ? 0 : 4, { $0.fragmentedAuth(&$1, token: token) }),
        ]
        var pick = random.below(scenarios.reduce(0) { $0 + $1.weight })
        for scenario in scenarios {
            if pick < scenario.weight {
                scenario.build(&builder, &random)
                break
            }
            pick -= scenario.weight
        }
        // After a fatal frame the server ignores everything; trailing junk must not change that.
        if case .close = builder.expect, random.chance(0.3) {
            builder.add(Frame(opcode: 0x1, payload: Array(#"{"type":"ping","ref":"after-close"}"#.utf8)).bytes(&random))
            if random.chance(0.5) { builder.add(random.bytes(random.below(40) + 1)) }
        }
        return builder
    }

    mutating func add(_ bytes: [UInt8], pause: Bool = false) {
        chunks.append(Chunk(bytes: bytes, pauseBefore: pause))
    }

    /// Complete, valid text: answered on an authenticated connection, 4001 before authentication.
    private mutating func deliversText() {
        if !authenticated { expect = .close([Self.unauthorized]) }
    }

    private mutating func request(_ random: inout SplitMix64) -> [UInt8] {
        let ref = "r\(refs.count)-\(random.below(1_000_000))"
        refs.append(ref)
        return Array(#"{"type":"ping","ref":"\#(ref)"}"#.utf8)
    }

    /// Valid frames first: pings, unsolicited pongs and (authenticated) complete requests,
    /// some of them fragmented with control frames in between, some in one write.
    private mutating func addPrefix(_ random: inout SplitMix64) {
        var batch: [UInt8] = []
        for _ in 0..<random.below(4) {
            switch random.below(authenticated ? 5 : 2) {
            case 0: batch += Frame(opcode: 0x9, payload: random.bytes(random.below(126))).bytes(&random)
            case 1: batch += Frame(opcode: 0xA, payload: random.bytes(random.below(126))).bytes(&random)
            case 2: batch += Frame(opcode: 0x1, payload: request(&random)).bytes(&random)
            case 3: batch += fragmented(request(&random), random: &random)
            default:
                // A zero mask key leaves the payload as is; it is still a masked frame.
                var frame = Frame(opcode: 0x1, payload: request(&random))
                frame.mask = [0, 0, 0, 0]
                batch += frame.bytes(&random)
            }
            if random.chance(0.5) {
                add(batch)
                batch = []
            }
        }
        if !batch.isEmpty { add(batch) }
    }

    /// One text message in 2–4 fragments, with control frames between some of them.
    private func fragmented(_ message: [UInt8], random: inout SplitMix64) -> [UInt8] {
        var cuts = (0..<random.below(3) + 1).map { _ in random.below(message.count + 1) }.sorted()
        cuts = [0] + cuts + [message.count]
        var out: [UInt8] = []
        for i in 0..<(cuts.count - 1) {
            let part = Array(message[cuts[i]..<cuts[i + 1]])
            out += Frame(fin: i == cuts.count - 2, opcode: i == 0 ? 0x1 : 0x0, payload: part).bytes(&random)
            if i < cuts.count - 2, random.chance(0.4) {
                out += Frame(opcode: random.chance(0.5) ? 0x9 : 0xA, payload: random.bytes(random.below(20))).bytes(&random)
            }
        }
        return out
    }

    private mutating func validTraffic(_ random: inout SplitMix64) {
        label = "valid"
        if authenticated {
            add(fragmented(request(&random), random: &random))
        } else {
            add(Frame(opcode: 0x9, payload: random.bytes(random.below(126))).bytes(&random))
        }
        expect = .open
    }

    private mutating func unmasked(_ random: inout SplitMix64) {
        label = "unmasked"
        let opcode: UInt8 = random.element([0x1, 0x2, 0x0, 0x9, 0xA, 0x8])
        var frame = Frame(
            opcode: opcode, payload: opcode >= 0x8 ? random.bytes(random.below(10)) : Array(#"{"type":"ping"}"#.utf8))
        frame.mask = nil
        add(frame.bytes(&random))
        expect = .close([Self.protocolError])
    }

    private mutating func reservedBits(_ random: inout SplitMix64) {
        label = "rsv-bits"
        var frame = Frame(opcode: random.element([0x1, 0x2, 0x0, 0x9, 0xA, 0x8]), payload: Array(#"{"type":"ping"}"#.utf8))
        frame.rsv = UInt8(random.below(7) + 1)
        add(frame.bytes(&random))
        expect = .close([Self.protocolError])
    }

    private mutating func reservedOpcode(_ random: inout SplitMix64) {
        label = "reserved-opcode"
        let opcode: UInt8 = random.element([0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF])
        add(Frame(fin: random.chance(0.8), opcode: opcode, payload: random.bytes(random.below(60))).bytes(&random))
        expect = .close([Self.protocolError])
    }

    private mutating func fragmentedControl(_ random: inout SplitMix64) {
        label = "fragmented-control"
        let opcode: UInt8 = random.element([0x8, 0x9, 0xA])
        var payload = random.bytes(random.below(20))
        if opcode == 0x8 { payload = [0x03, 0xE8] }
        add(Frame(fin: false, opcode: opcode, payload: payload).bytes(&random))
        if random.chance(0.5) { add(Frame(opcode: 0x0, payload: random.bytes(4)).bytes(&random)) }
        expect = .close([Self.protocolError])
    }

    private mutating func oversizedControl(_ random: inout SplitMix64) {
        label = "control-over-125"
        let opcode: UInt8 = random.element([0x8, 0x9, 0xA])
        var payload = Array("x".utf8) + random.bytes(126 + random.below(300))
        if opcode == 0x8 { payload = [0x03, 0xE8] + Array(repeating: UInt8(ascii: "r"), count: 124 + random.below(100)) }
        add(Frame(opcode: opcode, payload: payload).bytes(&random))
        expect = .close([Self.protocolError])
    }

    private mutating func strayContinuation(_ random: inout SplitMix64) {
        label = "continuation-without-start"
        add(Frame(fin: random.chance(0.5), opcode: 0x0, payload: Array(#"{"type":"ping"}"#.utf8)).bytes(&random))
        expect = .close([Self.protocolError])
    }

    private mutating func messageInsideMessage(_ random: inout SplitMix64) {
        label = "message-inside-message"
        add(Frame(fin: false, opcode: 0x1, payload: Array(#"{"type":"pi"#.utf8)).bytes(&random))
        if random.chance(0.5) { add(Frame(opcode: 0x9, payload: []).bytes(&random)) }
        add(
            Frame(fin: random.chance(0.5), opcode: random.element([0x1, 0x2]), payload: Array(#"{"type":"ping"}"#.utf8)).bytes(
                &random))
        expect = .close([Self.protocolError])
    }

    private mutating func binary(_ random: inout SplitMix64) {
        label = "binary"
        add(Frame(fin: random.chance(0.7), opcode: 0x2, payload: random.bytes(random.below(100))).bytes(&random))
        expect = .close([Self.unsupportedData])
    }

    private static let invalidSequences: [[UInt8]] = [
        [0xC3, 0x28], [0xA0], [0xFF], [0xFE], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
        [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82, 0x28], [0xF0, 0x28, 0x8C, 0xBC],
    ]

    private mutating func invalidUTF8(_ random: inout SplitMix64) {
        let message = Array(#"{"type":"ping","ref":"ø€"#.utf8) + random.element(Self.invalidSequences) + Array(#""}"#.utf8)
        switch random.below(3) {
        case 0:
            label = "invalid-utf8"
            add(Frame(opcode: 0x1, payload: message).bytes(&random))
        case 1:
            label = "invalid-utf8-fragmented"
            add(fragmented(message, random: &random))
        default:
            // The message ends inside a multi-byte character.
            label = "utf8-cut-at-end"
            let cut = random.element([[0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98]] as [[UInt8]])
            add(Frame(opcode: 0x1, payload: Array(#"{"type":"ping"} "#.utf8) + cut).bytes(&random))
        }
        expect = .close([Self.invalidPayload])
    }

    private mutating func splitUTF8(_ random: inout SplitMix64) {
        label = "utf8-split-across-fragments"
        let ref = "ø€𝄞-\(random.below(1000))"
        if authenticated { refs.append(ref) }
        let message = Array(#"{"type":"ping","ref":"\#(ref)"}"#.utf8)
        // Cut inside the multi-byte characters on purpose.
        let cuts = [23, 25, 29].filter { _ in random.chance(0.7) }
        var bounds = [0] + cuts + [message.count]
        bounds = Array(Set(bounds)).sorted()
        var out: [UInt8] = []
        for i in 0..<(bounds.count - 1) {
            out += Frame(
                fin: i == bounds.count - 2, opcode: i == 0 ? 0x1 : 0x0, payload: Array(message[bounds[i]..<bounds[i + 1]])
            )
            .bytes(&random)
        }
        add(out)
        expect = .open
        deliversText()
    }

    private mutating func tooBig(_ random: inout SplitMix64) {
        switch random.below(5) {
        case 0:
            label = "frame-over-limit"
            add(
                Frame(opcode: 0x1, payload: Array(repeating: UInt8(ascii: " "), count: Self.maxMessage + 1 + random.below(3_000)))
                    .bytes(&random))
            expect = .close([Self.messageTooBig])
        case 1:
            label = "fragments-over-limit"
            let first = 30_000 + random.below(30_000)
            add(Frame(fin: false, opcode: 0x1, payload: Array(repeating: UInt8(ascii: " "), count: first)).bytes(&random))
            add(
                Frame(opcode: 0x0, payload: Array(repeating: UInt8(ascii: " "), count: Self.maxMessage + 1 - first)).bytes(
                    &random))
            expect = .close([Self.messageTooBig])
        case 2:
            label = "length-127-huge"
            var frame = Frame(opcode: random.element([0x1, 0x2, 0x0]), payload: random.bytes(random.below(16)))
            frame.declaredLength = UInt64(1) << UInt64(17 + random.below(45))
            add(frame.bytes(&random))
            expect = .close([Self.messageTooBig])
        case 3:
            label = "length-127-top-bit"
            var frame = Frame(opcode: 0x1, payload: random.bytes(8))
            frame.declaredLength = (UInt64(1) << 63) | UInt64(random.below(1 << 20))
            add(frame.bytes(&random))
            expect = .close([Self.protocolError, Self.messageTooBig])
        default:
            label = "exactly-at-limit"
            let head = Array(#"{"type":"ping","ref":"max","pad":""#.utf8)
            let tail = Array(#""}"#.utf8)
            let message = head + Array(repeating: UInt8(ascii: "p"), count: Self.maxMessage - head.count - tail.count) + tail
            if random.chance(0.5) {
                add(Frame(opcode: 0x1, payload: message).bytes(&random))
            } else {
                add(fragmented(message, random: &random))
            }
            if authenticated { refs.append("max") }
            expect = .open
            deliversText()
        }
    }

    private mutating func closeFrames(_ random: inout SplitMix64) {
        switch random.below(6) {
        case 0:
            label = "close-empty"
            add(Frame(opcode: 0x8, payload: []).bytes(&random))
            expect = .close([CloseCode.normal.rawValue])
        case 1:
            label = "close-valid"
            let code: UInt16 = random.element([
                1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4001, 4999,
            ])
            let reason = Array(random.element(["", "bye", "på gjensyn", "👋"]).utf8)
            add(Frame(opcode: 0x8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + reason).bytes(&random))
            expect = .close([code])
        case 2:
            label = "close-one-byte"
            add(Frame(opcode: 0x8, payload: [UInt8(random.below(256))]).bytes(&random))
            expect = .close([Self.protocolError])
        case 3:
            label = "close-invalid-code"
            let code: UInt16 = random.element([0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])
            add(Frame(opcode: 0x8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)]).bytes(&random))
            expect = .close([Self.protocolError])
        case 4:
            label = "close-invalid-utf8-reason"
            add(Frame(opcode: 0x8, payload: [0x03, 0xE8] + random.element(Self.invalidSequences)).bytes(&random))
            expect = .close([Self.protocolError])
        default:
            // A close in the middle of a fragmented message is still a close.
            label = "close-inside-message"
            add(Frame(fin: false, opcode: 0x1, payload: Array(#"{"type":"#.utf8)).bytes(&random))
            add(Frame(opcode: 0x8, payload: [0x0B, 0xB8]).bytes(&random))
            expect = .close([3000])
        }
    }

    private mutating func nonMinimalLength(_ random: inout SplitMix64) {
        label = "non-minimal-length"
        var frame = Frame(opcode: 0x1, payload: authenticated ? request(&random) : Array(#"{"type":"ping"}"#.utf8))
        frame.lengthForm = random.chance(0.5) ? .sixteen : .sixtyFour
        add(frame.bytes(&random))
        if authenticated {
            // If the server refuses the encoding, the request is never answered.
            refs.removeLast()
            expect = .openOrClose([Self.protocolError])
        } else {
            expect = .openOrClose([Self.protocolError, Self.unauthorized])
        }
    }

    private mutating func splitAcrossWrites(_ random: inout SplitMix64) {
        label = "split-across-writes"
        let bytes = Frame(opcode: 0x1, payload: authenticated ? request(&random) : Array(#"{"type":"ping"}"#.utf8)).bytes(&random)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + 1 + random.below(8))
            add(Array(bytes[start..<end]), pause: random.chance(0.3))
            start = end
        }
        expect = .open
        deliversText()
    }

    private mutating func truncatedThenHangUp(_ random: inout SplitMix64) {
        label = "truncated-then-hang-up"
        let bytes = Frame(opcode: random.element([0x1, 0x9, 0x8]), payload: random.bytes(10 + random.below(100))).bytes(&random)
        add(Array(bytes.prefix(1 + random.below(bytes.count - 1))))
        expect = .nothing
    }

    private mutating func randomBytes(_ random: inout SplitMix64) {
        label = "random-bytes"
        add(random.bytes(1 + random.below(200)))
        expect = .closeOrSilence
    }

    private mutating func randomText(_ random: inout SplitMix64) {
        label = "random-text"
        let pieces = [
            "{", "}", "[", "]", "\"", ":", ",", "type", "ping", "ref", "null", "1e999", "-", "0", "\\u", "\\ud800", "ø", "𝄞", " ",
            "\u{2028}",
        ]
        var text = ""
        for _ in 0..<random.below(30) { text += random.element(pieces) }
        add(Frame(opcode: 0x1, payload: Array(text.utf8)).bytes(&random))
        expect = .open
        deliversText()
    }

    private mutating func fragmentedAuth(_ random: inout SplitMix64, token: String) {
        label = "fragmented-auth"
        add(fragmented(Array(#"{"type":"auth","token":"\#(token)"}"#.utf8), random: &random))
        expect = .open
    }
}

/// One WebSocket frame as bytes, with every field open to abuse.
private struct Frame {
    enum LengthForm { case minimal, sixteen, sixtyFour }

    var fin = true
    var rsv: UInt8 = 0
    var opcode: UInt8
    var payload: [UInt8]
    /// nil: unmasked; otherwise this key (a random one is drawn when left empty).
    var mask: [UInt8]? = []
    var lengthForm = LengthForm.minimal
    /// A length to put in the header instead of the payload's (with the 64-bit form).
    var declaredLength: UInt64?

    init(fin: Bool = true, opcode: UInt8, payload: [UInt8]) {
        self.fin = fin
        self.opcode = opcode
        self.payload = payload
    }

    func bytes(_ random: inout SplitMix64) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | (rsv & 7) << 4 | opcode & 0x0F]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        let length = declaredLength ?? UInt64(payload.count)
        let form: LengthForm = declaredLength != nil ? .sixtyFour : lengthForm
        if form == .minimal, length <= 125 {
            out.append(maskBit | UInt8(length))
        } else if form != .sixtyFour, length <= 0xFFFF {
            out.append(maskBit | 126)
            out += [UInt8(length >> 8), UInt8(length & 0xFF)]
        } else {
            out.append(maskBit | 127)
            out += (0..<8).reversed().map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
        }
        guard var key = mask else { return out + payload }
        if key.count != 4 { key = random.bytes(4) }
        out += key
        out += payload.enumerated().map { $0.element ^ key[$0.offset & 3] }
        return out
    }
}

/// A small seeded generator (SplitMix64), so a failing case replays from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
    mutating func chance(_ probability: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < probability }
    mutating func element<T>(_ items: [T]) -> T { items[below(items.count)] }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
