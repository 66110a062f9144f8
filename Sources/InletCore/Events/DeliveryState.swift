/// Where one handler's delivery of one event stands.
public enum DeliveryState: String, Sendable, CaseIterable {
    case pending, running, done, dead
}
