"""Sprachpool's web service: API, pages, dispatch workflow, scheduler, storage."""
