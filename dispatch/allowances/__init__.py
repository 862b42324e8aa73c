"""Allowances (Aufwandsentschädigung): the rules, the month statement, the yearly limit."""
