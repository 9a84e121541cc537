"""The top of a py-spy profile by inclusive ("cumulative") samples, like pstats' cumulative.

    .venv/bin/py-spy record --format raw --rate 250 -o spy.txt -- \\
        .venv/bin/python bench/bench_updates.py --growth-only --checkin-every 10
    .venv/bin/python bench/spy_top.py spy.txt [--top 15] [--thread MainThread]

py-spy samples real stacks, so time spent across awaits and SQLAlchemy's greenlet switches is
charged where it happened (cProfile's cumulative column double-counts both). Only samples of
the event loop's thread are counted; idle samples (waiting in select/epoll) are shown as such.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--thread", default="MainThread", help="substring of the thread frame")
    args = parser.parse_args()
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in args.file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not frames or args.thread not in frames[0]:
            continue
        n = int(count)
        total += n
        for frame in set(frames[1:]):
            inclusive[frame] += n
        own[frames[-1]] += n
    print(f"{total} samples of the {args.thread} thread")
    print(f"{'cum%':>6} {'own%':>6}  function (file:line)")
    for frame, n in inclusive.most_common(args.top):
        print(f"{100 * n / total:6.1f} {100 * own[frame] / total:6.1f}  {frame}")


if __name__ == "__main__":
    main()
