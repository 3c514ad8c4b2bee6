"""The combined log: every line of every process, prefixed with its time and its name.

One terminal shows the whole system, so each line says where it came from
(`12:00:03 api              | ...`); the prefix is coloured per process on a terminal. The
same lines, without colour, go to a file, so what scrolled away can still be read.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Literal, TextIO

__all__ = ["LAUNCHER", "LogSink", "use_colour"]

LAUNCHER = "launcher"
_PALETTE = (36, 32, 33, 35, 34, 96, 92, 93, 95, 94, 91)
_RESET = "\x1b[0m"


def use_colour(setting: Literal["auto", "always", "never"], stream: TextIO) -> bool:
    """`auto` colours a terminal unless NO_COLOR is set (https://no-color.org)."""
    if setting != "auto":
        return setting == "always"
    return stream.isatty() and "NO_COLOR" not in os.environ


class LogSink:
    """Writes prefixed lines to a stream (the terminal) and, if given, a file."""

    def __init__(
        self,
        stream: TextIO | None = None,
        file: Path | None = None,
        colour: bool = False,
        width: int = 18,
    ) -> None:
        self.stream = stream or sys.stdout
        self.colour = colour
        self.width = width
        self._colours: dict[str, int] = {}
        self._file: TextIO | None = None
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
            self._file = file.open("a", encoding="utf-8", buffering=1)
        self.path = file

    def _prefix(self, name: str, colour: bool) -> str:
        label = f"{name:<{self.width}}"
        if colour:
            code = self._colours.setdefault(name, _PALETTE[len(self._colours) % len(_PALETTE)])
            bold = "1;" if name == LAUNCHER else ""
            label = f"\x1b[{bold}{code}m{label}{_RESET}"
        return f"{time.strftime('%H:%M:%S')} {label} | "

    def line(self, name: str, text: str) -> None:
        text = text.rstrip("\r\n")
        try:
            self.stream.write(self._prefix(name, self.colour) + text + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed terminal must not stop the launcher from stopping the rest
        if self._file is not None:
            self._file.write(self._prefix(name, False) + text + "\n")

    def say(self, text: str) -> None:
        """A line from the launcher itself."""
        for part in text.splitlines() or [""]:
            self.line(LAUNCHER, part)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
