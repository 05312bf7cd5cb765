"""Create (or link) a user who signs in to the merchant pages of one merchant."""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from integrations.models import Merchant, MerchantMembership


class Command(BaseCommand):
    help = "Create a merchant user (or link an existing user) for the merchant pages at /merchant/."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--merchant", required=True, help="The merchant's slug.")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", help="Default: asked for (never echoed). Only for new users.")

    def handle(self, *args, username: str, merchant: str, email: str, password: str | None, **options) -> None:
        try:
            target = Merchant.objects.get(slug=merchant)
        except Merchant.DoesNotExist:
            raise CommandError(f"No merchant with slug {merchant!r}.") from None
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            password = password or getpass.getpass(f"Password for {username}: ")
            user = User(username=username, email=email)
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            user.set_password(password)
            user.save()
            self.stdout.write(f"Created user {username}.")
        membership, _ = MerchantMembership.objects.update_or_create(user=user, defaults={"merchant": target})
        self.stdout.write(f"{username} signs in at /merchant/login/ and sees {membership.merchant}.")
