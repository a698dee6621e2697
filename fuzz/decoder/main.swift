// libFuzzer target `decoder`: one client text frame through CommandDecoder, plus the
// JSON parser/writer round trip. Built by scripts/fuzz together with
// Sources/DugnadProtocol/*.swift and fuzz/common/Invariants.swift as one module.

private let decoder = CommandDecoder()
/// A small body limit so that the "exactly at the limit" edges are reached by short inputs.
private let smallDecoder = CommandDecoder(limits: Limits(maxFrameBytes: 256, maxBodyBytes: 8))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let parsed = checkJSONRoundTrip(input)

    let decoded = decoder.decode(input)
    checkDecoded(decoded, decoder: decoder, input)
    checkDecoded(smallDecoder.decode(input), decoder: smallDecoder, input)

    // The decoder reads the document, not its spelling: the canonical re-encoding of a
    // parsed input decodes to the same result (command or error, and the same ref).
    if let parsed {
        let canonical = decoder.decode(parsed.jsonBytes())
        guard canonical == decoded else {
            violated("decode(write(parse(x))) != decode(x): \(canonical.result) vs \(decoded.result)", input)
        }
    } else if case .success = decoded.result {
        violated("a command was decoded from input that is not JSON", input)
    }
    return 0
}
