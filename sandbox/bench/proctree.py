"""CPU time and memory of a process and everything it started, read from Linux's /proc (no psutil).

The fleet benchmark measures the qcluster it starts: the cluster's parent, its sentinel, the scheduler's
and the pusher's loops and its worker processes, all children of the one process it launched.
"""

from __future__ import annotations

import os
from pathlib import Path

_PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after its closing one.
    return text[text.rindex(")") + 2 :].split()


def tree(root: int) -> list[int]:
    """``root`` and its living descendants."""
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def cpu_seconds(root: int) -> float:
    """User and system CPU of the tree's living processes, plus what its reaped children used."""
    total = 0.0
    for pid in tree(root):
        fields = _stat(pid)
        if fields is not None:
            # utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the name.
            total += sum(int(value) for value in fields[11:15]) / _TICKS
    return total


def largest_rss_mb(root: int) -> float:
    """The resident memory of the tree's largest process, in MiB."""
    largest = 0
    for pid in tree(root):
        fields = _stat(pid)
        if fields is not None:
            largest = max(largest, int(fields[21]) * _PAGE)  # rss, in pages: field 24
    return largest / 2**20
