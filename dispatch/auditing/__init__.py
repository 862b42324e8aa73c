"""Reading the audit trail (dispatch/audit.py writes it): who did what to which record, when."""
