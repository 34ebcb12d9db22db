import copy
import json
import os
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import description as desc  # noqa: E402

BASE = {
    "name": "t",
    "nodes": [
        {"name": "n1", "ip": "192.0.2.11", "roles": ["processor"]},
        {"name": "n2", "ip": "192.0.2.12", "roles": ["memory", "grm"]},
    ],
}


def with_change(change):
    data = copy.deepcopy(BASE)
    change(data)
    return data


class Valid(unittest.TestCase):
    def test_defaults(self):
        c = desc.parse(BASE)
        self.assertEqual([n.name for n in c.nodes], ["n1", "n2"])
        self.assertEqual(c.nodes[0].node_id, 1)
        self.assertEqual(c.nodes[1].node_id, 2)
        self.assertEqual(c.nodes[0].kind, "tessera")
        self.assertEqual(c.nodes[0].memory, "256M")
        self.assertEqual(c.segment.mtu, 1500)
        self.assertEqual(c.nodes[0].link.transport, "dgram")
        self.assertEqual(c.nodes[0].mac, "52:54:00:c0:02:0b")
        self.assertEqual(c.timeouts.total, 0.0)

    def test_examples_are_valid(self):
        examples = Path(__file__).resolve().parent.parent / "examples"
        files = sorted(examples.glob("*.json"))
        self.assertTrue(files)
        for path in files:
            desc.load(str(path))

    def test_link_impairment_inherits_the_segment(self):
        c = desc.parse(with_change(lambda d: (d.update(segment={"loss": 0.1, "delay_ms": 2}),
                                              d["nodes"][1].update(link={"loss": 0.5}))))
        self.assertEqual(c.nodes[0].link.impairment.loss, 0.1)
        self.assertEqual(c.nodes[0].link.impairment.delay_ms, 2)
        self.assertEqual(c.nodes[1].link.impairment.loss, 0.5)
        self.assertEqual(c.nodes[1].link.impairment.delay_ms, 2)

    def test_linux_peer(self):
        c = desc.parse(with_change(lambda d: d["nodes"].append(
            {"name": "peer", "kind": "linux", "ip": "192.0.2.50", "run": "rping -s -a 192.0.2.50"})))
        self.assertEqual(c.nodes[2].memory, "512M")
        self.assertEqual(c.nodes[2].roles, [])

    def test_partition_groups(self):
        self.assertEqual(desc.partition_groups(["a", "b", "c"], [["a"], ["b"]]), {"a": 1, "b": 2, "c": 0})


class Invalid(unittest.TestCase):
    def assertRefused(self, change, message):
        with self.assertRaises(desc.DescriptionError) as caught:
            desc.parse(with_change(change))
        self.assertRegex(str(caught.exception), message)

    def test_duplicate_name(self):
        self.assertRefused(lambda d: d["nodes"][1].update(name="n1"),
                           r"^nodes\[1\] \(n1\)\.name: n1 is already used by nodes\[0\] \(n1\)$")

    def test_duplicate_ip(self):
        self.assertRefused(lambda d: d["nodes"][1].update(ip="192.0.2.11"),
                           r"nodes\[1\] \(n2\)\.ip: 192\.0\.2\.11 is already used by nodes\[0\]")

    def test_duplicate_id(self):
        self.assertRefused(lambda d: [n.update(id=7) for n in d["nodes"]], r"\.id: 7 is already used")

    def test_address_outside_the_segment(self):
        self.assertRefused(lambda d: d["nodes"][0].update(ip="10.0.0.1"),
                           r"nodes\[0\] \(n1\)\.ip: 10\.0\.0\.1 is not a host address of the private segment "
                           r"192\.0\.2\.0/24")
        self.assertRefused(lambda d: d["nodes"][0].update(ip="192.0.2.255"), r"not a host address")
        self.assertRefused(lambda d: d["nodes"][0].update(ip="192.0.2.0"), r"not a host address")
        self.assertRefused(lambda d: d["nodes"][0].update(ip="192.0.2.1/24"), r"no /prefix")

    def test_unknown_keys(self):
        self.assertRefused(lambda d: d.update(colour="blue"), r"^description: unknown key 'colour'")
        self.assertRefused(lambda d: d["nodes"][0].update(ram="1G"), r"^nodes\[0\]: unknown key 'ram'")
        self.assertRefused(lambda d: d.update(segment={"jitter": 1}), r"^segment: unknown key 'jitter'")
        self.assertRefused(lambda d: d.update(timeouts={"boot": 1, "ever": 2}), r"^timeouts: unknown key 'ever'")
        self.assertRefused(lambda d: d["nodes"][0].update(link={"lossy": 1}), r"\.link: unknown key 'lossy'")

    def test_bad_values(self):
        self.assertRefused(lambda d: d["nodes"][0].update(kind="bsd"), r"\.kind: 'bsd' is not one of")
        self.assertRefused(lambda d: d["nodes"][0].update(roles=["cook"]), r"\.roles: 'cook' is not one of")
        self.assertRefused(lambda d: d["nodes"][0].update(roles=[]), r"needs at least one role")
        self.assertRefused(lambda d: d["nodes"][0].update(cpus=0), r"\.cpus: 0 is outside 1\.\.64")
        self.assertRefused(lambda d: d["nodes"][0].update(cpus=True), r"\.cpus: expected an integer")
        self.assertRefused(lambda d: d["nodes"][0].update(memory="lots"), r"\.memory: 'lots' is not a size")
        self.assertRefused(lambda d: d["nodes"][0].update(name="N 1"), r"is not a node name")
        self.assertRefused(lambda d: d.update(segment={"mtu": 9203}), r"segment\.mtu: 9203 is outside 68\.\.9202")
        self.assertRefused(lambda d: d.update(segment={"loss": 1.5}), r"segment\.loss: 1\.5 is outside")
        self.assertRefused(lambda d: d["nodes"][0].update(link={"transport": "tap"}), r"'tap' is not one of")
        self.assertRefused(lambda d: d["nodes"][0].update(link={"port": 5000}), r"only a stream link has a port")
        self.assertRefused(lambda d: d.update(nodes=[]), r"^nodes: expected a non-empty list")
        self.assertRefused(lambda d: [n.update(roles=["grm"]) for n in d["nodes"]], r"more than one node has the grm")

    def test_config_keys(self):
        self.assertRefused(lambda d: d["nodes"][0].update(config={"mode": "ready"}), r"'mode' is not a tessera\.\*")
        self.assertRefused(lambda d: d["nodes"][0].update(config={"tessera.ip": "192.0.2.3/24"}),
                           r"tessera\.ip is set by the launcher")
        self.assertRefused(lambda d: d["nodes"][0].update(config={"tessera.mode": "a b"}), r"without blanks")
        self.assertRefused(lambda d: d["nodes"][0].update(config={"tessera.mode": "a#b"}), r"without blanks")

    def test_kind_specific_fields(self):
        self.assertRefused(lambda d: d["nodes"][1].update(excache="64M"), r"only a Tessera processor node")
        self.assertRefused(lambda d: d["nodes"][0].update(run="ls"), r"only a Linux peer runs a command")
        self.assertRefused(lambda d: d["nodes"].append({"name": "p", "kind": "linux", "ip": "192.0.2.9",
                                                        "ends": True}), r"only a Tessera node ends")
        self.assertRefused(lambda d: d["nodes"][0].update(ends="yes"), r"ends: 'yes' is not true or false")
        self.assertRefused(lambda d: d["nodes"].append({"name": "p", "kind": "linux", "ip": "192.0.2.9",
                                                        "roles": ["memory"]}), r"a Linux peer has no Tessera roles")

    def test_partitions_name_nodes(self):
        self.assertRefused(lambda d: d.update(segment={"partitions": [["n1"], ["n9"]]}), r"no node named 'n9'")
        self.assertRefused(lambda d: d.update(segment={"partitions": [["n1"], ["n1"]]}), r"n1 is in two groups")

    def test_load_reports_the_file_and_json_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.json")
            Path(path).write_text('{"nodes": [,]}')
            with self.assertRaises(desc.DescriptionError) as caught:
                desc.load(path)
            self.assertRegex(str(caught.exception), r"bad\.json: line 1 column \d+")
            Path(path).write_text(json.dumps({"nodes": [{"name": "a", "ip": "1.2.3.4"}]}))
            with self.assertRaises(desc.DescriptionError) as caught:
                desc.load(path)
            self.assertRegex(str(caught.exception), r"bad\.json: nodes\[0\] \(a\)\.ip")


if __name__ == "__main__":
    unittest.main()
