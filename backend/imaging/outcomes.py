"""What happened to each file of an ingest: the per-file report shown to users."""

from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    IMPORTED = "imported"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass
class FileOutcome:
    """``reason`` is for people, ``code`` for programs; neither holds patient data."""

    name: str
    status: Status
    code: str = ""
    reason: str = ""
    series_uid: str = ""

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "status": str(self.status),
            "code": self.code,
            "reason": self.reason,
            "series_uid": self.series_uid,
        }


def rejected(name: str, code: str, reason: str) -> FileOutcome:
    return FileOutcome(name, Status.REJECTED, code, reason)


@dataclass
class IngestReport:
    files: list[FileOutcome] = field(default_factory=list)
    series: dict[str, dict] = field(default_factory=dict)
    """Per series touched: its id, instance count and any problem building a volume."""

    def count(self, status: Status) -> int:
        return sum(1 for f in self.files if f.status == status)

    def summary(self) -> str:
        return (
            f"{self.count(Status.IMPORTED)} imported, {self.count(Status.DUPLICATE)} duplicate, "
            f"{self.count(Status.REJECTED)} rejected"
        )

    def as_dict(self) -> dict:
        return {
            "imported": self.count(Status.IMPORTED),
            "duplicates": self.count(Status.DUPLICATE),
            "rejected": self.count(Status.REJECTED),
            "files": [f.as_dict() for f in self.files],
            "series": list(self.series.values()),
        }
