"""Who changed what, outside an order's own history: one Django admin `LogEntry` per change a person
made to a connection or to a mapping saved on its own page, with the user.

Staff read these rows on the admin's "History" page of the object; the merchant's connection page
shows a connection's recent ones (`connection_history`). A message names what changed by the field's
label and never holds a value of a credential: "credentials changed (API key)", not the key.
"""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.forms import BaseForm

from integrations.models import Connection

__all__ = [
    "ADDITION",
    "CHANGE",
    "DELETION",
    "change_record",
    "connection_change_record",
    "connection_form_changes",
    "connection_history",
    "mapping_change_record",
]


def change_record(*, obj: Model, user: AbstractBaseUser | None, message: str, flag: int = CHANGE) -> LogEntry | None:
    """One history row on `obj` for what `user` did (nothing when no person did it). A deletion is
    recorded before the row goes: the entry keeps the object's key and name."""
    if user is None or not user.is_authenticated:
        return None
    return LogEntry.objects.log_actions(
        user_id=user.pk, queryset=[obj], action_flag=flag, change_message=message, single_object=True
    )


def connection_change_record(
    *, connection: Connection, user: AbstractBaseUser | None, message: str, flag: int = CHANGE
) -> LogEntry | None:
    """One row on the connection's history: what `user` changed on it (or added, with ADDITION)."""
    return change_record(obj=connection, user=user, message=message, flag=flag)


def mapping_change_record(
    *, mapping: Model, connection: Connection, user: AbstractBaseUser | None, message: str, flag: int = CHANGE
) -> LogEntry | None:
    """A mapping saved or deleted on its own page: one row on the mapping (the admin's History of
    it) and one on its connection's history (`message` names the mapping: its row may be gone)."""
    change_record(obj=mapping, user=user, message=message, flag=flag)
    return connection_change_record(connection=connection, user=user, message=message)


def connection_form_changes(*, form: BaseForm, created: bool = False) -> str:
    """What a saved connection form changed (or, `created`, set), by field label: a connection's own
    fields and settings by name, its credentials only as "credentials changed" with their labels,
    never a value."""
    verb = "set" if created else "changed"
    config_fields = getattr(form, "config_fields", {})
    named, credentials = [], []
    for name in form.changed_data:
        field = form.fields.get(name)
        if field is None:
            continue
        label = str(field.label or name.replace("_", " ")).strip()
        if name == "active":
            named.append("turned on" if form.cleaned_data.get("active") else "turned off (inactive)")
        elif name in config_fields and config_fields[name][2] == "credential":
            credentials.append(label)
        else:
            named.append(f"{label} {verb}")
    if credentials:
        named.append(f"credentials {verb} ({', '.join(credentials)})")
    return "; ".join(named) if named else "saved with no change"


def connection_history(*, connection: Connection, limit: int = 20) -> list[LogEntry]:
    """The connection's latest history rows, newest first, with their users."""
    content_type = ContentType.objects.get_for_model(connection, for_concrete_model=False)
    return list(
        LogEntry.objects.filter(content_type=content_type, object_id=str(connection.pk))
        .select_related("user")
        .order_by("-action_time", "-pk")[:limit]
    )
