"""The catalogue's tables (SQLModel). Import from here so every table joins one metadata."""

from sqlmodel import SQLModel

# Named constraints keep migrations portable (SQLite batch mode needs names to alter them).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

from catalogue.models.access import (  # noqa: E402
    AccessEpoch,
    AccessGrant,
    ApiKey,
    AuditEntry,
    GrantLevel,
    PrincipalKind,
    RevokedToken,
)
from catalogue.models.base import Entity, Harvested, Visibility, utcnow  # noqa: E402
from catalogue.models.changes import ChangeEntry  # noqa: E402
from catalogue.models.coded import CodedValue, CuratorDecision, MappingMethod  # noqa: E402
from catalogue.models.cohorts import SavedCohort  # noqa: E402
from catalogue.models.datasets import Dataset, DatasetVersion, DoiState  # noqa: E402
from catalogue.models.outbox import OutboxEntry, OutboxOp  # noqa: E402
from catalogue.models.publishing import (  # noqa: E402
    CohortSnapshot,
    DatasetCuration,
    DoiAction,
    DoiTask,
    DoiTaskStatus,
)
from catalogue.models.records import (  # noqa: E402
    Collection,
    HarvestRun,
    ImagingStudy,
    RunStatus,
    Series,
    Sex,
    Site,
    Source,
    Subject,
)

metadata = SQLModel.metadata

#: Record types the search index mirrors; the store queues an outbox entry when one changes.
INDEXED: dict[type[SQLModel], str] = {
    Collection: "collection",
    Subject: "subject",
    ImagingStudy: "imaging_study",
    Series: "series",
    Dataset: "dataset",
}

#: Harvested record types the change feed publishes to peers (datasets have their own exports).
PUBLISHED: dict[type[SQLModel], str] = {
    Collection: "collection",
    Subject: "subject",
    ImagingStudy: "imaging_study",
    Series: "series",
}

__all__ = [
    "INDEXED",
    "PUBLISHED",
    "AccessEpoch",
    "AccessGrant",
    "ApiKey",
    "AuditEntry",
    "ChangeEntry",
    "CodedValue",
    "CohortSnapshot",
    "Collection",
    "CuratorDecision",
    "Dataset",
    "DatasetCuration",
    "DatasetVersion",
    "DoiAction",
    "DoiState",
    "DoiTask",
    "DoiTaskStatus",
    "Entity",
    "GrantLevel",
    "HarvestRun",
    "Harvested",
    "ImagingStudy",
    "MappingMethod",
    "OutboxEntry",
    "OutboxOp",
    "PrincipalKind",
    "RevokedToken",
    "RunStatus",
    "SavedCohort",
    "Series",
    "Sex",
    "Site",
    "Source",
    "Subject",
    "Visibility",
    "metadata",
    "utcnow",
]
