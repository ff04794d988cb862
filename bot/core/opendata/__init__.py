"""Open data out: opportunities as OCDS 1.1.5 (with the UK extension), grants as 360Giving.

The opportunities feature fills the neutral inputs in :mod:`.model` from its rows and
calls the builders; nothing here reads the database or knows a door. Every builder
checks what it is given and raises :class:`OpenDataRefused` (``message`` in plain English)
before returning anything, so a refused export publishes nothing.

* OCDS: :func:`release_package` (and :func:`release` for one), :func:`amendment_release`.
* 360Giving: :func:`grants_json`, :func:`grants_rows`, :func:`grants_csv`, :func:`grants_xlsx`;
  the standard's schema ships in ``schema/`` (:func:`grants_schema`).
* Identifiers: :func:`org_id` turns a register number into an org-id (``GB-CHC-1123456``).
"""

from bot.core.opendata.grants import (
    GRANT_COLUMNS,
    GRANTS_VERSION,
    GrantsPublisher,
    geo_code_type,
    grants_csv,
    grants_json,
    grants_rows,
    grants_schema,
    grants_xlsx,
)
from bot.core.opendata.identifiers import ORG_ID_PREFIXES, looks_like_org_id, org_id
from bot.core.opendata.model import (
    Amendment,
    Document,
    Grant,
    GrantOrg,
    Item,
    Lot,
    OpenDataRefused,
    OrgRef,
    ProcurementCategory,
    ProcurementMethod,
    ReleaseTag,
    TenderRelease,
    TenderStatus,
)
from bot.core.opendata.ocds import (
    OCDS_EXTENSIONS,
    OCDS_VERSION,
    OPEN_GOVERNMENT_LICENCE,
    Publisher,
    amendment_release,
    release,
    release_package,
)

__all__ = [
    "GRANTS_VERSION",
    "GRANT_COLUMNS",
    "OCDS_EXTENSIONS",
    "OCDS_VERSION",
    "OPEN_GOVERNMENT_LICENCE",
    "ORG_ID_PREFIXES",
    "Amendment",
    "Document",
    "Grant",
    "GrantOrg",
    "GrantsPublisher",
    "Item",
    "Lot",
    "OpenDataRefused",
    "OrgRef",
    "ProcurementCategory",
    "ProcurementMethod",
    "Publisher",
    "ReleaseTag",
    "TenderRelease",
    "TenderStatus",
    "amendment_release",
    "geo_code_type",
    "grants_csv",
    "grants_json",
    "grants_rows",
    "grants_schema",
    "grants_xlsx",
    "looks_like_org_id",
    "org_id",
    "release",
    "release_package",
]
