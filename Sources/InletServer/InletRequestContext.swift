public import Hummingbird
public import NIOCore

/// The request context of every Inlet route: Hummingbird's core storage plus the
/// connection's remote address, which the per-client limits key on.
///
/// `BasicRequestContext` drops the channel it is made from; this one keeps the peer's
/// address (conforming to `RemoteAddressRequestContext`, which Hummingbird's tracing
/// middleware reads too). Which client a request counts for is ``ClientAddressResolver``'s
/// call: `X-Forwarded-For` is read only from a trusted proxy.
///
/// ```swift
/// let router = Router(context: InletRequestContext.self)
/// router.get("/whoami") { _, context in "\(context.remoteAddress?.ipAddress ?? "-")" }
/// ```
public struct InletRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer of the connection; nil when the channel has none (tests without sockets).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
