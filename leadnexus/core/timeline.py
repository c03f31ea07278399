"""One timeline per record page, fed by several apps. The record's own app lists its events;
an app further right in the dependency order (the CRM's activities, the marketplace's
purchase on a bought lead) adds its entries through a source it registers in its
`AppConfig.ready()`, so the record's app never imports it."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # what the entry is: "event", "activity", "purchase"...; the page styles by it
    title: str
    detail: str = ""
    actor: str = ""
    badge: str = ""  # a short state: "done", "due Mar 3 14:00"
    link: str = ""


Source = Callable[..., list[TimelineEntry]]
_sources: dict[str, list[Source]] = defaultdict(list)


def timeline_source(subject_type: str):
    """Register `source(record, *, viewer)` as adding entries to the timelines of records of
    `subject_type` ("leads.lead")."""

    def register(source: Source) -> Source:
        if source not in _sources[subject_type]:
            _sources[subject_type].append(source)
        return source

    return register


def timeline_merge(subject_type: str, record, *, viewer, entries: list[TimelineEntry], limit: int):
    """The record's own `entries` with those of every registered source, newest first."""
    merged = list(entries)
    for source in _sources[subject_type]:
        merged += source(record, viewer=viewer)
    return sorted(merged, key=lambda entry: entry.at, reverse=True)[:limit]
