/// The R4 Appointment status lifecycle (appointment.html, "Appointment Statuses"), as a table.
/// Before booking: proposed, pending, waitlist; booked leads to checked-in, arrived and
/// fulfilled; cancelled, noshow and fulfilled end the appointment; anything may become
/// entered-in-error, which is final.
public enum AppointmentStatusModel {
    public static let statuses: [String] = [
        "proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error", "checked-in", "waitlist",
    ]

    static let transitions: [String: Set<String>] = [
        "proposed": ["pending", "booked", "waitlist", "cancelled"],
        "pending": ["proposed", "booked", "waitlist", "cancelled"],
        "waitlist": ["proposed", "pending", "booked", "cancelled"],
        "booked": ["checked-in", "arrived", "noshow", "cancelled"],
        "checked-in": ["arrived", "fulfilled", "noshow", "cancelled"],
        "arrived": ["fulfilled", "cancelled"],
        "fulfilled": [],
        "cancelled": [],
        "noshow": [],
        "entered-in-error": [],
    ]

    /// Whether an appointment may move from `current` to `next` (staying put is always allowed).
    public static func allows(from current: String, to next: String) -> Bool {
        if current == next { return true }
        if next == "entered-in-error" { return current != "entered-in-error" }
        return transitions[current]?.contains(next) ?? false
    }

    /// Statuses whose appointments hold their slots.
    public static let occupying: Set<String> = ["pending", "booked", "checked-in", "arrived", "fulfilled"]
}
