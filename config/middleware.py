"""Refuse, with a 400 a person can read, request addresses the databases cannot search for.

Searches, list filters and pagination read the query string directly (the admin's list filters,
the merchant pages' search): a NUL character there reached PostgreSQL, which refuses it, and the
page answered with a server error. Checked here once, before any view, for every page; a value a
form reads is checked again by the form. Cookies that carry such text are dropped (a session
cookie is looked up in the database), so the visitor is simply not signed in.

The admin's date drill-down (`<field>__year`, `__month`, `__day`) computes the next year, month
or day in Python: a year past 9998 or a huge number overflowed there, so those are refused too.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from integrations.storable import unstorable_reason

# The admin's date drill-down parameters and the values its arithmetic can take.
DATE_PART_RANGES = {"__year": (1, 9998), "__month": (1, 12), "__day": (1, 31)}


def address_problem(request: HttpRequest) -> str | None:
    """What is wrong with the request's path or query string, for a person; None when nothing is."""
    if reason := unstorable_reason(request.path_info):
        return f"the address {reason}."
    for name, values in request.GET.lists():
        if reason := unstorable_reason(name):
            return f"a parameter name in the address {reason}."
        for value in values:
            if reason := unstorable_reason(value):
                return f"the parameter {name!r} in the address {reason}."
            if problem := _date_part_problem(name, value):
                return problem
    return None


def _date_part_problem(name: str, value: str) -> str | None:
    for suffix, (low, high) in DATE_PART_RANGES.items():
        if not name.endswith(suffix):
            continue
        try:
            number = int(value)
        except ValueError:
            return None  # not a number: the admin refuses it itself
        if not low <= number <= high:
            return f"the parameter {name!r} in the address must be between {low} and {high}."
    return None


class UnstorableInputMiddleware:
    """Answer 400 with the reason for an address the databases cannot search for; drop such cookies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.COOKIES = {
            name: value
            for name, value in request.COOKIES.items()
            if unstorable_reason(name) is None and unstorable_reason(value) is None
        }
        if problem := address_problem(request):
            return HttpResponseBadRequest(
                f"Bad request: {problem} Correct the address and try again.\n", content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
