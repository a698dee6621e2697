import NIOCore

/// Which local address each connection binds to. One source address can reach one server
/// address and port from each ephemeral port once, about 28,000 times with Linux's default
/// range; past that, connections to a loopback hub are spread over 127.0.0.2, 127.0.0.3, …
/// (all of 127.0.0.0/8 is the loopback on Linux, without configuration).
struct SourceAddressPlan: Sendable {
    /// Empty: the kernel chooses (no bind).
    let addresses: [SocketAddress]

    /// Share of the ephemeral range one address is asked to carry, leaving room for the hub's
    /// own connections and sockets in TIME_WAIT.
    static let portShare = 0.75

    /// - Parameters:
    ///   - connections: Most connections open at once.
    ///   - requested: Addresses asked for with `--source-addresses`; 0 decides from the port range.
    ///   - host: The hub's address; spreading only applies to an IPv4 loopback hub.
    ///   - portRange: Ports in the ephemeral range.
    init(connections: Int, requested: Int, host: String, portRange: Int) throws(BenchError) {
        let loopback = host.hasPrefix("127.")
        var count = requested
        if count == 0 {
            let perAddress = max(1, Int(Double(portRange) * Self.portShare))
            count = connections > perAddress && loopback ? (connections + perAddress - 1) / perAddress : 0
        }
        guard count > 0 else {
            addresses = []
            return
        }
        guard loopback else {
            throw .configuration("--source-addresses only works with a hub on 127.x.x.x (the loopback range)")
        }
        guard count <= 250 else { throw .configuration("at most 250 source addresses (127.0.0.2 to 127.0.0.251)") }
        var addresses: [SocketAddress] = []
        for index in 0..<count {
            do {
                addresses.append(try SocketAddress(ipAddress: "127.0.0.\(index + 2)", port: 0))
            } catch {
                throw .configuration("cannot use 127.0.0.\(index + 2) as a source address: \(error)")
            }
        }
        self.addresses = addresses
    }

    func address(for index: Int) -> SocketAddress? {
        addresses.isEmpty ? nil : addresses[index % addresses.count]
    }
}
