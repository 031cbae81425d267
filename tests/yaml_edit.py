"""Planting a violation in a scratch copy of a YAML file (policy or tenant file)."""

from pathlib import Path

import yaml


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
