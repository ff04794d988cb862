"""Validators for the open data tests, built from the standards as published.

The schemas are read from ``../shared/standards`` (beside the repository, in CI too), not
from our own copies, so a test fails if our output drifts from the published standard.
OCDS: the core 1.1.5 release schema with the UK extension's release-schema patch applied
as a JSON Merge Patch (RFC 7386), as the extension mechanism says, under the release
package schema (Draft 4). 360Giving: the package schema with its grant schema resolved
locally (Draft 2020-12).

``jsonschema`` only checks ``format`` when an optional package for it is installed, and
360Giving's dates are ``oneOf`` a date-time format or a date pattern, which without a
checker matches both and fails. So the two formats the standards lean on are checked here.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

STANDARDS = Path(__file__).resolve().parents[2].parent / "shared" / "standards"

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: objects merge key by key, null removes, the rest replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _load(*parts: str) -> Any:
    path = STANDARDS.joinpath(*parts)
    assert path.exists(), f"The open standards are missing: expected {path} beside the repo"
    return json.loads(path.read_text("utf-8"))


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _RFC3339.match(value):
            return False
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme and parts.netloc) and " " not in value

    return checker


def patched_release_schema() -> dict[str, Any]:
    core = _load("ocds-1.1.5", "release-schema.json")
    patch = _load("ocds_uk_extension", "release-schema.json")
    return merge_patch(core, patch)


@cache
def _ocds_validator() -> Draft4Validator:
    package = _load("ocds-1.1.5", "release-package-schema.json")
    release = patched_release_schema()
    ref = package["properties"]["releases"]["items"]["$ref"]
    registry: Registry = Registry().with_resource(
        ref, Resource.from_contents(release, default_specification=DRAFT4)
    )
    return Draft4Validator(package, registry=registry, format_checker=format_checker())


def ocds_errors(package: dict[str, Any]) -> list[str]:
    """What is wrong with an OCDS release package (JSON round-tripped first), or []."""
    data = json.loads(json.dumps(package))
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _ocds_validator().iter_errors(data)
    ]


def giving_validator(package_schema: dict[str, Any], grant_schema: dict[str, Any]) -> Any:
    """A 360Giving package validator, resolving the grant schema locally at every address the
    package schema may use for it (its own ``$id`` and the one the package refers to)."""
    grant = Resource.from_contents(grant_schema, default_specification=DRAFT202012)
    ref = package_schema["properties"]["grants"]["items"]["$ref"]
    registry: Registry = Registry().with_resources([(ref, grant), (grant_schema["$id"], grant)])
    return Draft202012Validator(package_schema, registry=registry, format_checker=format_checker())


def published_giving_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        _load("360giving", "360-giving-package-schema.json"),
        _load("360giving", "360-giving-schema.json"),
    )


def giving_errors(
    package: dict[str, Any], schemas: tuple[dict[str, Any], dict[str, Any]]
) -> list[str]:
    data = json.loads(json.dumps(package))
    validator = giving_validator(*schemas)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)
    ]
