"""Alert digests: one short mail per merchant listing the problems not yet mentioned, sent to the
merchant's contact and the support team (Django's mail), never one mail per order."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from orders.models import Problem

MAX_LINES = 30


def digest_text(merchant_name: str, problems: list[Problem]) -> str:
    lines = [f"Orderbridge found {len(problems)} new problem(s) for {merchant_name}:", ""]
    for problem in problems[:MAX_LINES]:
        repeat = f" (seen {problem.count} times)" if problem.count > 1 else ""
        lines.append(f"- [{problem.reason_code}] {problem.message}{repeat}")
    if len(problems) > MAX_LINES:
        lines.append(f"- … and {len(problems) - MAX_LINES} more: see the issues list in the admin.")
    lines += ["", "Each stays listed under Problems in the admin until it is fixed, resolved or ignored."]
    return "\n".join(lines)


def alerts_send_digests() -> str:
    """Mail each merchant's new open problems once; mark them as mentioned."""
    pending = Problem.objects.filter(status=Problem.Status.OPEN, alerted_at__isnull=True).select_related("merchant")
    by_merchant: dict[int, list[Problem]] = defaultdict(list)
    for problem in pending.order_by("merchant_id", "first_seen_at"):
        by_merchant[problem.merchant_id].append(problem)
    sent = 0
    for problems in by_merchant.values():
        merchant = problems[0].merchant
        recipients = [a for a in [merchant.contact_email, *settings.SUPPORT_EMAILS] if a]
        if recipients:
            send_mail(
                subject=f"[Orderbridge] {len(problems)} problem(s) need attention for {merchant.name}",
                message=digest_text(merchant.name, problems),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=recipients,
            )
            sent += 1
        Problem.objects.filter(pk__in=[p.pk for p in problems]).update(alerted_at=timezone.now())
    return f"{sent} digest(s) sent for {sum(len(p) for p in by_merchant.values())} problem(s)"
