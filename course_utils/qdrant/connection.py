"""Connecting to Qdrant: a server when ``QDRANT_URL`` is set, else the embedded local mode.

- :func:`connect` opens a ``QdrantClient``: a Qdrant server or cluster when the
  environment variable ``QDRANT_URL`` is set (with ``QDRANT_API_KEY`` if set),
  otherwise Qdrant's embedded local mode, in memory or in a folder. It prints which,
  and gives up on a server that does not answer within ``timeout`` seconds.
- :func:`describe_connection` and :func:`is_embedded` say which kind a client is.
- :func:`collection_name` gives a collection a per-student prefix on a shared server
  (from ``QDRANT_COLLECTION_PREFIX``).

>>> collection_name("course")  # without QDRANT_COLLECTION_PREFIX
'course'
"""

from __future__ import annotations

import os
import threading

from qdrant_client import QdrantClient

__all__ = ["collection_name", "connect", "describe_connection", "is_embedded"]


def describe_connection(client: QdrantClient) -> str:
    """Where ``client`` keeps its data, in words, e.g. ``"the Qdrant server at http://localhost:6333"``."""
    options = client.init_options
    location = options.get("location")
    url = options.get("url") or (location if location not in (None, ":memory:") else None)
    if url:
        return f"the Qdrant server at {url}"
    if options.get("host"):
        return f"the Qdrant server at {options['host']}:{options.get('port')}"
    if options.get("path"):
        return f"Qdrant's embedded local mode (stored in {options['path']})"
    return "Qdrant's embedded local mode (in memory)"


def is_embedded(client: QdrantClient) -> bool:
    """True when ``client`` runs Qdrant's embedded local mode (in memory or in a folder), False for a server."""
    options = client.init_options
    return options.get("location") == ":memory:" or bool(options.get("path"))


def _first_answer(client: QdrantClient, timeout: float) -> BaseException | None:
    """Ask the server for its collections; the error it raised, None if it answered.

    The question runs in a background thread that is given up after ``timeout``
    seconds, so no network problem (a host that never answers, slow DNS) can block.
    """
    outcome: list[BaseException | None] = []

    def ask() -> None:
        try:
            client.get_collections()
            outcome.append(None)
        except Exception as error:  # noqa: BLE001 - reported to the caller
            outcome.append(error)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else TimeoutError(f"no answer within {timeout:g} s")


def _connect_to_server(url: str, api_key: str | None, timeout: float) -> QdrantClient:
    """A client for the server at ``url``, checked to answer within ``timeout`` seconds."""
    import httpx  # qdrant-client talks to servers through it

    try:
        # check_compatibility=False: that check would warn later, from a thread, in some other cell
        client = QdrantClient(url=url, api_key=api_key, timeout=timeout, check_compatibility=False)
    except Exception as error:  # noqa: BLE001 - an unknown scheme, a malformed host...
        raise ConnectionError(f"QDRANT_URL={url!r} is not an address qdrant-client can use ({error}); "
                              "correct it (e.g. http://localhost:6333), or unset it to use Qdrant's "
                              "embedded local mode") from error
    error = _first_answer(client, timeout)
    if error is None:
        return client
    client.close()
    cause = getattr(error, "source", None) or error  # qdrant-client wraps httpx's errors
    status = getattr(error, "status_code", None)
    if status in (401, 403):
        what = f"it refused the request (HTTP {status}): check QDRANT_API_KEY"
    elif isinstance(cause, (TimeoutError, httpx.TimeoutException)):
        what = f"it did not answer within {timeout:g} seconds"
    elif isinstance(cause, httpx.ConnectError):
        what = f"could not connect ({cause})"
    else:
        what = f"the request failed: {cause!r}"
    raise ConnectionError(
        f"Cannot use the Qdrant server at {url} (from the environment variable QDRANT_URL): {what}.\n"
        "To fix it, do one of these:\n"
        "  1. start the server (for example `docker run -p 6333:6333 qdrant/qdrant`) and run this again;\n"
        "  2. correct QDRANT_URL (and QDRANT_API_KEY) if they point to the wrong place;\n"
        "  3. unset QDRANT_URL to use Qdrant's embedded local mode, which needs no server.") from error


def connect(path: str | os.PathLike | None = None, *, timeout: float = 5.0) -> QdrantClient:
    """Open a Qdrant client: a server if ``QDRANT_URL`` is set, else the embedded local mode.

    Prints one line saying which was chosen.

    Args:
        path: folder for the embedded local mode to store collections in (they
            persist across restarts); None keeps them in memory. Ignored with a server.
        timeout: seconds the server has to answer a first request (also the
            client's timeout for every later request to it).

    Returns:
        a ``QdrantClient``; both kinds answer the same calls.

    Raises:
        ConnectionError: ``QDRANT_URL`` is set but is not a usable address, or the
            server there does not answer within ``timeout`` seconds, or refuses the
            API key; the message names the URL and what to do.
    """
    url = os.environ.get("QDRANT_URL", "").strip()
    if url:
        client = _connect_to_server(url, os.environ.get("QDRANT_API_KEY") or None, timeout)
    elif path is not None:
        client = QdrantClient(path=str(path))
    else:
        client = QdrantClient(":memory:")
    hint = "" if url else "; set QDRANT_URL to use a server"
    print(f"Using {describe_connection(client)}{hint}.")
    return client


def collection_name(base: str) -> str:
    """The name a lesson should give its collection ``base``.

    On a Qdrant server that a whole class shares, every student needs collections of
    their own (recreating a collection deletes the old one). Set the environment
    variable ``QDRANT_COLLECTION_PREFIX`` (for example to your user name) and this
    returns ``"<prefix>-<base>"``; without it, ``base`` unchanged.

    Raises:
        ValueError: ``base`` is empty.
    """
    if not base:
        raise ValueError("base must be a non-empty collection name")
    prefix = os.environ.get("QDRANT_COLLECTION_PREFIX", "").strip()
    return f"{prefix}-{base}" if prefix else base

