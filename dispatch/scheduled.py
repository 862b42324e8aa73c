"""Every domain's timed work, imported in one place so the deadline registry is complete.

Importing a domain's ``scheduled`` module registers its deadline kinds and
their handlers (``dispatch.deadlines.registry``); the runner imports this
module, so whatever fires deadlines knows every kind. A new domain with
timed work adds its line here.
"""

from dispatch.jobs import scheduled as jobs
from dispatch.mediators import scheduled as mediators
from dispatch.offers import scheduled as offers
from dispatch.requests import scheduled as requests
from dispatch.users import scheduled as users

__all__ = ["jobs", "mediators", "offers", "requests", "users"]
