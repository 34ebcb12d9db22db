"""make check's judging of real cluster runs, on forged transcripts."""
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import check_cluster  # noqa: E402

RUN = dict(name="x", description={"nodes": [{}, {}]}, status=0,
           lines=[r"^\[n1\] TESSERA: SERVING node=11$", r"^CLUSTER t: PASS"])
OUT = "[n1] TESSERA: SERVING node=11\nCLUSTER t: PASS n1=up n2=killed\n"


def err(*pids):
    return "".join(f"cluster: n{i + 1}: pid {pid}, tessera 192.0.2.1{i} dgram\n" for i, pid in enumerate(pids))


class Judge(unittest.TestCase):
    def test_a_good_transcript_passes(self):
        self.assertEqual(check_cluster.judge(RUN, 0, OUT, err(999999991, 999999992)), [])

    def test_forged_failures_are_caught(self):
        self.assertIn("exit status 1, expected 0", check_cluster.judge(RUN, 1, OUT, err(999999991, 999999992)))
        problems = check_cluster.judge(RUN, 0, OUT.replace("[n1] ", ""), err(999999991, 999999992))
        self.assertEqual(problems, [r"line /^\[n1\] TESSERA: SERVING node=11$/ missing"])
        self.assertEqual(check_cluster.judge(RUN, 0, OUT, err(999999991)),
                         ["1 QEMU pids reported, expected 2"])

    def test_a_surviving_process_is_caught_and_killed(self):
        survivor = subprocess.Popen(["sleep", "30"])
        try:
            problems = check_cluster.judge(RUN, 0, OUT, err(999999991, survivor.pid))
            self.assertEqual(problems, [f"n2's QEMU (pid {survivor.pid}) outlived the launcher"])
            self.assertEqual(survivor.wait(timeout=5), -9)
        finally:
            if survivor.poll() is None:
                survivor.kill()
                survivor.wait()


if __name__ == "__main__":
    unittest.main()
