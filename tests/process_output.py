"""Reading a child process's output line by line as it comes, with a deadline.

A reader thread feeds a queue: a selector on the pipe cannot be used with
``readline`` (lines already read into the file's buffer do not wake it)."""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time

__all__ = ["Output"]


class Output:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._unread: list[str] = []  # taken in by lines() but not yet by until()
        stdout = process.stdout

        def pump() -> None:
            for line in stdout:
                self._lines.put(line)
            self._lines.put(None)  # the end of the output

        threading.Thread(target=pump, daemon=True).start()

    def lines(self, timeout: float) -> list[str]:
        """The lines printed until now, waiting up to ``timeout`` for a first one."""
        taken: list[str] = []
        try:
            line = self._lines.get(timeout=timeout)
            while line is not None:
                taken.append(line)
                line = self._lines.get_nowait()
        except queue.Empty:
            pass
        self.seen.extend(taken)
        return taken

    def until(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first line not yet matched matching ``pattern`` (AssertionError
        with the output so far when none comes within ``timeout``). Lines after
        the match are kept for the next call."""
        deadline = time.monotonic() + timeout
        while True:
            while self._unread:
                found = re.search(pattern, self._unread.pop(0))
                if found:
                    return found
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._unread.extend(self.lines(min(left, 0.5)))
        raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(self.seen[-60:])}")
