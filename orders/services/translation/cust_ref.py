"""The short order reference (`cust_ref`) the warehouse sees.

It is derived from the order (never random), fits the warehouse's length and character set, and
is unique per warehouse connection: when the cleaned order number is too long or already taken,
its tail is kept and a short hash of the order's identity makes it unique again.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterator
from functools import cache

_ALPHABET_CANDIDATES = string.digits + string.ascii_uppercase + string.ascii_lowercase


@cache
def allowed_pattern(charset: str) -> re.Pattern[str]:
    try:
        return re.compile(f"[{charset}]")
    except re.error:
        return re.compile("[A-Za-z0-9]")


def clean(text: str, charset: str) -> str:
    pattern = allowed_pattern(charset)
    return "".join(ch for ch in text if pattern.fullmatch(ch))


@cache
def _hash_alphabet(charset: str) -> str:
    pattern = allowed_pattern(charset)
    alphabet = "".join(ch for ch in _ALPHABET_CANDIDATES if pattern.fullmatch(ch))
    upper = "".join(ch for ch in alphabet if not ch.islower())
    # Prefer one case: references are often compared case-insensitively by warehouses.
    return upper if len(upper) >= 10 else alphabet


def _hash(identity: str, alphabet: str, length: int) -> str:
    number = int.from_bytes(hashlib.sha256(identity.encode()).digest()[:12], "big")
    out = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        out.append(alphabet[index])
    return "".join(out)


def cust_ref_candidates(
    *, order_number: str, identity: str, max_length: int, charset: str, prefix: str = ""
) -> Iterator[str]:
    """Yield references to try in order: the plain cleaned number first, then hashed variants.

    `identity` is stable for the order (cart connection and cart order id), so the same order
    always gets the same reference.
    """
    alphabet = _hash_alphabet(charset)
    if not alphabet:
        raise ValueError(f"the character set {charset!r} allows no letters or digits")
    prefix = clean(prefix, charset)
    room = max(max_length - len(prefix), 1)
    base = clean(order_number, charset)
    if base and len(base) <= room:
        yield prefix + base
    separator = "-" if allowed_pattern(charset).fullmatch("-") else ""
    hash_length = 4 if room >= 8 else max(1, min(room, 4))
    for attempt in range(50):
        suffix = _hash(f"{identity}#{attempt}", alphabet, hash_length + attempt // 10)
        keep = room - len(suffix) - (len(separator) if base else 0)
        head = base[-keep:] if base and keep > 0 else ""
        yield (prefix + head + (separator if head else "") + suffix)[: max_length or None]
