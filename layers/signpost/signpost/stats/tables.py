"""Statistics tables and small-number suppression.

Primary suppression: a count of 1 to 4 is published as "<5" (0 is a true zero and is shown).

Secondary suppression: a table whose last row and/or last column is a total lets a
reader recover a single hidden cell by subtraction. So in every total line (a row
when the table has a total column, a column when it has a total row) that holds
exactly one hidden cell, the smallest non-zero visible cell of that line is hidden
too, shown as "c"; this repeats until no line has a lone hidden cell. Totals are
computed from the true counts, so the published totals are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PRIMARY = "<5"
SECONDARY = "c"
SMALLEST_SHOWN = 5

Shown = int | str
Cell = tuple[int, int]


@dataclass
class Table:
    name: str  # file stem: <name>.csv, <name>.svg
    title: str
    row_header: str
    columns: list[str]
    rows: list[tuple[str, list[int]]]
    total_row: bool = False  # the last row is the sum of the rows above it
    total_column: bool = False  # the last column is the sum of the columns before it
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for label, values in self.rows:
            if len(values) != len(self.columns):
                raise ValueError(
                    f"{self.name}: row {label!r} has {len(values)} values for {len(self.columns)} columns"
                )

    def value(self, cell: Cell) -> int:
        return self.rows[cell[0]][1][cell[1]]


@dataclass(frozen=True)
class PublishedTable:
    table: Table
    shown: list[list[Shown]]  # per row, per column: the count, "<5" or "c"

    @property
    def rows(self) -> list[tuple[str, list[Shown]]]:
        return [(label, values) for (label, _), values in zip(self.table.rows, self.shown, strict=True)]


def _lines(table: Table) -> list[list[Cell]]:
    """The additive lines, each ending with its total cell."""
    n, m = len(table.rows), len(table.columns)
    lines: list[list[Cell]] = []
    if table.total_column:
        lines += [[(i, j) for j in range(m)] for i in range(n)]
    if table.total_row:
        lines += [[(i, j) for i in range(n)] for j in range(m)]
    return lines


def hidden_cells(table: Table) -> dict[Cell, str]:
    """Which cells are hidden, and how (PRIMARY or SECONDARY)."""
    hidden: dict[Cell, str] = {
        (i, j): PRIMARY
        for i, (_, values) in enumerate(table.rows)
        for j, value in enumerate(values)
        if 0 < value < SMALLEST_SHOWN
    }
    lines = _lines(table)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(1 for cell in line if cell in hidden) != 1:
                continue
            inner, total = line[:-1], line[-1]
            candidates = [c for c in inner if c not in hidden and table.value(c) > 0]
            if candidates:
                chosen = min(candidates, key=lambda c: (table.value(c), c))
            elif total not in hidden:
                chosen = total
            else:  # only the total is hidden and every inner cell is 0: nothing to recover
                continue
            hidden[chosen] = SECONDARY
            changed = True
    return hidden


def publish(table: Table) -> PublishedTable:
    hidden = hidden_cells(table)
    shown = [
        [hidden.get((i, j), value) for j, value in enumerate(values)]
        for i, (_, values) in enumerate(table.rows)
    ]
    return PublishedTable(table, shown)
