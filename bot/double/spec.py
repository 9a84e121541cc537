"""Checks Bot API requests against the machine-readable official spec (api.json)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaigns.content import html_problems, visible_length

LIMIT = re.compile(r"(\d+)-(\d+) (characters|bytes)")
ITEMS = re.compile(r"(\d+)-(\d+) items")  # an array's length: "must include 2-10 items"
TAG = re.compile(r"must be (\w+)")  # a type field's one value: "Type of the result, must be photo"
ATTACH = "attach://"  # a file uploaded in the request's own part of that name
PARSED_FIELDS = {"text": "parse_mode", "caption": "parse_mode"}


def default_spec_path() -> Path:
    """The copy of api.json kept with the tests' data in this repository."""
    return Path(__file__).resolve().parents[2] / "tests" / "data" / "telegram-bot-api" / "api.json"


@dataclass(frozen=True)
class Problem:
    """One way a request departs from the spec."""

    method: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.method}.{self.field}: {self.message}"


class ApiSpec:
    """Methods and types of the Bot API, with a validator for incoming requests."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version = str(data.get("version", "?"))
        self.methods: dict[str, Any] = data["methods"]
        self.types: dict[str, Any] = data["types"]
        self._lower = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls, path: Path | None = None) -> ApiSpec:
        """Read api.json (by default the repository's test-data copy)."""
        return cls(json.loads((path or default_spec_path()).read_text(encoding="utf-8")))

    def method_name(self, name: str) -> str | None:
        """Bot API method names are case-insensitive."""
        return self._lower.get(name.lower())

    def validate(self, method: str, params: dict[str, Any]) -> list[Problem]:
        """Every departure from the spec in a decoded request."""
        name = self.method_name(method)
        if name is None:
            return [Problem(method, "-", "unknown method")]
        fields = {f["name"]: f for f in self.methods[name].get("fields", [])}
        attached = set(_attachments(params.values()))
        problems = [
            Problem(name, key, "unknown parameter")
            for key in params
            if key not in fields and key not in attached
        ]
        problems += [
            Problem(name, part, f"{ATTACH}{part} names no part of the request")
            for part in sorted(attached - params.keys())
        ]
        for key, spec in fields.items():
            if key not in params:
                if spec["required"]:
                    problems.append(Problem(name, key, "required parameter missing"))
                continue
            problems += self._check(name, key, spec, params[key], params)
        return problems

    def validate_object(self, type_name: str, value: dict[str, Any]) -> list[Problem]:
        """Every departure from the spec in an object the double answers with (a ChatMember
        of getChatMember, say): what the bot would parse must be what Telegram sends."""
        return self._nested(type_name, "result", type_name, value)

    def _check(
        self, method: str, key: str, spec: dict[str, Any], value: Any, siblings: dict[str, Any]
    ) -> list[Problem]:
        types: list[str] = spec["types"]
        if not any(self._matches(t, value) for t in types):
            return [Problem(method, key, f"expected {' or '.join(types)}, got {value!r:.80}")]
        problems: list[Problem] = []
        items = ITEMS.search(spec.get("description", ""))
        if isinstance(value, list) and items:
            low, high = int(items[1]), int(items[2])
            if not low <= len(value) <= high:
                problems.append(Problem(method, key, f"{len(value)} items, allowed {low}-{high}"))
        if isinstance(value, str):
            match = LIMIT.search(spec.get("description", ""))
            if match:
                low, high, unit = int(match[1]), int(match[2]), match[3]
                if unit == "bytes":
                    size = len(value.encode("utf-8"))
                else:
                    size = visible_length(value, siblings.get(PARSED_FIELDS.get(key, "")))
                if not low <= size <= high:
                    problems.append(Problem(method, key, f"{size} {unit}, allowed {low}-{high}"))
            mode = siblings.get(PARSED_FIELDS.get(key, ""))
            if mode and str(mode).upper() == "HTML":
                problems += [
                    Problem(method, key, f"bad HTML: {p.fault} {' '.join(p.names)}".rstrip())
                    for p in html_problems(value)
                ]
        for t in types:
            if self._matches(t, value):
                problems += self._nested(method, key, t, value)
                break
        return problems

    def _matches(self, type_name: str, value: Any) -> bool:
        if type_name.startswith("Array of "):
            inner = type_name.removeprefix("Array of ")
            return isinstance(value, list) and all(self._matches(inner, v) for v in value)
        simple: dict[str, Callable[[Any], bool]] = {
            "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "String": lambda v: isinstance(v, str),
            "Boolean": lambda v: isinstance(v, bool),
            "InputFile": lambda v: True,
        }
        if type_name in simple:
            return bool(simple[type_name](value))
        return isinstance(value, dict) and self._tag_fits(type_name, value)

    def _tag_fits(self, type_name: str, value: dict[str, Any]) -> bool:
        """An object's `type` is the one its type allows ("must be photo"), when it says one:
        a photo album is an Array of InputMediaPhoto, not of the first array type listed."""
        tag = next((f for f in self.types.get(type_name, {}).get("fields", [])
                    if f["name"] == "type"), None)  # fmt: skip
        one = TAG.search(tag["description"]) if tag else None
        return one is None or "type" not in value or value["type"] == one[1]

    def _concrete(self, type_name: str, value: dict[str, Any]) -> str:
        """Pick the subtype whose required fields (and `type` tag) fit the object."""
        subtypes = self.types.get(type_name, {}).get("subtypes")
        if not subtypes:
            return type_name
        for sub in subtypes:
            fields = self.types[sub].get("fields", [])
            required = {f["name"] for f in fields if f["required"]}
            if not required <= value.keys():
                continue
            tag = next((f for f in fields if f["name"] == "type"), None)
            described = tag["description"] if tag else ""
            if "type" in value and f'"{value["type"]}"' not in described:
                continue
            return str(sub)
        return str(subtypes[0])

    def _nested(self, method: str, path: str, type_name: str, value: Any) -> list[Problem]:
        if type_name.startswith("Array of "):
            inner = type_name.removeprefix("Array of ")
            out: list[Problem] = []
            for i, item in enumerate(value):
                out += self._nested(method, f"{path}[{i}]", inner, item)
            return out
        if type_name not in self.types or not isinstance(value, dict):
            return []
        concrete = self._concrete(type_name, value)
        fields = {f["name"]: f for f in self.types[concrete].get("fields", [])}
        problems = [
            Problem(method, f"{path}.{k}", f"unknown field of {concrete}")
            for k in value
            if k not in fields
        ]
        for k, spec in fields.items():
            if k not in value:
                if spec["required"]:
                    problems.append(Problem(method, f"{path}.{k}", "required field missing"))
                continue
            problems += self._check(method, f"{path}.{k}", spec, value[k], value)
        return problems


def _attachments(values: Any) -> list[str]:
    """The request parts that `attach://name` references in these values name (nested in
    objects and arrays, as an album's media are)."""
    found: list[str] = []
    for value in values:
        if isinstance(value, str) and value.startswith(ATTACH):
            found.append(value.removeprefix(ATTACH))
        elif isinstance(value, dict):
            found += _attachments(value.values())
        elif isinstance(value, list):
            found += _attachments(value)
    return found
