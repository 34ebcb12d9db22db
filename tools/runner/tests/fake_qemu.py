#!/usr/bin/env python3
"""A stand-in for qemu-system-x86_64 used by the runner's tests.

It ignores its arguments (but can record them) and plays a scenario: a JSON
list of steps read from the file named by $FAKE_QEMU_SCENARIO.

  {"out": "text"}           write text (UTF-8) to stdout, flushed
  {"hex": "ff0a"}           write raw bytes given in hex
  {"sleep": 0.5}            pause
  {"spin": 0.5}             busy-loop on the CPU (a guest that never halts)
  {"repeat": "tick\\n", "every": 0.1, "count": 100}
                            write a line every `every` seconds
  {"spawn_sleeper": "/tmp/pidfile"}
                            start a child `sleep 60` that inherits stdout
                            and write its pid to that file
  {"ignore_term": true}     ignore SIGTERM from now on
  {"exit": 33}              exit with that status
  {"hang": true}            sleep forever

$FAKE_QEMU_ARGV, if set, names a file that receives argv as JSON.
Without an exit step the fake exits 0 at the end of the scenario.
"""
import json
import os
import signal
import subprocess
import sys
import time


def main() -> int:
    argv_file = os.environ.get("FAKE_QEMU_ARGV")
    if argv_file:
        with open(argv_file, "w") as f:
            json.dump(sys.argv[1:], f)
    with open(os.environ["FAKE_QEMU_SCENARIO"]) as f:
        steps = json.load(f)
    out = sys.stdout.buffer
    for step in steps:
        if "out" in step:
            out.write(step["out"].encode("utf-8"))
            out.flush()
        elif "hex" in step:
            out.write(bytes.fromhex(step["hex"]))
            out.flush()
        elif "sleep" in step:
            time.sleep(step["sleep"])
        elif "spin" in step:
            end = time.monotonic() + step["spin"]
            while time.monotonic() < end:
                pass
        elif "repeat" in step:
            for _ in range(step.get("count", 1_000_000)):
                out.write(step["repeat"].encode("utf-8"))
                out.flush()
                time.sleep(step.get("every", 0.1))
        elif "spawn_sleeper" in step:
            child = subprocess.Popen(["sleep", "60"], stdout=sys.stdout)
            with open(step["spawn_sleeper"], "w") as f:
                f.write(str(child.pid))
        elif "ignore_term" in step:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        elif "exit" in step:
            out.flush()
            os._exit(step["exit"])
        elif "hang" in step:
            while True:
                time.sleep(3600)
        else:
            print(f"fake_qemu: unknown step {step}", file=sys.stderr)
            return 99
    return 0


if __name__ == "__main__":
    sys.exit(main())
