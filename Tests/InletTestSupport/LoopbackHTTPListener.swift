public import NIOCore
internal import NIOHTTP1
internal import NIOPosix
internal import NIOSSL
internal import Synchronization

/// An HTTP/1.1 listener on 127.0.0.1, ephemeral port, for the tests' fake servers: each
/// accepted connection gets NIO's HTTP server pipeline and a fresh handler from
/// `makeHandler`. ``stop()`` closes the listening socket and every connection, so a
/// handler that never answers cannot keep a test waiting.
///
/// The handler reads `HTTPServerRequestPart`s and answers with
/// ``NIOCore/ChannelHandlerContext/writeHTTPResponse(status:headers:body:keepAlive:)``.
///
/// ```swift
/// let listener = try await LoopbackHTTPListener.start { MyHandler() }
/// let url = "http://127.0.0.1:\(listener.port)/"
/// ...
/// await listener.stop()
/// ```
public final class LoopbackHTTPListener: Sendable {
    /// The connections accepted so far, shared with the child-channel initialiser.
    private final class Connections: Sendable {
        let channels = Mutex<[any Channel]>([])
    }

    public enum Failure: Error { case noPort }

    public let port: Int
    private let channel: any Channel
    private let connections: Connections

    private init(port: Int, channel: any Channel, connections: Connections) {
        self.port = port
        self.channel = channel
        self.connections = connections
    }

    /// How many connections were accepted since start.
    public var acceptedConnections: Int { self.connections.channels.withLock { $0.count } }

    /// Binds and starts accepting; `backlog` is the listen queue (NIO's default if `nil`);
    /// with `tls`, every connection is HTTPS.
    public static func start(
        backlog: Int32? = nil, tls: LoopbackTLS? = nil, makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> LoopbackHTTPListener {
        let connections = Connections()
        var bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
        if let backlog { bootstrap = bootstrap.serverChannelOption(ChannelOptions.backlog, value: backlog) }
        let channel = try await bootstrap
            .childChannelInitializer { channel in
                connections.channels.withLock { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls.context)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(makeHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw Failure.noPort
        }
        return LoopbackHTTPListener(port: port, channel: channel, connections: connections)
    }

    /// Closes the listening socket, then every accepted connection.
    public func stop() async {
        try? await self.channel.close()
        for connection in self.connections.channels.withLock({ $0 }) { try? await connection.close() }
    }
}

extension ChannelHandlerContext {
    /// Writes one whole HTTP/1.1 response (`HTTPServerResponsePart`s) with a
    /// `content-length`; without `keepAlive` it adds `connection: close` and closes the
    /// connection once the response is flushed.
    ///
    /// ```swift
    /// context.writeHTTPResponse(status: 200, headers: [("content-type", "application/json")], body: Array("{}".utf8), keepAlive: head.isKeepAlive)
    /// ```
    public func writeHTTPResponse(status: Int, headers: [(String, String)] = [], body: [UInt8] = [], keepAlive: Bool) {
        var head = HTTPHeaders(headers)
        head.replaceOrAdd(name: "content-length", value: String(body.count))
        if !keepAlive { head.replaceOrAdd(name: "connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: status)
        self.write(NIOAny(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: head))), promise: nil)
        if !body.isEmpty {
            self.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(self.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        if keepAlive {
            self.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        } else {
            let channel = self.channel
            self.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
