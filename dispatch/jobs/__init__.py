"""The Einsatzbestätigung (job confirmation): report, confirm or dispute, approve."""
