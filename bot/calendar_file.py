"""Calendar files (YAML): read with the position of every value, so an error names its line;
written back in the same shape, so an export can be edited and imported again."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError

from campaigns.plan import Plan, PlanError
from campaigns.ports import PostRecord


class FileError(ValueError):
    """`file:line:column: where: what`."""

    def __init__(self, path: Path, line: int, column: int, where: str, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {where}: {message}")


def _node_at(node: yaml.Node, loc: tuple[str | int, ...]) -> yaml.Node:
    """The deepest node the path reaches (a missing key points at its parent)."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                return node
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return node
            node = node.value[key]
        else:
            return node
    return node


def where(loc: tuple[str | int, ...]) -> str:
    return ".".join(f"[{k}]" if isinstance(k, int) else str(k) for k in loc).replace(".[", "[")


def error_at(path: Path, root: yaml.Node, loc: tuple[str | int, ...], message: str) -> FileError:
    mark = _node_at(root, loc).start_mark
    return FileError(path, mark.line + 1, mark.column + 1, where(loc) or "-", message)


def load(path: Path) -> list[tuple[Plan, yaml.Node]]:
    """Every document of the file as a Plan, with its node tree for later errors."""
    text = path.read_text(encoding="utf-8")
    try:
        roots = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        datas = list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise FileError(path, line, column, "-", str(error.problem)) from None
    except yaml.YAMLError as error:  # a control character: the reader has no mark
        raise FileError(path, 1, 1, "-", str(error)) from None
    plans = []
    for root, data in zip(roots, datas, strict=True):
        if root is None:
            continue
        try:
            plans.append((Plan.model_validate(data), root))
        except ValidationError as error:
            first = error.errors()[0]
            loc = tuple(k for k in first["loc"] if isinstance(k, str | int))
            message = str(first["msg"]).removeprefix("Value error, ")
            raise error_at(path, root, loc, message) from None
    if not plans:
        raise FileError(path, 1, 1, "-", "the file has no campaign")
    return plans


def plan_error(path: Path, root: yaml.Node, error: PlanError) -> FileError:
    return error_at(path, root, error.loc, error.message)


def dump(posts: list[PostRecord], chat_id: int) -> str:
    """Live posts as calendar documents, one per campaign, phases in order of first run."""
    docs: dict[str | None, dict[str, Any]] = {}
    for p in sorted(posts, key=lambda p: p.id):  # phases in the order they were planned
        doc = docs.setdefault(
            p.campaign,
            {"campaign": p.campaign, "chat": chat_id, "timezone": p.when.timezone, "phases": []},
        )
        phase_name = p.phase or "posts"
        phase = next((ph for ph in doc["phases"] if ph["name"] == phase_name), None)
        if phase is None:
            phase = {"name": phase_name, "posts": []}
            doc["phases"].append(phase)
        entry: dict[str, Any] = {}
        if p.when.cron is not None:
            entry["cron"] = p.when.cron
        else:
            assert p.when.at is not None
            local = p.when.at.astimezone(ZoneInfo(p.when.timezone))
            entry["at"] = local.strftime("%Y-%m-%d %H:%M")
        entry.update(p.content.model_dump(mode="json", exclude_defaults=True))
        if entry.pop("replace_previous", False):
            entry["replace"] = True
        phase["posts"].append(entry)
    for doc in docs.values():
        if doc["campaign"] is None:
            del doc["campaign"]
    return yaml.safe_dump_all(list(docs.values()), allow_unicode=True, sort_keys=False)
