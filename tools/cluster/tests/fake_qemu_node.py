#!/usr/bin/env python3
"""A stand-in for qemu-system-x86_64 in the launcher's tests.

It finds its node by `-name NODE` and plays that node's steps from the
JSON object in the file $FAKE_CLUSTER_SCENARIO ({"node": [steps]}; a
node not listed uses "*"). Steps:
  {"out": "text"}   write text to stdout
  {"sleep": S}      pause
  {"exit": N}       exit with status N
  {"hang": true}    sleep forever (the default at the end)
It answers HMP on the `-monitor unix:PATH,...` socket ("(qemu) " prompts)
and appends each command to $FAKE_CLUSTER_MONITOR_LOG as `NODE COMMAND`.
It writes its pid to $FAKE_CLUSTER_PIDS/NODE.pid and its argv to
$FAKE_CLUSTER_PIDS/NODE.argv (JSON).
"""
import json
import os
import socket
import sys
import threading
import time


def serve_monitor(path, node):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    while True:
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"QEMU 7.2 monitor\r\n(qemu) ")
            data = b""
            while True:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
                while b"\n" in data:
                    line, data = data.split(b"\n", 1)
                    log = os.environ.get("FAKE_CLUSTER_MONITOR_LOG")
                    if log:
                        with open(log, "a") as f:
                            f.write(f"{node} {line.decode().strip()}\n")
                    conn.sendall(line + b"\r\n(qemu) ")


def main():
    argv = sys.argv[1:]
    node = argv[argv.index("-name") + 1]
    pids = os.environ.get("FAKE_CLUSTER_PIDS")
    if pids:
        with open(os.path.join(pids, f"{node}.pid"), "w") as f:
            f.write(str(os.getpid()))
        with open(os.path.join(pids, f"{node}.argv"), "w") as f:
            json.dump(argv, f)
    monitor = argv[argv.index("-monitor") + 1]
    path = monitor.split(":", 1)[1].split(",")[0]
    threading.Thread(target=serve_monitor, args=(path, node), daemon=True).start()
    with open(os.environ["FAKE_CLUSTER_SCENARIO"]) as f:
        scenario = json.load(f)
    steps = scenario.get(node, scenario.get("*", []))
    for step in steps:
        if "out" in step:
            sys.stdout.write(step["out"])
            sys.stdout.flush()
        elif "sleep" in step:
            time.sleep(step["sleep"])
        elif "exit" in step:
            sys.stdout.flush()
            os._exit(step["exit"])
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
