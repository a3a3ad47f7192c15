"""How fast, and in how much memory, a hostile config file is refused: the 342-byte YAML
alias bomb and a 1 GiB file (sparse), given to `load_config_file` and `load_bench_config`.

Each case runs in a fresh subprocess, which reports the time of the refusing call and its
peak resident memory (ru_maxrss) before and after the call.

    python benchmarks/config_limits.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]\n"
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
).encode()

# Runs in the subprocess: import first (its memory is the baseline), then time the call.
CHILD = """
import json, resource, sys, time
from pathlib import Path
from steering_core.bench.config import load_bench_config
from steering_core.config import load_config_file
from steering_core.errors import InvalidInput
loader = {"session": load_config_file, "bench": load_bench_config}[sys.argv[1]]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    loader(Path(sys.argv[2]))
    message = None
except InvalidInput as error:
    message = str(error)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "rss_before_kb": before, "rss_after_kb": after,
                  "message": message}))
"""


def measure(loader: str, path: Path) -> dict:
    """One refusal in a fresh interpreter."""
    output = subprocess.run(
        [sys.executable, "-c", CHILD, loader, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    ).stdout
    return json.loads(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="config-limits-") as folder:
        bomb = Path(folder) / "bomb.yaml"
        bomb.write_bytes(ALIAS_BOMB)
        huge = Path(folder) / "huge.yaml"
        with huge.open("wb") as handle:
            handle.write(b"prompt: a\n")
            handle.truncate(2**30)  # sparse: the disk holds almost nothing
        print(
            f"python {platform.python_version()}, {platform.machine()}, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
        )
        # Just under the size cap, all of it parsed: the slowest file that is read whole.
        largest = Path(folder) / "largest.yaml"
        entries = "".join(f"    p{i}: {i}\n" for i in range(30_000))
        text = "prompt: a\nsampler:\n  name: trust_region\n  params:\n" + entries
        largest.write_text(text[: (256 << 10) - 16].rsplit("\n", 1)[0] + "\n")
        print(f"alias bomb: {len(ALIAS_BOMB)} bytes; huge file: {huge.stat().st_size} bytes")
        print("| case | loader | median s | max s | peak RSS MB | RSS added by the call MB |")
        print("|---|---|---|---|---|---|")
        cases = (("alias bomb", bomb), ("1 GiB file", huge), ("256 KiB file", largest))
        for name, path in cases:
            for loader in ("session", "bench"):
                runs = [measure(loader, path) for _ in range(args.repeat)]
                assert all(run["message"] for run in runs), "not refused"
                times = sorted(run["seconds"] for run in runs)
                peak = max(run["rss_after_kb"] for run in runs) / 1024
                added = max(run["rss_after_kb"] - run["rss_before_kb"] for run in runs) / 1024
                print(
                    f"| {name} | {loader} | {times[len(times) // 2]:.4f} | {times[-1]:.4f} "
                    f"| {peak:.0f} | {added:.1f} |"
                )
        print("message:", runs[-1]["message"][:120])


if __name__ == "__main__":
    main()
