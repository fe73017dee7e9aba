"""Where a long CLI command is: one line rewritten in place on a terminal, plain lines otherwise."""

from __future__ import annotations

import shutil
import sys
from typing import TextIO

from services.people.backends import FileReport


class Progress:
    """Where a long command is: one line rewritten in place on a terminal, plain lines otherwise (logs, CI)."""

    def __init__(self, total: int, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self.tty = stream.isatty()
        self._width = len(str(total))
        self._last_milestone: object = None

    def _show(self, text: str) -> None:
        room = shutil.get_terminal_size().columns - 1  # a wrapped line could no longer be rewritten in place
        if len(text) > room:
            text = "…" + text[-(room - 1) :]
        self.stream.write(f"\r\x1b[K{text}")
        self.stream.flush()

    def working_on(self, index: int, label: str) -> None:
        """Before a file: on a terminal, say which one is being checked (encoding takes a moment)."""
        if self.tty:
            self._show(f"[{index:>{self._width}}/{self.total}] {label}")

    def finished(self, index: int, report: FileReport) -> None:
        """After a file: a plain line when not on a terminal (the summary lists skipped files either way)."""
        if not self.tty:
            outcome = "kept" if report.kept else f"skipped: {report.reason}"
            print(f"[{index:>{self._width}}/{self.total}] {report.file}: {outcome}", file=self.stream, flush=True)

    def status(self, text: str, milestone: object = None) -> None:
        """A free-form status (capture): rewritten on a terminal; otherwise printed when the milestone changes."""
        if self.tty:
            self._show(text)
        elif milestone != self._last_milestone:
            print(text, file=self.stream, flush=True)
            self._last_milestone = milestone

    def close(self) -> None:
        """Leave the terminal on a clean line."""
        if self.tty:
            self._show("")
