import DugnadProtocol

/// The `search` reply and the body of `GET /api/v1/search`.
extension EventEncoding {
    /// One found message: the message object as in `history`, plus `excerpt` (plain text)
    /// and `excerpt_marks` (the found words, `[start, end]` in UTF-16 code units).
    public static func writeSearchHit(_ hit: SearchHit, into writer: inout JSONWriter) {
        writer.beginObject()
        writeMessage(hit.message, into: &writer)
        writer.field("excerpt", hit.excerpt.text)
        writer.key("excerpt_marks")
        writer.beginArray()
        for mark in hit.excerpt.marks {
            writer.beginArray()
            writer.int(Int64(mark.lowerBound))
            writer.int(Int64(mark.upperBound))
            writer.endArray()
        }
        writer.endArray()
        writer.endObject()
    }

    /// `messages` (best first) and `has_more` (more matched than the reply holds).
    public static func writeSearchResults(_ hits: [SearchHit], hasMore: Bool, into writer: inout JSONWriter) {
        writeArray("messages", hits, into: &writer) { writer, hit in writeSearchHit(hit, into: &writer) }
        writer.field("has_more", hasMore)
    }
}
