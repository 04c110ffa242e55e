"""Every setting and every command is documented (a new one without docs fails here)."""

from __future__ import annotations

from pathlib import Path

import typer.main

from obmi.cli import app
from obmi.settings import declared, env_name

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_admin_guide():
    guide = (ROOT / "docs" / "admin-guide.md").read_text()
    missing = [env_name(name) for name in declared() if f"`{env_name(name)}`" not in guide]
    assert not missing


def test_every_command_is_documented_and_has_help():
    docs = (ROOT / "README.md").read_text() + (ROOT / "docs" / "user-guide.md").read_text() \
        + (ROOT / "docs" / "admin-guide.md").read_text()
    group = typer.main.get_command(app)

    def walk(command, prefix):
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, prefix + [name])
        if not getattr(command, "commands", None):
            yield " ".join(prefix), command

    commands = list(walk(group, ["obmi"]))
    assert len(commands) > 10
    for name, command in commands:
        assert command.help, f"{name} has no help text"
        assert name in docs, f"{name} is not documented"
