"""The public webhook endpoint: `POST /hooks/<platform>/<token>/`, answered from our database alone.

No session, no CSRF token (the platform has neither): the signature is the authentication. The raw
body is read at most to the platform's size limit (a larger one is 413, nothing stored) and handed
to `sync.webhooks.inbox`; the answer is a short plain text that never repeats the body.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sync.webhooks.inbox import delivery_header, max_body_bytes, notification_receive, signature_header


def _answer(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def webhook_receive(request: HttpRequest, platform: str, token: str) -> HttpResponse:
    limit = max_body_bytes(platform)
    if not limit:
        return _answer(404, "Unknown webhook address.")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _answer(400, "Bad Content-Length.")
    if declared > limit:
        return _answer(413, f"The body is larger than {limit} bytes.")
    body = request.read(limit + 1)
    if len(body) > limit:
        return _answer(413, f"The body is larger than {limit} bytes.")
    delivery = delivery_header(platform)
    receipt = notification_receive(
        platform=platform,
        token=token,
        body=body,
        signature=request.headers.get(signature_header(platform), ""),
        delivery_id=request.headers.get(delivery, "") if delivery else "",
    )
    return _answer(receipt.status, receipt.message)
