/// An error of a storage backend; one that says `isUnavailable` (busy, locked, out of
/// space, stopped) is answered 503 with `Retry-After`, never 500.
public protocol StorageFailure: Error {
    var isUnavailable: Bool { get }
}
