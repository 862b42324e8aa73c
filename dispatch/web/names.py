"""What the pages call the service's codes (statuses, modes, levels, ...), as msgids.

Marked with N_ so pybabel finds them here; `Formatter` translates them where
a page shows them.
"""

from __future__ import annotations

from locales import N_

STATUS = {
    "open": N_("open"),
    "offered": N_("offered"),
    "assigned": N_("assigned"),
    "completed": N_("completed"),
    "cancelled": N_("cancelled"),
    "unfilled": N_("unfilled"),
    "pending": N_("pending"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "expired": N_("expired"),
    "withdrawn": N_("withdrawn"),
    "returned": N_("given back"),
    "revoked": N_("taken back"),
    "sending": N_("sending"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "failed": N_("failed"),
    "logged": N_("logged only"),
}
MODE = {"in_person": N_("in person"), "phone": N_("Phone"), "video": N_("Video")}
LEVEL = {"native": N_("native"), "fluent": N_("fluent"), "basic": N_("basic")}
#: The parts of a candidate's score (matching.rank), as the coordinator reads them.
SCORE_PART = {
    "continuity": N_("continuity"),
    "gender": N_("Gender"),
    "level": N_("language level"),
    "travel": N_("Travel"),
    "load": N_("few jobs lately"),
}
TRAVEL = {
    "car": N_("car"),
    "bike": N_("bike"),
    "foot": N_("on foot"),
    "transit": N_("public transport"),
}
#: What each kind of message is (notifications/templates.py), as the outbox page names it.
MESSAGE_KIND = {
    "offer": N_("Offer to a mediator"),
    "offer_withdrawn": N_("Offer withdrawn"),
    "assignment_confirmed_mediator": N_("Job confirmed to the mediator"),
    "cancelled_mediator": N_("Job cancelled, to the mediator"),
    "request_changed_mediator": N_("Job changed, to the mediator"),
    "released_after_change_mediator": N_("Mediator released after a change"),
    "reminder_24h": N_("Reminder the day before"),
    "reminder_2h": N_("Reminder two hours before"),
    "completion_request": N_("Request to report the job"),
    "assignment_confirmed_caseworker": N_("Mediator confirmed to the caseworker"),
    "assignment_cancelled_caseworker": N_("Mediator not coming, to the caseworker"),
    "request_unfilled_caseworker": N_("Nobody found, to the caseworker"),
    "request_at_risk_caseworker": N_("Probably nobody, to the caseworker"),
    "request_cancelled_caseworker": N_("Request cancelled, to the caseworker"),
    "request_changed_caseworker": N_("Request changed, to the caseworker"),
    "job_confirmation_caseworker": N_("Job confirmation for the caseworker"),
    "alert_unfilled_coordinator": N_("Alert: nobody found"),
    "alert_late_cancellation_coordinator": N_("Alert: late cancellation"),
    "alert_at_risk_coordinator": N_("Alert: probably nobody"),
    "job_rejected_mediator": N_("Report not approved, to the mediator"),
    "alert_disputed_coordinator": N_("Alert: report disputed"),
    "no_show_mediator": N_("No-show noted, to the mediator"),
    "alert_no_show_coordinator": N_("Alert: no-show"),
    "series_cancelled_mediator": N_("Jobs of a series cancelled, to the mediator"),
    "series_cancelled_caseworker": N_("Series cancelled, to the caseworker"),
    "requests_handed_over_caseworker": N_("Requests handed over, to the colleague"),
    "signin_link": N_("Sign-in link"),
    "staff_invitation": N_("Invitation to a staff member"),
    "staff_erasure_waiting_coordinator": N_("Alert: an erasure waits for open requests"),
    "mediator_erasure_waiting_coordinator": N_("Alert: a mediator's erasure waits"),
    "sms_help": N_("SMS reply: help"),
    "sms_give_back": N_("SMS reply: how to give a job back"),
    "sms_which_offer": N_("SMS reply: which offer?"),
    "sms_paused": N_("SMS reply: paused"),
    "sms_resumed": N_("SMS reply: resumed"),
    "sms_accept_ok": N_("SMS reply: accepted"),
    "sms_decline_ok": N_("SMS reply: declined"),
    "sms_cannot_take": N_("SMS reply: cannot take the job"),
    "sms_unknown_code": N_("SMS reply: unknown code"),
}
#: Who a message went to (Message.recipient_kind).
RECIPIENT_KIND = {
    "mediator": N_("mediator"),
    "user": N_("staff member"),
    "coordinator": N_("coordinator"),
}
#: How an offer reached its mediator (Offer.channel: one channel, several joined by
#: commas, or "direct" for the coordinator's override).
CHANNEL = {"sms": N_("SMS"), "email": N_("E-mail"), "direct": N_("assigned directly")}
