"""An activity's report as an Excel workbook (openpyxl): employees (the export's columns,
DESIGN.md §5), leads (the phone masked unless the viewer is an admin or the lead's
salesperson) and the daily series. Every text cell is stored as text, never a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot.codes import PUSH_SOURCE_LABELS
from bot.i18n import N_, _, current_locale
from bot.lead_lists import LeadFilter, leads_for
from bot.reports.series import MAX_DAYS, daily_series
from bot.service import ShareTrail
from bot.stats import column_header
from store.models import aware

if TYPE_CHECKING:  # openpyxl (and the numpy it pulls in) load on the first download only:
    from openpyxl.worksheet.worksheet import Worksheet  # the landing server stays small

LEAD_COLUMNS = (
    "lead_id",
    "customer",
    "phone",
    "company",
    "employee",
    "salesperson",
    "source",
    "outcome",
    "signed_up_at_utc",
)
DAILY_COLUMNS = ("date", "views", "unique_visitors", "signups")
# A lead's outcome as people read it (English keeps the stored value, like the headers).
OUTCOME_LABELS: dict[str, str] = {
    "new": N_("New"),
    "attended": N_("Attended"),
    "no_show": N_("No-show"),
    "converted": N_("Converted"),
}


def _value(value: str, labels: dict[str, str]) -> str:
    """A stored tag (outcome, push source) as the sheet shows it in the current language."""
    if current_locale() == "en" or value not in labels:
        return value
    return _(labels[value])


def _append(sheet: Worksheet, values: list[Any]) -> None:
    """A row whose text cells stay text: openpyxl would read '=…' as a formula."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _employees(sheet: Worksheet, export_csv: str) -> None:
    for index, row in enumerate(csv.reader(io.StringIO(export_csv))):
        values: list[Any] = row if index == 0 else [*row[:2], *(int(v) for v in row[2:])]
        _append(sheet, values)


def _utc(moment: datetime) -> datetime:
    """Excel has no time zones: UTC, without tzinfo (the column says so)."""
    return aware(moment).astimezone(UTC).replace(tzinfo=None)


async def activity_workbook(
    services: ShareTrail, activity_id: int, *, viewer_id: str, is_admin: bool
) -> bytes:
    """The .xlsx bytes; NotFound for an unknown activity."""
    activity = await services.activity(activity_id)
    from openpyxl import Workbook

    book = Workbook()
    employees = book.active
    assert employees is not None
    employees.title = _("Employees")
    _employees(employees, await services.export_csv(activity_id))

    leads = book.create_sheet(_("Leads"))
    _append(leads, [column_header(c) for c in LEAD_COLUMNS])
    rows = await leads_for(
        services,
        viewer_id=viewer_id,
        is_admin=is_admin,
        wanted=LeadFilter(activity_id=activity_id),
        limit=None,
    )
    for row in reversed(rows):  # oldest first, as a sheet reads
        lead = row.lead
        _append(
            leads,
            [
                lead.id,
                lead.name,
                row.phone,
                lead.company,
                row.employee_name,
                row.salesperson_name,
                _value(lead.source, PUSH_SOURCE_LABELS),
                _value(lead.outcome or "new", OUTCOME_LABELS),
                _utc(lead.created_at),
            ],
        )

    daily = book.create_sheet(_("Daily"))
    _append(daily, [column_header(c) for c in DAILY_COLUMNS])
    now = datetime.now(UTC)
    days = min(MAX_DAYS, max(1, (now - aware(activity.created_at)).days + 1))
    async with services.db.session() as session:
        series = await daily_series(session=session, activity_id=activity_id, now=now, days=days)
    for day, views, visitors, signups in zip(
        series.days, series.views, series.unique_visitors, series.signups, strict=True
    ):
        _append(daily, [day, views, visitors, signups])

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
