"""Check that requirements.lock still fits pyproject.toml, offline and in a second.

`make install` and CI install only what requirements.lock pins, so a dependency added to
pyproject.toml, or a minimum raised there, without re-locking would never be installed
(or would be installed at a version the code no longer supports). This reads the
project's dependencies and every extra, and checks that each one is pinned in the lock
at a version its specifier accepts, with hashes. It cannot see transitive dependencies
or what an extra such as `sqlalchemy[asyncio]` pulls in: `make lock` resolves those.

    python scripts/check_lock.py [PYPROJECT] [LOCK]

Exits 0 when the lock is current, 1 with one line per problem when it is not.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
#: The platform the lock is made for (see `make lock`): markers are judged for it.
LOCK_ENVIRONMENT = {
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
}


@dataclass(frozen=True)
class Pin:
    version: Version
    hashed: bool


def project_requirements(pyproject: str) -> list[tuple[str, Requirement]]:
    """(where it is declared, requirement) for the dependencies and every extra."""
    project = tomllib.loads(pyproject)["project"]
    found = [("dependencies", Requirement(text)) for text in project.get("dependencies", [])]
    for extra, texts in project.get("optional-dependencies", {}).items():
        found += [(f"the {extra} extra", Requirement(text)) for text in texts]
    return found


def lock_pins(lock: str) -> dict[str, Pin]:
    """Each `name==version` in a pip requirements file, with whether it carries a hash."""
    pins: dict[str, Pin] = {}
    for entry in lock.replace("\\\n", " ").splitlines():
        entry = entry.split(" #", 1)[0].strip()
        if not entry or entry.startswith(("#", "-")):
            continue
        requirement, *options = entry.split()
        name, separator, version = requirement.partition("==")
        if not separator:
            raise ValueError(f"not pinned with ==: {requirement!r}")
        pins[canonicalize_name(name.split("[", 1)[0])] = Pin(
            version=Version(version.split(";", 1)[0]),
            hashed=any(option.startswith("--hash=") for option in options),
        )
    return pins


def problems(pyproject: str, lock: str) -> list[str]:
    """Why the lock does not fit pyproject.toml; empty when it does."""
    pins = lock_pins(lock)
    found: list[str] = []
    for where, requirement in project_requirements(pyproject):
        if requirement.marker is not None and not requirement.marker.evaluate(LOCK_ENVIRONMENT):
            continue
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            found.append(f"{requirement.name} (in {where}) is not in the lock")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            found.append(
                f"{requirement.name} is locked at {pin.version}, "
                f"outside {requirement.specifier} (in {where})"
            )
    found += [f"{name}=={pin.version} has no hash" for name, pin in pins.items() if not pin.hashed]
    return found


def main(argv: list[str]) -> int:
    pyproject = Path(argv[0]) if argv else ROOT / "pyproject.toml"
    lock = Path(argv[1]) if len(argv) > 1 else ROOT / "requirements.lock"
    if not lock.exists():
        print(f"{lock.name} is missing: run `make lock`.", file=sys.stderr)
        return 1
    found = problems(pyproject.read_text(encoding="utf-8"), lock.read_text(encoding="utf-8"))
    if found:
        print(f"{lock.name} does not match {pyproject.name}:", file=sys.stderr)
        for problem in found:
            print(f"  {problem}", file=sys.stderr)
        print("Run `make lock`, then commit both files.", file=sys.stderr)
        return 1
    print(f"{lock.name} is current: every requirement in {pyproject.name} is pinned, hashed.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
