"""What of a platform's answer a message may quote (`connectors.answers`): pure functions, no HTTP."""

from __future__ import annotations

import pytest

from integrations.connectors.answers import (
    SUMMARY_LIMIT,
    json_error_summary,
    media_type,
    status_phrase,
    summary,
)

INTERNAL = "Payroll export for all staff"


def test_a_short_message_is_kept_as_it_is():
    assert summary("The API key is not valid for this site.") == "The API key is not valid for this site."


@pytest.mark.parametrize(
    "text",
    [
        f"<html><head><title>Admin</title></head><body>{INTERNAL}</body></html>",
        f"<!DOCTYPE html>{INTERNAL}",
        f"Error <b>{INTERNAL}</b>",
        f'<a href="/x">{INTERNAL}</a>',
    ],
)
def test_text_holding_markup_is_not_quoted_at_all(text):
    assert summary(text) == ""


def test_links_are_replaced_and_never_shown():
    said = summary("Denied: see http://10.0.0.5/admin/users?id=1 or www.intranet.example/help and ftp://x/y")

    assert said == "Denied: see [link] or [link] and [link]"


def test_control_format_and_bidi_characters_become_spaces():
    said = summary("bad\x00request\r\nline two\u202egnp.exe\u200b end\x1b[31m")

    assert said.isprintable()
    assert said == "bad request line two gnp.exe end [31m"


def test_a_long_text_is_cut_and_what_follows_never_shown():
    said = summary("Refused. " + "padding " * 40 + INTERNAL)

    assert len(said) <= SUMMARY_LIMIT
    assert said.endswith("…")
    assert INTERNAL not in said


def test_a_secret_is_redacted_before_the_cut_so_no_part_of_it_shows():
    secret = "sk_live_0123456789abcdef0123456789abcdef"
    text = "x" * (SUMMARY_LIMIT - 20) + f" token {secret}"

    said = summary(text, secrets=[secret])

    assert secret[:8] not in said
    assert len(said) <= SUMMARY_LIMIT


def test_field_errors_read_as_field_and_message():
    errors = {"reference_number": ["has already been taken"], "zip": ["can't be blank", "is invalid"]}

    assert summary(errors) == "reference_number: has already been taken; zip: can't be blank; is invalid"


def test_the_json_error_summary_takes_the_first_message_field():
    body = {"type": "Unauthorized", "message": "The access token is invalid", "error": "other"}

    assert json_error_summary(body) == "The access token is invalid"
    assert json_error_summary({"error_description": "", "errors": {"base": ["Location is archived"]}}) == (
        "base: Location is archived"
    )


@pytest.mark.parametrize("body", [None, "a plain string body", ["a", "list"], 42, {"data": INTERNAL}])
def test_a_body_that_is_not_a_json_error_object_gives_no_summary(body):
    assert json_error_summary(body) == ""


def test_a_message_field_holding_a_page_is_skipped_for_the_next_message_field():
    body = {"message": f"<html><body>{INTERNAL}</body></html>", "error": "server_error"}

    assert json_error_summary(body) == "server_error"


def test_the_status_phrase_is_the_standard_one():
    assert status_phrase(404) == "Not Found"
    assert status_phrase(502) == "Bad Gateway"
    assert status_phrase(599) == "HTTP 599"


@pytest.mark.parametrize(
    "header, expected",
    [
        ("text/html; charset=utf-8", "text/html"),
        ("Application/JSON", "application/json"),
        ("", ""),
        (None, ""),
        (f"text/html {INTERNAL}", ""),
        ("x" * 200 + "/html", ""),
    ],
)
def test_only_a_well_formed_media_type_is_named(header, expected):
    assert media_type(header) == expected
