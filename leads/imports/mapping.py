"""Which column of a file feeds which field: guessed from the headers, corrected by the user.

Headers are compared loosely: case, accents, spaces and punctuation do not count, so
"E-mail", "Email Address" and "e_mail" all name the email. A header that is not an alias
may still carry a keyword ("Work email" → email; the last keyword wins, "Company phone" is a
phone). Each field takes one column at most, the leftmost that fits.
"""

import re
import unicodedata

from leadnexus.core.exceptions import ValidationFailed
from leads.imports.specs import ImportSpec

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def header_words(header: str) -> list[str]:
    ascii_text = unicodedata.normalize("NFKD", header or "").encode("ascii", "ignore").decode().lower()
    return _NOT_ALNUM.sub(" ", ascii_text).split()


def _compact(text: str) -> str:
    return "".join(header_words(text))


def mapping_guess(columns: list[str], spec: ImportSpec) -> dict[str, str | None]:
    exact = {_compact(alias): f.name for f in spec.fields for alias in (f.name, f.label, *f.aliases)}
    keywords = {word: f.name for f in spec.fields for word in f.keywords}
    mapping: dict[str, str | None] = dict.fromkeys(columns)
    taken: set[str] = set()

    def take(column: str, name: str | None) -> None:
        if name and name not in taken:
            mapping[column] = name
            taken.add(name)

    for column in columns:
        take(column, exact.get(_compact(column)))
    for column in columns:
        if mapping[column] is None:
            hits = [keywords[word] for word in header_words(column) if word in keywords]
            take(column, hits[-1] if hits else None)
    return mapping


def mapping_check(
    *, given: dict, columns: list[str], current: dict[str, str | None], spec: ImportSpec
) -> dict[str, str | None]:
    """The job's mapping with `given` applied: the columns it names take its fields (null or ""
    leaves a column out), the others keep theirs. Unknown columns or fields, a field fed by two
    columns, or none of `spec.required_any` mapped are validation errors."""
    problems: list[str] = []
    fields = set(spec.field_names)
    mapping = {column: current.get(column) for column in columns}
    for column, name in given.items():
        if column not in mapping:
            problems.append(f"The file has no column {column!r}.")
        elif name in (None, ""):
            mapping[column] = None
        elif not isinstance(name, str) or name not in fields:
            problems.append(f"Column {column!r}: {name!r} is not a field; choose one of {', '.join(spec.field_names)}.")
        else:
            mapping[column] = name
    used: dict[str, list[str]] = {}
    for column, name in mapping.items():
        if name:
            used.setdefault(name, []).append(column)
    for name, sources in used.items():
        if len(sources) > 1:
            problems.append(f"{name} is fed by more than one column ({', '.join(sources)}): keep one.")
    if spec.required_any and not set(used).intersection(spec.required_any):
        problems.append(f"Map a column to {' or '.join(spec.required_any)}: without it no row can be imported.")
    if problems:
        raise ValidationFailed(" ".join(problems), details={"mapping": problems})
    return mapping
