"""What an import says about its rows, in one wording for the page, the API and the command:
the rows named ("Row 7 has an error", "Rows 3, 7 and 12 have errors"), never "1 rows"."""

from campaigns.models import FactSource, ImportBatch

SHOWN = 10  # rows named in a sentence; the rest are counted


def name_rows(rows: list[int], total: int | None = None) -> str:
    """``[7]`` → "Row 7"; ``[3, 7, 12]`` → "Rows 3, 7 and 12"; more than ``SHOWN`` rows (or a
    ``total`` past those listed) → "Rows 3, 7, …, 40 and 12 more"."""
    rows = sorted(set(rows))
    total = max(total or 0, len(rows))
    if not rows:
        return f"{total:,} row{'s' if total != 1 else ''}"
    if total == 1:
        return f"Row {rows[0]}"
    shown = [f"{row:,}" for row in rows[:SHOWN]]
    rest = total - len(shown)
    if rest > 0:
        return f"Rows {', '.join(shown)} and {rest:,} more"
    return f"Rows {', '.join(shown[:-1])} and {shown[-1]}"


def _verb(total: int, singular: str, plural: str) -> str:
    return singular if total == 1 else plural


def error_rows(batch: ImportBatch) -> tuple[list[int], int]:
    """(the numbers of the rows with errors that the batch keeps, how many rows have errors)."""
    rows = [e["row"] for e in batch.errors if e.get("row") is not None]
    skipped = sum(e.get("rows", 0) for e in batch.errors if e.get("row") is None and "ref" in e)
    return rows, max(batch.rows_rejected - skipped, len(rows))


def row_errors(batch: ImportBatch) -> str:
    """ "Row 7 has an error" / "Rows 3, 7 and 12 have errors" (no full stop); "" when none has."""
    rows, total = error_rows(batch)
    if not total:
        return ""
    return f"{name_rows(rows, total)} {_verb(total, 'has an error', 'have errors')}"


def row_errors_block_start(batch: ImportBatch) -> str:
    return f"{row_errors(batch)}: correct the file, or upload it again to import only the good rows."


def repeats(batch: ImportBatch) -> str:
    """The warning for spend the file repeats from another source; "" when it repeats none."""
    total = batch.repeat_count
    if not total:
        return ""
    sources = sorted({FactSource(r["source"]).label for r in batch.repeats if r["source"] in FactSource.values})
    where = " and ".join(sources) if sources else "another source"
    return (
        f"{name_rows([r['row'] for r in batch.repeats], total)} "
        f"{_verb(total, 'repeats', 'repeat')} spend already stored for the same campaign and day under {where} "
        f"(the same amount): importing {_verb(total, 'it', 'them')} would count that money twice."
    )


def repeats_block_start(batch: ImportBatch) -> str:
    return (
        f"{repeats(batch)} Nothing was started. If it is other money, start the import again and confirm "
        '“Import the repeated spend anyway” (API: "allow_repeated_spend": true).'
    )
