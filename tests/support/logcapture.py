"""Capture everything the process writes to stdout/stderr and through `logging`.

For tests that assert no identity value (name, date of birth, NHS number,
postcode) ever reaches an output. Output still reaches its usual destination;
the capture only keeps a copy. It catches:

- writes to ``sys.stdout`` / ``sys.stderr`` from any thread (the local stack's
  gateway threads included), by swapping in a tee;
- logging handlers that bound a stream before the capture began (Powertools'
  Logger binds ``sys.stdout`` at creation), by pointing their stream at the tee;
- every log record of every logger, formatted or not, via a handler on each
  logger that does not propagate and on the root logger.

Usage::

    with capture_output() as output:
        ...
    output.assert_absent(["Amelia", "2015-03-14", "943 476 5919"])
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO


class _Tee(io.TextIOBase):
    def __init__(self, target: TextIO, sink: LogCapture) -> None:
        self._target = target
        self._sink = sink

    def write(self, text: str) -> int:
        self._sink.record(text)
        return self._target.write(text)

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)  # anything else a stream's owner expects of it


class _RecordHandler(logging.Handler):
    """Keeps the raw message and arguments too: a formatter might drop fields a value hides in."""

    def __init__(self, sink: LogCapture) -> None:
        super().__init__(level=logging.NOTSET)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sink.record(f"{record.getMessage()} {json.dumps(record.__dict__, default=str)}\n")
        except Exception:
            self._sink.record(f"{record.msg!r} {record.args!r}\n")


class LogCapture:
    def __init__(self) -> None:
        self._chunks: list[str] = []
        self._lock = threading.Lock()
        self._active = False
        self._undo: list[Any] = []

    def record(self, text: str) -> None:
        if self._active:
            with self._lock:
                self._chunks.append(text)

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._chunks)

    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]

    def json_lines(self) -> list[dict[str, Any]]:
        """The captured lines that are JSON objects (structured logs)."""
        found = []
        for line in self.lines():
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                found.append(value)
        return found

    def contains(self, value: str) -> bool:
        """Case-insensitively, raw or as JSON would escape it (``é`` → ``\\u00e9``)."""
        text = self.text.lower()
        forms = {
            value.lower(),
            json.dumps(value).strip('"').lower(),
            json.dumps(value, ensure_ascii=False)[1:-1],
        }
        return any(form and form.lower() in text for form in forms)

    def assert_absent(self, values: Iterable[str]) -> None:
        leaked = [value for value in values if value and self.contains(value)]
        assert not leaked, f"{len(leaked)} value(s) found in captured output: {leaked}"

    # lifecycle ----------------------------------------------------------------------
    def start(self) -> LogCapture:
        self._active = True
        stdout, stderr = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(stdout, self), _Tee(stderr, self)

        def restore_streams() -> None:
            sys.stdout, sys.stderr = stdout, stderr

        self._undo.append(restore_streams)
        handler = _RecordHandler(self)
        for logger in self._loggers():
            for existing in logger.handlers:
                if _is_output(existing):
                    self._redirect(existing, _Tee(existing.stream, self))
            if logger is logging.getLogger() or not logger.propagate:
                logger.addHandler(handler)
                self._undo.append(lambda lg=logger: lg.removeHandler(handler))
        return self

    def stop(self) -> None:
        self._active = False
        while self._undo:
            self._undo.pop()()

    @staticmethod
    def _loggers() -> list[logging.Logger]:
        named = [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
        return [logging.getLogger(), *named]

    def _redirect(self, handler: logging.StreamHandler[Any], tee: _Tee) -> None:
        original = handler.stream
        # Don't double-record: the handler writes to the tee, the tee records once.
        handler.setStream(tee)
        self._undo.append(lambda: handler.setStream(original))


def _is_output(handler: logging.Handler) -> bool:
    """A handler writing to a console-like stream (not a file, not pytest's own capture)."""
    return (
        isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and not type(handler).__module__.startswith("_pytest")
    )


@contextmanager
def capture_output() -> Iterator[LogCapture]:
    capture = LogCapture().start()
    try:
        yield capture
    finally:
        capture.stop()
