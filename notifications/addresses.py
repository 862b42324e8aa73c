"""E-mail addresses with internationalised domains (info@bäckerei-müller.de).

People's addresses are kept and shown as they were typed; only the mail to
them needs the domain's ASCII form (xn--...), since the pool's mail server is
not assumed to speak SMTPUTF8 (RFC 6531), which a Unicode address would need
in the envelope and the headers.
"""

from __future__ import annotations

from email.utils import parseaddr

import idna


def ascii_domain(domain: str) -> str:
    """The domain as the mail system needs it: bäckerei-müller.de → xn--bckerei-mller-bfb28a.de.

    IDNA 2008 with the UTS 46 mapping (the `idna` package), as browsers and
    mail servers do: capitals are folded, and "ß" stays itself, where Python's
    built-in codec (IDNA 2003) would turn straße.de into strasse.de, another
    domain. Raises ValueError for a domain that has no such form.
    """
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(f"{domain!r} is not a valid domain: {exc}") from exc


def ascii_address(address: str) -> str:
    """`address` with its domain in ASCII (unchanged when it is ASCII already).

    A part before the @ in other letters has no ASCII form: it stays, and a
    server without SMTPUTF8 refuses it (the service refuses such addresses
    when they are typed).
    """
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    return f"{local}@{ascii_domain(domain)}"


def ascii_sender(from_addr: str) -> str:
    """A From setting ("Sprachpool <sprachpool@domain>" or a bare address) in ASCII."""
    name, address = parseaddr(from_addr)
    if not address or address.isascii():
        return from_addr
    return from_addr.replace(address, ascii_address(address))
