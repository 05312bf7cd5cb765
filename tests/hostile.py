"""Hostile input for every page: the values, how a form or an address carries them, and the check
that none of it was stored.

Values go on the wire as bytes (percent-encoded), so that text no browser would send (a NUL, a lone
surrogate, bytes that are not UTF-8) reaches the server as an attacker would send it. A form is read
from the page as a browser would submit it (`HtmlForm`), then one of its fields, or every one,
is replaced by the hostile value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from hypothesis import example
from hypothesis import strategies as st

NUL = b"\x00"
LONE_SURROGATE = "\ud800".encode("utf-8", "surrogatepass")
NOT_UTF8 = b"\xff\xfe\xc3"
OVERLONG = b"x" * 5000
OUT_OF_RANGE = b"9" * 30
URLENCODED = "application/x-www-form-urlencoded"

FIXED_VALUES: list[bytes] = [
    NUL,
    b"A\x00B",
    LONE_SURROGATE,
    NOT_UTF8,
    OVERLONG,
    "é".encode() * 300,
    OUT_OF_RANGE,
    b"-" + OUT_OF_RANGE,
    b"2147483648",
    b"-2147483649",
    b"9223372036854775808",
    b"1e309",
    b"NaN",
    b"-Infinity",
    b"0x10",
    b"2024-02-30",
    b"99999-12-31",
    b"0000-00-00",
    b"2024-01-01 25:61:61",
    b"9999-12-31 23:59:59",
    b"=cmd|' /C calc'!A0",
    b"@SUM(1+1)",
    b"+1",
    b"-1",
    b'{"a": "\\u0000"}',
    b'{"a": "\\ud800"}',
    b"[1e999]",
    b"<script>alert(1)</script>",
    b"' OR '1'='1' --",
    b"../../../../etc/passwd",
    b"http://169.254.169.254/latest/meta-data/",
    b"javascript:alert(1)",
    "\u202e\ufeff\U0010ffff\uffff".encode(),
    b"\r\n\t ",
    b"",
]

hostile_values = st.one_of(
    st.sampled_from(FIXED_VALUES),
    st.text(max_size=30).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=12),
)


@dataclass(frozen=True)
class Assault:
    """One hostile value, put in every field and parameter or only in the one `pick` chooses."""

    value: bytes
    everywhere: bool
    pick: int = 0
    button: int = 0  # which of the form's submit buttons is pressed
    choice: int = 0  # 0: the selects as shown; else each other select on its option number `choice`


assaults = st.builds(
    Assault,
    value=hostile_values,
    everywhere=st.booleans(),
    pick=st.integers(0, 500),
    button=st.integers(0, 5),
    choice=st.integers(0, 20),
)
# Always tried, on every page: what the databases refuse and what no column holds, everywhere at once.
PINNED = [Assault(NUL, True), Assault(LONE_SURROGATE, True), Assault(OVERLONG, True), Assault(OUT_OF_RANGE, True)]


def pinned(test):
    """The test with each of the PINNED assaults as an explicit example."""
    for assault in PINNED:
        test = example(assault=assault)(test)
    return test


@dataclass
class HtmlForm:
    """A form as the page shows it: what a browser submits, and which controls it has."""

    method: str
    action: str  # a path, resolved against the page
    multipart: bool
    pairs: list[tuple[str, str]] = field(default_factory=list)  # submitted as shown
    controls: list[str] = field(default_factory=list)  # every named control, checked or not
    files: list[str] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons
    options: dict[str, list[str]] = field(default_factory=dict)  # each select's option values

    @property
    def targets(self) -> list[str]:
        """The controls a hostile value can go in (the CSRF token is the middleware's business)."""
        return [name for name in self.controls if name != "csrfmiddlewaretoken"]


class _FormsReader(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[HtmlForm] = []
        self.form: HtmlForm | None = None
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def _control(self, name: str) -> None:
        if name not in self.form.controls:
            self.form.controls.append(name)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            action = urlsplit(urljoin(self.page, a.get("action") or self.page)).path
            multipart = a.get("enctype", "") == "multipart/form-data"
            self.form = HtmlForm(method=a.get("method", "get").lower(), action=action, multipart=multipart)
            self.forms.append(self.form)
            return
        if tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
            return
        name = a.get("name")
        if self.form is None or not name:
            return
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        if tag in ("button", "input") and kind in ("submit", "image"):
            self.form.buttons.append((name, a.get("value", "")))
            return
        if kind in ("button", "reset"):
            return
        self._control(name)
        if tag == "input":
            if kind == "file":
                self.form.files.append(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.form.pairs.append((name, a.get("value") or "on"))
            else:
                self.form.pairs.append((name, a.get("value", "")))
        elif tag == "select":
            self._select = {"name": name, "multiple": "multiple" in a, "options": [], "selected": []}
        elif tag == "textarea":
            self._textarea = {"name": name, "text": ""}

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        elif tag == "option" and self._option is not None and self._select is not None:
            option, self._option = self._option, None
            value = option["value"] if option["value"] is not None else option["text"].strip()
            self._select["options"].append(value)
            if option["selected"]:
                self._select["selected"].append(value)
        elif tag == "select" and self._select is not None and self.form is not None:
            select, self._select = self._select, None
            self.form.options[select["name"]] = select["options"]
            chosen = select["selected"] or ([] if select["multiple"] else select["options"][:1])
            self.form.pairs.extend((select["name"], value) for value in chosen)
        elif tag == "textarea" and self._textarea is not None and self.form is not None:
            text = self._textarea["text"]
            self.form.pairs.append((self._textarea["name"], text[1:] if text.startswith("\n") else text))
            self._textarea = None


def html_forms(html: str, page: str) -> list[HtmlForm]:
    """Every form of the page at `page`, as a browser would submit it."""
    reader = _FormsReader(page)
    reader.feed(html)
    return reader.forms


def chosen(names: list[str], assault: Assault) -> list[str]:
    """The names the hostile value goes in: all of them, or the one the assault picks."""
    if not names:
        return []
    return list(names) if assault.everywhere else [names[assault.pick % len(names)]]


def with_hostile(pairs: list[tuple[str, Any]], names: list[str], assault: Assault) -> list[tuple[str, Any]]:
    """`pairs` with the hostile value in place of the values of the chosen names."""
    targets = chosen(names, assault)
    return [(name, value) for name, value in pairs if name not in targets] + [(n, assault.value) for n in targets]


def with_choices(form: HtmlForm, pairs: list[tuple[str, Any]], assault: Assault) -> list[tuple[str, Any]]:
    """The form's selects that hold no hostile value on the option the assault chooses (a valid
    value other than the one shown: another action, platform, status...)."""
    if not assault.choice:
        return pairs
    targets = set(chosen(form.targets, assault))
    switched = {
        name: options[(assault.choice - 1) % len(options)]
        for name, options in form.options.items()
        if options and name not in targets
    }
    kept = [(name, value) for name, value in pairs if name not in switched]
    return kept + list(switched.items())


def address(path: str, pairs: list[tuple[str, Any]]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path


def hostile_csv(value: bytes) -> bytes:
    """A file for an import: the value in every column of a row, and alone on the last line."""
    return b"cart_sku,warehouse_sku,note\r\n" + b",".join([value] * 3) + b"\r\n" + value


def submit(client: Client, form: HtmlForm, assault: Assault):
    """Post (or get) the form with the hostile value in its fields, pressing the button the assault picks."""
    pairs = with_choices(form, with_hostile(form.pairs, form.targets, assault), assault)
    if form.buttons:
        pairs.append(form.buttons[assault.button % len(form.buttons)])
    if form.method != "post":
        return client.get(address(form.action, pairs))
    if not form.multipart:
        return client.post(form.action, urlencode(pairs), content_type=URLENCODED)
    data: dict[str, Any] = {}
    for name, value in pairs:  # multipart text as a browser sends it, UTF-8; the file carries the raw value
        if name not in form.files:
            data.setdefault(name, []).append(value.decode("utf-8", "replace") if isinstance(value, bytes) else value)
    in_files = set(chosen(form.targets, assault)) & set(form.files)
    for name in form.files:
        data[name] = SimpleUploadedFile("hostile.csv", hostile_csv(assault.value) if name in in_files else b"")
    return client.post(form.action, data)


def submit_as_shown(client: Client, form: HtmlForm):
    """The form posted as the page shows it with its first button: what a person who changes nothing sends."""
    return client.post(form.action, urlencode([*form.pairs, *form.buttons[:1]]), content_type=URLENCODED)


def assert_refused_politely(response) -> None:
    """No server error; a refusal says what was wrong."""
    assert response.status_code < 500, response.status_code
    if response.status_code == 400:
        assert response.content.strip(), "a 400 without a word for the person who sent it"


def _leaves(value: Any):
    """The scalars of a value, and the keys and items of JSON in it."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _leaves(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _refused_by_postgresql(leaf: Any) -> bool:
    if not isinstance(leaf, str):
        return False
    if "\x00" in leaf:
        return True
    try:
        leaf.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unstorable_rows() -> list[str]:
    """Every stored value PostgreSQL would have refused: a NUL, a lone surrogate, text longer than
    its column (SQLite takes these, so it is checked here; JSON it checks itself)."""
    found = []
    for model in apps.get_models():
        fields = model._meta.concrete_fields
        for row in model._base_manager.values_list(*(f.attname for f in fields)):
            for f, value in zip(fields, row, strict=True):
                where = f"{model._meta.label}.{f.name}"
                if any(_refused_by_postgresql(leaf) for leaf in _leaves(value)):
                    found.append(f"{where}: {value!r:.80}")
                elif (
                    isinstance(f, models.CharField)
                    and isinstance(value, str)
                    and len(value) > (f.max_length or math.inf)
                ):
                    found.append(f"{where}: {len(value)} characters, the column holds {f.max_length}")
    return found
