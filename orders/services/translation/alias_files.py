"""SKU aliases as CSV: export, and an import that applies a whole file or nothing; one service for
the merchant pages and the admin.

A file is checked in full before anything is written; every bad row is reported by its line
number with the reason, a warehouse SKU the merchant's warehouses do not list (as last read, the
order pages' check in `sku_check`) too. A good file is applied in one transaction (new cart SKUs
added, known ones updated), then the orders held for the imported cart SKUs are checked again with
the person on their history, and "released" counts only those that will go.
Cells are written safe to open in a spreadsheet and read back as they were stored (`csv_cells`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.csv_cells import csv_cell_in, csv_row_out
from integrations.models import Merchant
from integrations.storable import unstorable_reason
from orders.models import SKUAlias
from orders.services.aliases import AliasRelease, aliases_saved, person_name
from orders.services.translation.sku_check import merchant_warehouses, warehouse_skus_check

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

COLUMNS = ("cart_sku", "warehouse_sku", "note")
REQUIRED = ("cart_sku", "warehouse_sku")
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_ERRORS_SHOWN = 50


@dataclass(frozen=True)
class AliasRow:
    line: int
    cart_sku: str
    warehouse_sku: str
    note: str | None  # None: the file has no note column (a stored note is kept)


@dataclass
class ParsedAliases:
    rows: list[AliasRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _max_length(name: str) -> int:
    return SKUAlias._meta.get_field(name).max_length


def aliases_csv_parse(*, data: bytes) -> ParsedAliases:
    """Read and check a whole file; `errors` lists "Line N: reason" for every bad row."""
    result = ParsedAliases()
    if len(data) > MAX_FILE_BYTES:
        result.errors.append(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: split it.")
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.errors.append("The file is not UTF-8 text: save it as “CSV UTF-8” and try again.")
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    columns: tuple[str, ...] | None = None
    first_line: dict[str, int] = {}
    line = 1
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            cells = [csv_cell_in(cell.strip()) for cell in cells]
            if not any(cells):
                continue
            if columns is None:
                columns, is_header, header_error = _columns(cells)
                if header_error:
                    result.errors.append(f"Line {start}: {header_error}")
                    return result
                if is_header:
                    continue
            if len(result.rows) + len(result.errors) >= MAX_ROWS:
                result.errors.append(f"Line {start}: more than {MAX_ROWS} rows: split the file.")
                break
            row, error = _row(start, cells, columns)
            if error:
                result.errors.append(f"Line {start}: {error}")
                continue
            if row.cart_sku in first_line:
                result.errors.append(
                    f"Line {start}: cart SKU '{row.cart_sku}' is already on line {first_line[row.cart_sku]}."
                )
                continue
            first_line[row.cart_sku] = start
            result.rows.append(row)
    except csv.Error as exc:
        result.errors.append(f"Line {line}: not readable as CSV ({exc}).")
    if not result.rows and not result.errors:
        result.errors.append("The file has no aliases (expected columns cart_sku, warehouse_sku[, note]).")
    return result


def _columns(cells: list[str]) -> tuple[tuple[str, ...], bool, str]:
    """(columns, is_header, error) from the first row: a header naming the columns, or data in
    the default column order."""
    names = [cell.lower().replace(" ", "_") for cell in cells]
    while names and not names[-1]:
        names.pop()
    if not any(name in COLUMNS for name in names):
        return COLUMNS, False, ""
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        expected = "expected cart_sku, warehouse_sku and optionally note"
        return (), True, f"unknown column '{unknown[0]}' in the header ({expected})."
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        return (), True, f"the header lacks the column {missing[0]}."
    if len(set(names)) != len(names):
        return (), True, "the header names a column twice."
    return tuple(names), True, ""


def _row(line: int, cells: list[str], columns: tuple[str, ...]) -> tuple[AliasRow | None, str]:
    extra = [cell for cell in cells[len(columns) :] if cell]
    if extra:
        return None, f"{len(cells)} columns, expected at most {len(columns)} ({', '.join(columns)})."
    values = dict(zip(columns, cells + [""] * (len(columns) - len(cells)), strict=False))
    for name in REQUIRED:
        if not values.get(name):
            return None, f"{name} is empty."
    for name in COLUMNS:
        value = values.get(name) or ""
        if reason := unstorable_reason(value):
            return None, f"{name} {reason}."
        if len(value) > _max_length(name):
            return None, f"{name} is {len(value)} characters long, at most {_max_length(name)} are allowed."
    has_note = "note" in columns and len(cells) > columns.index("note")  # else a stored note is kept
    return AliasRow(line, values["cart_sku"], values["warehouse_sku"], values["note"] if has_note else None), ""


class ImportConflict(Exception):
    """Nothing was applied: the aliases changed meanwhile, or `errors` names the lines whose
    warehouse SKU the warehouses do not list."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or [message]


@dataclass(frozen=True)
class AliasImport:
    """What an import did: aliases `counts` (created, updated, unchanged), the held orders it
    released (only those that will go), and `note` on how the warehouse SKUs were checked."""

    counts: dict[str, int]
    release: AliasRelease
    note: str

    def describe(self) -> str:
        text = "{created} added, {updated} updated, {unchanged} unchanged.".format(**self.counts)
        return f"{text}{self.release.describe()} {self.note}".strip()


def aliases_csv_import(*, merchant: Merchant, rows: Iterable[AliasRow], user: AbstractBaseUser | None) -> AliasImport:
    """Check the rows' warehouse SKUs against the merchant's warehouses (as last read), apply them
    all at once (add or update by cart SKU), then check again the orders held for those cart SKUs.
    Raises ImportConflict, with a line error for each SKU not listed, when nothing was applied."""
    rows = list(rows)
    check = warehouse_skus_check(
        warehouses=merchant_warehouses(merchant_id=merchant.pk), skus=[row.warehouse_sku for row in rows]
    )
    if check.refused:
        errors = [
            f"Line {row.line}: {check.reason(row.warehouse_sku)}" for row in rows if row.warehouse_sku in check.refused
        ]
        raise ImportConflict(f"{len(errors)} line(s) name a warehouse SKU that cannot be used.", errors)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    now = timezone.now()
    try:
        with transaction.atomic():
            existing = {
                alias.cart_sku: alias
                for alias in SKUAlias.objects.filter(merchant=merchant)
                .select_for_update()
                .filter(cart_sku__in=[row.cart_sku for row in rows])
            }
            new, changed = [], []
            for row in rows:
                alias = existing.get(row.cart_sku)
                if alias is None:
                    new.append(
                        SKUAlias(
                            merchant=merchant,
                            cart_sku=row.cart_sku,
                            warehouse_sku=row.warehouse_sku,
                            note=row.note or "",
                        )
                    )
                    continue
                note = alias.note if row.note is None else row.note
                if (alias.warehouse_sku, alias.note) == (row.warehouse_sku, note):
                    counts["unchanged"] += 1
                    continue
                alias.warehouse_sku, alias.note, alias.updated_at = row.warehouse_sku, note, now
                changed.append(alias)
            SKUAlias.objects.bulk_create(new, batch_size=500)
            SKUAlias.objects.bulk_update(changed, ["warehouse_sku", "note", "updated_at"], batch_size=500)
    except IntegrityError as exc:
        raise ImportConflict(
            "The aliases changed meanwhile (someone else saved one): nothing was applied, try again."
        ) from exc
    counts["created"], counts["updated"] = len(new), len(changed)
    release = aliases_saved(
        merchant_id=merchant.pk,
        cart_skus=[alias.cart_sku for alias in new + changed],
        what=f"SKU aliases imported from a file by {person_name(user=user)}",
        user=user,
    )
    return AliasImport(counts=counts, release=release, note=check.note.strip())


def aliases_csv_write(*, aliases: Iterable[SKUAlias], stream: SupportsWrite[str]) -> None:
    """The aliases as the import reads them, every cell safe to open in a spreadsheet."""
    writer = csv.writer(stream)
    writer.writerow(COLUMNS)
    for alias in aliases:
        writer.writerow(csv_row_out([alias.cart_sku, alias.warehouse_sku, alias.note]))
