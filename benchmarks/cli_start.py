"""Start-up time of the console script: `labwright --help`, `labwright tool list` and `import labwright`.

Each is run as a fresh subprocess (what a user waits for); the first run is reported apart (cold file cache, .pyc
writing), then the median of the next runs. Target (ANCHORS.md): <= 1.5 s for `--help` and `tool list` on 2 cores.
There is no peer: the comparison is with the engines' own import time, printed alongside (what every command paid
before the imports were made lazy).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 7
COMMANDS = {
    "labwright --help": [sys.executable, "-m", "labwright.cli", "--help"],
    "labwright tool list": [sys.executable, "-m", "labwright.cli", "tool", "list"],
    "import labwright": [sys.executable, "-c", "import labwright"],
    "(engines: import jax, rdkit, langgraph)": [
        sys.executable,
        "-c",
        "import jax, rdkit.Chem, langgraph.graph",
    ],
}


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    print(f"{'command':42s} {'cold s':>8s} {'median s':>9s}  (of {RUNS - 1} warm runs)")
    for label, cmd in COMMANDS.items():
        times = [wall(cmd) for _ in range(RUNS)]
        print(f"{label:42s} {times[0]:8.3f} {statistics.median(times[1:]):9.3f}")


if __name__ == "__main__":
    main()
