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
