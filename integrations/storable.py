"""Text the databases cannot store, refused where it comes in rather than failing at the query.

PostgreSQL refuses a NUL character in any text (psycopg raises before sending the query), and
neither PostgreSQL nor SQLite takes a lone surrogate, which is not encodable as UTF-8. Such a value
in a search, a filter or an imported file would otherwise end as a server error; Django's form
fields already refuse NUL, this rule serves the inputs that do not go through a form field.
"""

from __future__ import annotations

NUL = "\x00"


def unstorable_reason(text: str) -> str | None:
    """Why `text` cannot be stored or searched for as text, for a person; None when it can."""
    if NUL in text:
        return "contains a NUL character (code 0), which text cannot hold"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains characters that are not valid Unicode text"
    return None
