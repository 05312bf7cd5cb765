"""`manage.py rotate_credentials_key`: re-encrypt every stored credential with the first `FERNET_KEYS` key.

Key rotation (see docs/security.md): put the new key first in `FERNET_KEYS` and keep the old ones after it,
restart every process, run this command, and retire the old keys only once it reports that every value
was re-encrypted and verified. Each row is re-encrypted under a row lock in its own transaction, so a
token refresh stored meanwhile is neither lost nor overwritten with stale credentials; running it again
is harmless. A value that no key in `FERNET_KEYS` decrypts is left untouched and named, and the command
exits non-zero: the key that wrote it is missing from the list, and must not be retired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from fernet_fields import EncryptedField

from integrations.fields import Undecryptable


@dataclass
class RotationResult:
    reencrypted: dict[str, int] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)  # "app.model #pk field: why", never a value


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedField]]:
    """Every concrete model field that fernet_fields encrypts."""
    return [
        (model, f) for model in apps.get_models() for f in model._meta.concrete_fields if isinstance(f, EncryptedField)
    ]


def _raw_value(model: type[models.Model], f: EncryptedField, pk: object) -> bytes | None:
    """The stored token as the database holds it (bypassing decryption)."""
    table, column, key = (connection.ops.quote_name(n) for n in (model._meta.db_table, f.column, model._meta.pk.column))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE {key} = %s", [pk])  # noqa: S608 - quoted names only
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    return bytes(row[0]) if not isinstance(row[0], str) else row[0].encode()


def credentials_reencrypt(*, progress=None) -> RotationResult:
    """Re-encrypt each encrypted value with the first key, then check the first key alone reads it."""
    result = RotationResult()
    for model, f in encrypted_fields():
        label = f"{model._meta.label_lower}.{f.name}"
        primary = Fernet(f.fernet_keys[0])
        count = 0
        for pk in list(model._default_manager.order_by("pk").values_list("pk", flat=True)):
            where = f"{model._meta.label_lower} #{pk} {f.name}"
            try:
                with transaction.atomic():
                    rows = model._default_manager.select_for_update().filter(pk=pk)
                    value = rows.values_list(f.attname, flat=True).first()
                    if value is None:
                        continue  # deleted meanwhile, or NULL: nothing to re-encrypt
                    if isinstance(value, Undecryptable):
                        raise InvalidToken
                    rows.update(**{f.attname: value})
            except InvalidToken:
                result.unreadable.append(f"{where}: no key in FERNET_KEYS decrypts it (left as is)")
                continue
            raw = _raw_value(model, f, pk)
            try:
                if raw is not None:
                    primary.decrypt(raw)
            except InvalidToken:
                result.unreadable.append(f"{where}: re-encrypted, but the first key alone does not read it back")
                continue
            count += 1
            if progress and count % 100 == 0:
                progress(f"{label}: {count} re-encrypted")
        result.reencrypted[label] = count
    return result


class Command(BaseCommand):
    help = "Re-encrypt every stored credential with the first key of FERNET_KEYS (run after putting a new key first)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object (for machines).")

    def handle(self, *args, **options):
        progress = None if options["json"] else (lambda text: self.stderr.write(f"  … {text}"))
        result = credentials_reencrypt(progress=progress)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "reencrypted": result.reencrypted,
                        "unreadable": result.unreadable,
                        "failed": len(result.unreadable),
                    }
                )
            )
        else:
            for label, count in result.reencrypted.items():
                self.stdout.write(f"{label}: {count} value(s) re-encrypted with the first key and verified")
            for where in result.unreadable:
                self.stdout.write(self.style.ERROR(f"  ! {where}"))
            if not result.unreadable:
                self.stdout.write(self.style.SUCCESS("Done: the keys after the first one can now be retired."))
        if result.unreadable:
            raise CommandError(
                f"{len(result.unreadable)} value(s) are not readable with the first key alone: keep every old key "
                "until they are re-entered or the missing key is added back."
            )
