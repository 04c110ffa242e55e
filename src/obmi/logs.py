"""Structured logging: key=value text for people, one JSON object per line for machines."""

from __future__ import annotations

import json
import logging
import sys

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class _Formatter(logging.Formatter):
    def __init__(self, as_json: bool):
        super().__init__()
        self.as_json = as_json

    def format(self, record: logging.LogRecord) -> str:
        fields = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                  "logger": record.name, "message": record.getMessage()}
        fields.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if self.as_json:
            return json.dumps(fields, default=str, ensure_ascii=False)
        return " ".join(f"{k}={json.dumps(v, default=str, ensure_ascii=False) if isinstance(v, str) and ' ' in v else v}"
                        for k, v in fields.items())


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(fmt == "json"))
    root = logging.getLogger("obmi")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
