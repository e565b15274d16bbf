"""Summarise py-spy raw profiles (``bench/exchange.py --profile DIR``): where a frame's samples go.

    python bench/profile_tree.py DIR/recipient-worker-1.txt                 # heaviest frames
    python bench/profile_tree.py DIR/axis-hub.txt send_edoc --depth 2       # below one frame

A raw profile has one line per distinct stack, ``frame;frame;...;frame count``. Without a frame
name this prints the frames holding the most samples (inclusive); with one, how the samples under
the first frame of that name split among the next ``--depth`` frames. The bench records with
``--gil``, so samples approximate CPU time holding the GIL.
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path


def _frames(line: str) -> tuple[list[str], int] | None:
    stack, _, count = line.rstrip().rpartition(" ")
    if not stack or not count.isdigit():
        return None
    names = []
    for frame in stack.split(";"):
        function, _, where = frame.partition(" (")
        names.append(f"{function} {where.split(':')[0].rsplit('/', 1)[-1]}".strip())
    return names, int(count)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile", type=Path, nargs="+")
    parser.add_argument("frame", nargs="?", default=None,
                        help="function name, e.g. send_edoc or Session.flush (default: top frames)")
    parser.add_argument("--depth", type=int, default=1)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    # a last positional that is not a file is the frame name
    if args.frame is None and len(args.profile) > 1 and not args.profile[-1].exists():
        args.frame = str(args.profile.pop())
    inclusive: collections.Counter[str] = collections.Counter()
    below: collections.Counter[str] = collections.Counter()
    total = under = 0
    for path in args.profile:
        for line in path.read_text(errors="replace").splitlines():
            parsed = _frames(line)
            if parsed is None:
                continue
            names, count = parsed
            total += count
            for name in dict.fromkeys(names):
                inclusive[name] += count
            if args.frame is not None:
                for i, name in enumerate(names):
                    if name.split(" ")[0] == args.frame:
                        under += count
                        below[" > ".join(names[i + 1:i + 1 + args.depth]) or "(itself)"] += count
                        break
    if args.frame is None:
        print(f"{total} samples")
        for name, count in inclusive.most_common(args.top):
            print(f"  {count:7d} {100 * count / max(total, 1):5.1f}%  {name}")
        return
    print(f"{args.frame}: {under} of {total} samples")
    for name, count in below.most_common(args.top):
        print(f"  {count:7d} {100 * count / max(under, 1):5.1f}%  {name}")


if __name__ == "__main__":
    main()
