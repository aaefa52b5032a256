"""The CPU time of a command and every process under it, Chromium's renderers included, by program name.

    .venv/bin/python bench/tree_cpu.py .venv/bin/pytest -n 2 -p no:cacheprovider -q tests/browser

`/usr/bin/time` misses the processes the command's children do not wait for (Chromium's renderers), and the
machine's busy core-seconds (`/proc/stat`) count the other users of a shared machine too. So this samples
`/proc` every 0.1 s: each process under the command, with its user and system time at its last sample (a
process that ends between two samples loses at most 0.1 s). The command's output goes to stderr.
"""
import os
import subprocess
import sys
import time
from collections import Counter

TICKS = os.sysconf("SC_CLK_TCK")


def processes():
    """{pid: (parent pid, program name, user + system seconds)} of every process now."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        found[int(name)] = (int(fields[1]), stat[stat.index("(") + 1:stat.rindex(")")],
                            (int(fields[11]) + int(fields[12])) / TICKS)
    return found


def under(root, found):
    tree, grown = {root}, True
    while grown:
        below = {pid for pid, (parent, _, _) in found.items() if parent in tree} - tree
        tree |= below
        grown = bool(below)
    return tree


def main(command):
    start = time.monotonic()
    child = subprocess.Popen(command, stdout=sys.stderr)
    last = {}
    while child.poll() is None:
        found = processes()
        for pid in under(child.pid, found):
            if pid in found:
                last[pid, found[pid][1]] = found[pid][2]
        time.sleep(0.1)
    by_name = Counter()
    for (_, name), seconds in last.items():
        by_name[name] += seconds
    print(f"CPU {sum(by_name.values()):.1f} s, wall {time.monotonic() - start:.1f} s, exit {child.returncode}; "
          + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in by_name.most_common() if seconds >= 0.5))
    return child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
