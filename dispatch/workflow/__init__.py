"""The dispatch workflow: waves of offers, first accept wins, escalation, deadlines."""
