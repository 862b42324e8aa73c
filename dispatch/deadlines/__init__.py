"""Timed steps as database rows, fired by a generic runner.

- ``models``: the ``deadline`` table;
- ``registry``: each domain registers its kinds of deadline and their
  handlers (in its ``scheduled.py``);
- ``service``: scheduling and closing deadlines, inside the caller's transaction;
- ``runner``: ``run_due``, one due deadline per transaction, called by the scheduler.
"""
