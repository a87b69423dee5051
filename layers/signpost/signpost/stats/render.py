"""Published statistics as files: one CSV and one SVG chart per table, and one JSON of them all.

Only suppressed tables reach this module: the counts it writes are what may be published.
The charts are plain SVG written here (horizontal bars, one group per row), so no
plotting library is needed to make or to read them.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from signpost.stats.tables import PRIMARY, SECONDARY, PublishedTable, Shown

SUPPRESSION_NOTE = {
    PRIMARY: "a count from 1 to 4",
    SECONDARY: "hidden so that a count shown as <5 cannot be worked out from the totals",
}
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9")  # colour-blind safe


def table_csv(published: PublishedTable) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([published.table.row_header, *published.table.columns])
    for label, values in published.rows:
        writer.writerow([label, *values])
    return buffer.getvalue()


def table_json(published: PublishedTable) -> dict[str, Any]:
    table = published.table
    return {
        "name": table.name,
        "title": table.title,
        "row_header": table.row_header,
        "columns": table.columns,
        "rows": [{"label": label, "values": values} for label, values in published.rows],
        "total_row": table.total_row,
        "total_column": table.total_column,
        "notes": table.notes,
    }


def document(month: str, generated_at: str, tables: list[PublishedTable], source: Mapping[str, Any]) -> str:
    body = {
        "month": month,
        "generated_at": generated_at,
        "source": dict(source),
        "suppression": {
            "rule": "counts from 1 to 4 are shown as <5; in tables with totals, a second cell is hidden (c) "
            "wherever a total line would otherwise reveal a single hidden count",
            "markers": SUPPRESSION_NOTE,
        },
        "tables": [table_json(t) for t in tables],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def table_svg(published: PublishedTable) -> str:
    """Horizontal grouped bars: one group per row, one bar per column (totals are not drawn)."""
    table = published.table
    columns = table.columns[:-1] if table.total_column else table.columns
    rows = published.rows[:-1] if table.total_row else published.rows
    numbers = [v for _, values in rows for v in values[: len(columns)] if isinstance(v, int)]
    top = max([*numbers, 1])
    bar, gap, label_width, plot_width = 14, 10, 300, 420
    header = 46 + 18 * (len(columns) if len(columns) > 1 else 0)
    height = header + len(rows) * (len(columns) * bar + gap) + 30
    width = label_width + plot_width + 60
    title = escape(table.title)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="title desc" '
        'font-family="Arial, Helvetica, sans-serif" font-size="12">',
        f'<title id="title">{title}</title>',
        f'<desc id="desc">Bar chart of the table {escape(table.name)}. "&lt;5" marks a count from 1 to 4; '
        '"c" marks a count hidden so that it cannot be worked out from the totals.</desc>',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{title}</text>',
    ]
    if len(columns) > 1:
        for j, column in enumerate(columns):
            y = 38 + 18 * j
            colour = PALETTE[j % len(PALETTE)]
            parts.append(f'<rect x="10" y="{y}" width="12" height="12" fill="{colour}"/>')
            parts.append(f'<text x="28" y="{y + 10}">{escape(column)}</text>')
    y = header
    for label, values in rows:
        group = len(columns) * bar
        middle = y + group / 2 + 4
        parts.append(
            f'<text x="{label_width - 8}" y="{middle:.0f}" text-anchor="end">{escape(_short(label))}</text>'
        )
        for j in range(len(columns)):
            parts.append(
                _bar(
                    values[j],
                    (label_width, y + j * bar),
                    thickness=bar - 2,
                    scale=plot_width / top,
                    colour=PALETTE[j % len(PALETTE)],
                )
            )
        y += group + gap
    parts.append(
        f'<line x1="{label_width}" y1="{header - 4}" x2="{label_width}" y2="{y - gap + 4}" stroke="#505050"/>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _bar(value: Shown, at: tuple[int, int], *, thickness: int, scale: float, colour: str) -> str:
    x, y = at
    if isinstance(value, str):  # suppressed: no bar, only the marker
        style = 'fill="#505050" font-style="italic"'
        return f'<text x="{x + 4}" y="{y + thickness - 2}" {style}>{escape(value)}</text>'
    length = round(scale * value)
    return (
        f'<rect x="{x}" y="{y}" width="{length}" height="{thickness}" fill="{colour}"/>'
        f'<text x="{x + length + 4}" y="{y + thickness - 2}">{value}</text>'
    )


def _short(label: str, limit: int = 46) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
