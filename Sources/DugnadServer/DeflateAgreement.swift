/// permessage-deflate (RFC 7692) as agreed with one client at the upgrade.
struct DeflateAgreement: Equatable, Sendable {
    /// The window the server compresses with: the client's `server_max_window_bits`, 15
    /// when it set no limit. Every message is compressed on its own
    /// (`server_no_context_takeover`, always in our answer), which is what lets one
    /// compressed frame serve every subscriber with the same window.
    var serverMaxWindowBits = 15
    /// The client offered to reset its compressor after each message, and we accepted: the
    /// inflater is then dropped between messages, so an idle connection holds no zlib state.
    var clientNoContextTakeover = false
    /// Whether the offer limited our window (it must then be named in the answer).
    var serverWindowWasLimited = false

    /// The `Sec-WebSocket-Extensions` value of the 101 response.
    var responseHeader: String {
        var header = "permessage-deflate; server_no_context_takeover"
        if clientNoContextTakeover { header += "; client_no_context_takeover" }
        if serverWindowWasLimited { header += "; server_max_window_bits=\(serverMaxWindowBits)" }
        return header
    }
}
