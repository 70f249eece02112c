/// A `$hold` on slots, as a pure state machine in sandbox time: held slots are
/// `busy-tentative` until the hold is booked, released, or expires.
public struct Hold: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case held, booked, released, expired
    }

    public enum Event: Sendable {
        /// `$book` of the held appointment at `now`.
        case book(now: Int64)
        /// The client or the front desk lets the slots go.
        case release
        /// The sandbox clock reads `now` (after an advance, or on any request).
        case tick(now: Int64)
    }

    /// What the caller must do to the slots.
    public enum Action: Sendable, Equatable {
        case none
        case markBusy([String])
        case free([String])
        /// The event is refused; the slots are freed if the hold lapsed.
        case refuse(reason: String, free: [String])
    }

    public let slots: [String]
    /// Epoch milliseconds of sandbox time.
    public let expiresAt: Int64
    public private(set) var state: State = .held

    public init(slots: [String], heldAt: Int64, minutes: Int) {
        self.slots = slots
        self.expiresAt = heldAt + Int64(minutes) * 60_000
    }

    public mutating func event(_ event: Event) -> Action {
        switch (state, event) {
        case (.held, .tick(let now)) where now >= expiresAt:
            state = .expired
            return .free(slots)
        case (.held, .tick):
            return .none
        case (.held, .book(let now)) where now >= expiresAt:
            state = .expired
            return .refuse(reason: "the hold expired; hold or book the slots again", free: slots)
        case (.held, .book):
            state = .booked
            return .markBusy(slots)
        case (.held, .release):
            state = .released
            return .free(slots)
        case (.expired, .book):
            return .refuse(reason: "the hold expired; hold or book the slots again", free: [])
        case (.released, .book):
            return .refuse(reason: "the hold was released", free: [])
        case (.booked, .book):
            return .refuse(reason: "already booked", free: [])
        default:
            return .none
        }
    }
}
