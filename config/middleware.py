"""Refuse, with a 400 a person can read, request addresses the databases cannot search for.

Searches, list filters and pagination read the query string directly (the admin's list filters,
the merchant pages' search): a NUL character there reached PostgreSQL, which refuses it, and the
page answered with a server error. Checked here once, before any view, for every page; a value a
form reads is checked again by the form. Cookies that carry such text are dropped (a session
cookie is looked up in the database), so the visitor is simply not signed in.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

from integrations.storable import unstorable_reason


def bad_request(problem: str) -> HttpResponseBadRequest:
    """A 400 that says what was wrong, as plain text (nothing of it is read as HTML)."""
    return HttpResponseBadRequest(
        f"Bad request: {problem} Correct the address or the form and try again.\n",
        content_type="text/plain; charset=utf-8",
    )


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
            return bad_request(problem)
        return self.get_response(request)
