/// The one way in for events: every route that receives one hands it here, and every
/// replay goes through it.
///
/// It makes every id Inlet generates (``newEventID()``, with the injected clock, so ids
/// sort by arrival; a sender's own id is kept), finds the handlers subscribed to the
/// event's type (or waiting on it), writes the event with one
/// delivery per handler in one transaction, and wakes those handlers' workers once the
/// write is durable. Nothing else looks up subscribers or wakes the dispatcher.
///
/// ```swift
/// let received = try await intake.receive(NewEvent(source: .productivity, id: id, type: .employeeCreated, payload: body))
/// if received.duplicate { /* answered before */ }
/// ```
package struct EventIntake: Sendable {
    let store: any InletStore
    let registry: HandlerRegistry
    let dispatcher: Dispatcher
    let clock: WallClock

    package init(store: any InletStore, registry: HandlerRegistry, dispatcher: Dispatcher, clock: WallClock = .system) {
        self.store = store
        self.registry = registry
        self.dispatcher = dispatcher
        self.clock = clock
    }

    /// A fresh event id (``EventID/generate(at:)``) at the intake's clock.
    package func newEventID() -> String {
        EventID.generate(at: self.clock.now())
    }

    /// Stores `event` with a delivery for each subscriber; a repeated `(source, id)` is a
    /// duplicate that plans and wakes nothing.
    package func receive(_ event: NewEvent) async throws -> AppendResult {
        try await self.receive([event])[0]
    }

    /// Stores `events` in one transaction, as ``receive(_:)-(NewEvent)`` does each.
    package func receive(_ events: [NewEvent]) async throws -> [AppendResult] {
        let planned = events.map(self.planned)
        let results = try await self.store.appendEvents(planned)
        var woken = Set<String>()
        for (event, result) in zip(planned, results) where !result.duplicate {
            woken.formUnion(event.handlers)
        }
        self.wake(woken)
        return results
    }

    /// Upserts the user of `login` and stores its `auth0.user.login` event (source
    /// `auth0`, a fresh id, `payload` as the body received) in one transaction.
    package func login(_ login: UserLogin, payload: String) async throws -> UserLoginResult {
        let event = self.planned(NewEvent(source: .auth0, id: self.newEventID(), type: .userLogin, payload: payload))
        let result = try await self.store.recordLogin(login, event: event)
        self.wake(Set(event.handlers))
        return result
    }

    /// Makes every delivery of the event with `id` (only `handler`'s, when given) due now
    /// and wakes the workers; nil when there is no such event.
    package func replay(eventID id: String, handler: String? = nil) async throws -> Int? {
        let count = try await self.store.replay(eventID: id, handler: handler)
        if count != nil { self.dispatcher.notify(handler.map { [$0] }) }
        return count
    }

    /// Makes dead deliveries due now (all, one handler's, or one ``DeadLetterGroup``) and
    /// wakes the workers; returns how many.
    package func replayDead(handler: String? = nil, errorKey: String? = nil) async throws -> Int {
        let count = try await self.store.replayDead(handler: handler, errorKey: errorKey)
        self.dispatcher.notify(handler.map { [$0] })
        return count
    }

    /// Pauses or resumes `handler` (persisted, for every instance); a resumed handler's
    /// worker is woken.
    package func setPaused(_ paused: Bool, handler: String) async throws {
        try await self.store.setPaused(paused, handler: handler)
        if !paused { self.dispatcher.notify([handler]) }
    }

    private func planned(_ event: NewEvent) -> NewEvent {
        var event = event
        event.handlers = self.registry.subscribers(of: event.type)
        if event.subjects.isEmpty { event.subjects = EventSubjects.of(type: event.type, payload: event.payload) }
        return event
    }

    private func wake(_ handlers: Set<String>) {
        if !handlers.isEmpty { self.dispatcher.notify(Array(handlers)) }
    }
}
