"""One merchant per row: a row that links merchant-owned rows links rows of one merchant only.

A model that links merchant-owned rows (a cart connection and its warehouse, an order and its
cart and warehouse...) names those foreign keys in `tenancy_fields`, the row's own merchant first;
`MerchantScoped` then refuses a row whose links belong to another merchant:

- in model validation (`full_clean`, which every ModelForm runs: the admin and the merchant pages
  show the refusal on the field),
- in `save()`, so that `objects.create()`, `obj.save()` in a shell, the services and any later
  API are refused as well (`CrossMerchantLink`, a `ValidationError`),
- for rows moving to another merchant: a connection (or order) whose merchant changes while rows
  of its merchant still refer to it is refused on its `merchant` field,
- in `rows_insert` (the bulk writer of the sync), for each batch.

A check in `save()` rather than a database constraint: a composite foreign key (row id, merchant
id) is not something Django models express, and triggers would need one dialect per database. What
bypasses `save()` bypasses the check: `QuerySet.update()`, `bulk_create()`/`bulk_update()`, raw SQL.
The sync services therefore check again before they act (`CartConnection.resolved_warehouse`,
`Order.destination_warehouse`), and `manage.py tenancy_audit` lists rows that break the rule.

`save()` checks only what it writes: the links changed since the row was read (all of them for a
new row or a new merchant), with related rows already in memory used as they are and the others
read in one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, router
from django.db.models import DEFERRED, Q, Subquery

# Ids per query when a batch is checked (well under SQLite's parameter limit).
LOOKUP_CHUNK = 500


class CrossMerchantLink(ValidationError):
    """A row links rows of two merchants. Refused on save; the sync services refuse to act on one."""

    def __str__(self) -> str:
        return " ".join(self.messages)


def _is_merchant(model: type[models.Model]) -> bool:
    return model._meta.label == "integrations.Merchant"


def _article(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def link_message(model: type[models.Model], field: models.ForeignKey, pk: Any) -> str:
    """Why a link is refused, for a person (ids only: never another merchant's name)."""
    target = field.related_model._meta
    return (
        f"{str(target.verbose_name).capitalize()} #{pk} belongs to another merchant. "
        f"{_article(str(model._meta.verbose_name)).capitalize()} can only use "
        f"{target.verbose_name_plural} of its own merchant."
    )


class MerchantScoped(models.Model):
    """Refuses rows whose `tenancy_fields` name rows of more than one merchant (see the module)."""

    # Foreign keys to Merchant or to merchant-owned rows (models with a `merchant` field): the row's
    # own merchant first, then what it links.
    tenancy_fields: Sequence[str] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        changed = self._tenancy_changed(kwargs.get("update_fields"))
        if changed:
            errors = self.tenancy_errors(using=kwargs.get("using"), only=changed)
            if errors:
                raise CrossMerchantLink(errors)
        super().save(*args, **kwargs)
        self._tenancy_stored = self._tenancy_values()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._tenancy_stored = instance._tenancy_values()
        return instance

    def _tenancy_values(self) -> dict[str, Any]:
        return {f.attname: self.__dict__.get(f.attname, DEFERRED) for f in tenancy_field_objects(type(self))}

    def _tenancy_changed(self, update_fields: Iterable[str] | None) -> list[models.ForeignKey]:
        """The tenancy fields this save writes with a value other than the stored one."""
        fields = tenancy_field_objects(type(self))
        if update_fields is not None:
            names = set(update_fields)
            fields = [f for f in fields if f.name in names or f.attname in names]
        stored = getattr(self, "_tenancy_stored", None)
        if stored is None:
            return list(fields)
        current = self._tenancy_values()
        return [f for f in fields if current[f.attname] is not DEFERRED and current[f.attname] != stored[f.attname]]

    def tenancy_errors(
        self, *, using: str | None = None, only: Iterable[models.ForeignKey] | None = None, exclude=()
    ) -> dict[str, list[str]]:
        """Every link of this row to another merchant's row, as {field: [message]}.

        `only`: check these fields against the row's merchant (all when None). An error goes on the
        link's field, or on the merchant's when the link is in `exclude` (not on the form), or on
        the whole row when both are."""
        using = using or router.db_for_write(type(self), instance=self)
        fields = tenancy_field_objects(type(self))
        if only is not None and fields[0] not in only:
            fields = [fields[0], *(f for f in fields[1:] if f in only)]
        merchants = _merchant_ids(self, fields, using)
        owner = next((f for f in fields if merchants[f.name] is not None), None)
        errors: dict[str, list[str]] = {}
        for field in fields:
            merchant_id = merchants[field.name]
            if owner is None or field is owner or merchant_id is None or merchant_id == merchants[owner.name]:
                continue
            key = next((f.name for f in (field, owner) if f.name not in exclude), NON_FIELD_ERRORS)
            errors.setdefault(key, []).append(link_message(type(self), field, getattr(self, field.attname)))
        if merchants_moved(self, using):
            message = _move_refusal(self, merchants[fields[0].name], using)
            if message:
                key = fields[0].name if fields[0].name not in exclude else NON_FIELD_ERRORS
                errors.setdefault(key, []).append(message)
        return errors

    def full_clean(self, exclude=None, validate_unique=True, validate_constraints=True) -> None:
        """Model validation, and every link of one merchant (on the field a form shows, see
        `tenancy_errors`)."""
        errors: dict = {}
        try:
            super().full_clean(exclude, validate_unique, validate_constraints)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        tenancy = self.tenancy_errors(exclude=set(exclude or ()))
        if tenancy:
            errors = ValidationError(tenancy).update_error_dict(errors)
        if errors:
            raise ValidationError(errors)


@cache
def tenancy_field_objects(model: type[models.Model]) -> list[models.ForeignKey]:
    return [model._meta.get_field(name) for name in model.tenancy_fields]


_NOT_IN_MEMORY = object()


def _merchant_in_memory(instance: models.Model, field: models.ForeignKey) -> Any:
    """The merchant of the row `field` links `instance` to, when memory tells (the link itself for a
    merchant, None for no link, the related row's when it is loaded); else `_NOT_IN_MEMORY`."""
    value = getattr(instance, field.attname)
    if value is None or _is_merchant(field.related_model):
        return value
    related = field.get_cached_value(instance, default=None) if field.is_cached(instance) else None
    return related.merchant_id if related is not None and related.pk == value else _NOT_IN_MEMORY


def _merchant_ids(instance: models.Model, fields: list[models.ForeignKey], using: str) -> dict[str, int | None]:
    """The merchant of each field's row: from the related rows in memory, the rest in one query."""
    found: dict[str, int | None] = {}
    pending: list[tuple[models.ForeignKey, Any]] = []
    for field in fields:
        merchant_id = _merchant_in_memory(instance, field)
        if merchant_id is _NOT_IN_MEMORY:
            pending.append((field, getattr(instance, field.attname)))
        else:
            found[field.name] = merchant_id
    if pending:
        found.update(_merchant_ids_read(pending, using))
    return found


def _merchant_ids_read(pending: list[tuple[models.ForeignKey, Any]], using: str) -> dict[str, int | None]:
    """One query: the first row's merchant, and the others' as scalar subqueries beside it."""
    (first, first_value), rest = pending[0], pending[1:]
    others = {
        f"tenancy_{i}": Subquery(
            field.related_model._base_manager.filter(pk=value).values("merchant_id")[:1],
            output_field=models.IntegerField(),
        )
        for i, (field, value) in enumerate(rest)
    }
    row = (
        first.related_model._base_manager.using(using)
        .filter(pk=first_value)
        .annotate(**others)
        .values_list("merchant_id", *others)
        .first()
    )
    if row is None:  # no such row: the database refuses the link itself
        return {first.name: None, **(_merchant_ids_read(rest, using) if rest else {})}
    return {field.name: merchant_id for (field, _), merchant_id in zip(pending, row, strict=True)}


def merchants_moved(instance: models.Model, using: str) -> bool:
    """Whether this stored row's own merchant (its first tenancy field, a Merchant) is changing."""
    fields = tenancy_field_objects(type(instance))
    if not fields or not _is_merchant(fields[0].related_model) or instance.pk is None:
        return False
    stored = getattr(instance, "_tenancy_stored", None)
    attname = fields[0].attname
    if stored is not None:
        before = stored[attname]
        if before is DEFERRED:
            before = type(instance)._base_manager.using(using).filter(pk=instance.pk).values_list(attname).first()
            before = before[0] if before else None
    else:
        row = type(instance)._base_manager.using(using).filter(pk=instance.pk).values_list(attname).first()
        before = row[0] if row else None
    return before is not None and before != getattr(instance, attname)


@cache
def _referring_fields(model: type[models.Model]) -> list[tuple[type[MerchantScoped], models.ForeignKey]]:
    """(model, field) of every tenancy field, in any model, that refers to `model`'s rows."""
    return [
        (other, field)
        for other in apps.get_models()
        if issubclass(other, MerchantScoped)
        for field in tenancy_field_objects(other)
        if field.related_model is model
    ]


def _merchant_path(field: models.ForeignKey) -> str:
    return field.name if _is_merchant(field.related_model) else f"{field.name}__merchant"


def _move_refusal(instance: MerchantScoped, merchant_id: int | None, using: str) -> str:
    """Why this row may not move to `merchant_id`: rows of another merchant refer to it, or ""."""
    kinds = []
    for other, field in _referring_fields(type(instance)):
        foreign = Q()
        for other_field in tenancy_field_objects(other):
            if other_field is not field:
                foreign |= Q(**{f"{other_field.name}__isnull": False}) & ~Q(
                    **{_merchant_path(other_field): merchant_id}
                )
        if other._base_manager.using(using).filter(foreign, **{field.name: instance.pk}).exists():
            kinds.append(str(other._meta.verbose_name_plural))
    if not kinds:
        return ""
    return (
        f"This {instance._meta.verbose_name} cannot move to another merchant: {', '.join(sorted(set(kinds)))} of "
        f"its merchant refer to it. Create a new {instance._meta.verbose_name} for the other merchant instead."
    )


def tenancy_check_many(model: type[models.Model], objs: Sequence[models.Model], *, using: str) -> None:
    """`save()`'s check for rows stored in bulk (new rows): one query per field and 500 rows, at
    most, for the related rows not already in memory. Raises CrossMerchantLink for the first bad row."""
    if not issubclass(model, MerchantScoped) or not objs:
        return
    fields = tenancy_field_objects(model)
    merchant_of: dict[str, dict[Any, int | None]] = {}
    for field in fields:
        known: dict[Any, int | None] = {}
        wanted = set()
        for obj in objs:
            value, merchant_id = getattr(obj, field.attname), _merchant_in_memory(obj, field)
            if merchant_id is _NOT_IN_MEMORY:
                wanted.add(value)
            else:
                known[value] = merchant_id
        ids = sorted(wanted - set(known))
        for start in range(0, len(ids), LOOKUP_CHUNK):
            rows = field.related_model._base_manager.using(using).filter(pk__in=ids[start : start + LOOKUP_CHUNK])
            known.update(rows.values_list("pk", "merchant_id"))
        merchant_of[field.name] = known
    for obj in objs:
        merchants = [(f, merchant_of[f.name].get(getattr(obj, f.attname))) for f in fields]
        present = [(f, m) for f, m in merchants if m is not None]
        for field, merchant_id in present[1:]:
            if merchant_id != present[0][1]:
                raise CrossMerchantLink({field.name: [link_message(model, field, getattr(obj, field.attname))]})


def tenancy_violations(model: type[MerchantScoped], *, using: str = "default") -> models.QuerySet:
    """The stored rows of `model` that link rows of more than one merchant (made before the rule,
    or by something that bypasses `save()`)."""
    owner, *links = tenancy_field_objects(model)
    condition = Q(pk__in=[])
    for field in links:
        condition |= Q(**{f"{field.name}__isnull": False}) & ~Q(
            **{_merchant_path(field): models.F(_merchant_path(owner))}
        )
    return model._base_manager.using(using).filter(condition)


def tenancy_audit(*, using: str = "default", sample: int = 20) -> dict[str, dict[str, Any]]:
    """Per model (`app.model`): how many stored rows link rows of two merchants, and the first
    `sample` of them, each with what is wrong."""
    found: dict[str, dict[str, Any]] = {}
    for model in apps.get_models():
        if not issubclass(model, MerchantScoped) or len(model.tenancy_fields) < 2:
            continue
        rows = tenancy_violations(model, using=using).order_by("pk")
        count = rows.count()
        if count:
            described = [
                f"#{row.pk}: " + " ".join(m for ms in row.tenancy_errors(using=using).values() for m in ms)
                for row in rows[:sample]
            ]
            found[model._meta.label_lower] = {"count": count, "rows": described}
    return found
