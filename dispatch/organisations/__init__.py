"""Requesting organisations: their kind, their own mediator lists and dispatch policy."""
