"""Fetching a participant's iCalendar feed (e.g. an Outlook or Google "publish
calendar" link) so busy times need not be typed in.

Only https, a size cap and a timeout: the fetch runs on the municipality's server, so
it must not become a way to read internal addresses or to exhaust memory: the shared
SSRF guard (services.common.net) admits public addresses only and connects to the
address it checked. Plain http is accepted only for loopback addresses when the config
allows it (tests).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from services.common import net
from services.common.errors import DomainError

MAX_FEED_BYTES = 5_000_000
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def fetch_feed(
    url: str, *, timeout: float = 10.0, allow_http_loopback: bool = False,
    max_bytes: int = MAX_FEED_BYTES, resolver: net.Resolver | None = None,
) -> str:
    """The feed's iCalendar text, or a DomainError on `feed_url` saying what went wrong."""
    parts = urlsplit(url)
    loopback = (parts.hostname or "") in LOOPBACK_HOSTS
    if parts.scheme != "https" and not (allow_http_loopback and loopback):
        raise DomainError("feed_url", "calendar.feed_https_required",
                          "A calendar feed must be an https address.")
    try:
        # Only public addresses (never 10/8, 100.64/10, 169.254/16 ..., nor loopback unless
        # tests allow it), resolved once: the connection goes to the address checked.
        with net.guarded_session(url, allow_loopback=allow_http_loopback,
                                 resolver=resolver) as session, \
                session.get(url, timeout=timeout, stream=True, allow_redirects=False) as resp:
            if resp.status_code != 200:
                raise DomainError("feed_url", "calendar.feed_unreachable",
                                  f"The calendar feed answered {resp.status_code}.")
            chunks, size = [], 0
            for chunk in resp.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise DomainError("feed_url", "calendar.feed_too_large",
                                      f"The calendar feed is larger than {max_bytes} bytes.")
                chunks.append(chunk)
    except net.UnsafeDestination:
        raise DomainError("feed_url", "calendar.feed_not_allowed",
                          "That address may not be fetched.") from None
    except net.Unresolvable:
        raise DomainError("feed_url", "calendar.feed_unreachable",
                          "The calendar feed's address does not resolve.") from None
    except requests.RequestException as exc:
        raise DomainError("feed_url", "calendar.feed_unreachable",
                          f"The calendar feed could not be fetched ({type(exc).__name__}).") \
            from None
    return b"".join(chunks).decode("utf-8", errors="replace")
