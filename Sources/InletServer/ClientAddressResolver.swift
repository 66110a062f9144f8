internal import HTTPTypes
internal import Hummingbird
internal import InletCore
internal import NIOCore

/// The client a request counts for, as the key of per-client limits.
///
/// The TCP peer, unless the peer is one of `trustedProxies` (`INLET_TRUSTED_PROXIES`):
/// then the right-most `X-Forwarded-For` address that is not a trusted proxy, since each
/// proxy appends the address it received the request from and everything left of the
/// first untrusted hop is the client's to invent. IPv6 clients are keyed by their /64.
///
/// ```swift
/// let clients = ClientAddressResolver(trustedProxies: [IPNetwork("10.0.0.0/8")!])
/// clients.key(peer: "10.0.0.2", forwardedFor: ["198.51.100.7, 10.0.0.9"])   // "198.51.100.7"
/// ```
struct ClientAddressResolver: Sendable {
    let trustedProxies: [IPNetwork]

    func key(peer: String?, forwardedFor: [String]) -> String {
        guard let peer, let peerAddress = IPAddress(peer) else { return peer ?? "unknown" }
        guard self.isTrusted(peerAddress), !forwardedFor.isEmpty else { return peerAddress.clientKey }
        // Several header lines are one list, in order (RFC 9110, section 5.3).
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }
        var client = peerAddress
        for hop in hops.reversed() {
            guard let address = IPAddress(hop.filter { $0 != " " && $0 != "\t" }) else { break }
            client = address
            if !self.isTrusted(address) { break }
        }
        return client.clientKey
    }

    func key(_ request: Request, peer: SocketAddress?) -> String {
        self.key(peer: peer?.ipAddress, forwardedFor: self.trustedProxies.isEmpty ? [] : request.headers[values: .xForwardedFor])
    }

    private func isTrusted(_ address: IPAddress) -> Bool {
        self.trustedProxies.contains { $0.contains(address) }
    }
}
