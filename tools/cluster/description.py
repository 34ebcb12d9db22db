"""The cluster description: a JSON file naming the nodes, the segment that
joins them and the timeouts (tools/cluster/README.md has the format).

load(path) / parse(data) return a Cluster or raise DescriptionError whose
message names the offending field (`nodes[1].ip: ...`). Everything is
checked before a VM starts: unknown keys, duplicate names, ids and
addresses, addresses outside 192.0.2.0/24, values of the wrong type.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from typing import Dict, List, Optional

SEGMENT_NETWORK = ipaddress.IPv4Network("192.0.2.0/24")
KINDS = ("tessera", "linux")
ROLES = ("processor", "memory", "storage", "grm")
TRANSPORTS = ("dgram", "stream")
MIN_MTU, MAX_MTU = 68, 9216 - 14  # 9216-byte frames at most, Ethernet header included
# Keys the launcher writes itself; a node's `config` must not set them.
MANAGED_KEYS = ("tessera.node", "tessera.ip", "tessera.roles", "tessera.grm")
NAME_RE = re.compile(r"[a-z][a-z0-9-]{0,15}")
MEMORY_RE = re.compile(r"[1-9]\d*[KMGT]?")
CONFIG_VALUE_RE = re.compile(r"[!-~]+")  # printable, no blank; '#' checked apart


class DescriptionError(Exception):
    """The description cannot be used as written."""


@dataclasses.dataclass
class Impairment:
    loss: float = 0.0        # probability that a frame is dropped
    delay_ms: float = 0.0    # added one-way delay


@dataclasses.dataclass
class Link:
    transport: str = "dgram"  # dgram: unix datagram socket; stream: TCP on 127.0.0.1
    port: int = 0             # stream: the switch's port (0: any free one)
    impairment: Impairment = dataclasses.field(default_factory=Impairment)


@dataclasses.dataclass
class Node:
    name: str
    kind: str
    ip: str
    node_id: int
    roles: List[str]
    memory: str
    cpus: int
    link: Link
    config: Dict[str, str]           # extra tessera.* keys (Tessera nodes)
    excache: Optional[str] = None    # ExCache size, for the processor monitor
    run: Optional[str] = None        # Linux peer: the command to run
    ends: bool = False               # Tessera: runs to an end; QEMU exit 33 (success) is then normal

    @property
    def mac(self) -> str:
        # Unique because addresses are: the last octet of the address.
        return "52:54:00:c0:02:%02x" % int(self.ip.split(".")[3])


@dataclasses.dataclass
class Segment:
    mtu: int = 1500
    impairment: Impairment = dataclasses.field(default_factory=Impairment)
    partitions: List[List[str]] = dataclasses.field(default_factory=list)
    seed: int = 1


@dataclasses.dataclass
class Timeouts:
    boot: float = 120.0      # until every node is up
    silence: float = 60.0    # longest quiet time of a node that is not up yet
    total: float = 0.0       # whole run; 0: none


@dataclasses.dataclass
class Cluster:
    name: str
    nodes: List[Node]
    segment: Segment
    timeouts: Timeouts
    firmware: str = "bios"

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)


def load(path: str) -> Cluster:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise DescriptionError(f"{path}: {e.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DescriptionError(f"{path}: line {e.lineno} column {e.colno}: {e.msg}") from None
    try:
        return parse(data)
    except DescriptionError as e:
        raise DescriptionError(f"{path}: {e}") from None


def _fields(where: str, value, allowed, required=()) -> dict:
    if not isinstance(value, dict):
        raise DescriptionError(f"{where}: expected an object, got {type(value).__name__}")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise DescriptionError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(allowed)})")
    for key in required:
        if key not in value:
            raise DescriptionError(f"{where}: missing {key!r}")
    return value


def _number(where: str, value, low: float, high: float, integer=False):
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise DescriptionError(f"{where}: expected {'an integer' if integer else 'a number'}, got {value!r}")
    if not low <= value <= high:
        raise DescriptionError(f"{where}: {value!r} is outside {low:g}..{high:g}")
    return value


def _string(where: str, value) -> str:
    if not isinstance(value, str):
        raise DescriptionError(f"{where}: expected a string, got {value!r}")
    return value


def _impairment(where: str, data: dict, base: Impairment) -> Impairment:
    out = dataclasses.replace(base)
    if "loss" in data:
        out.loss = float(_number(f"{where}.loss", data["loss"], 0.0, 1.0))
    if "delay_ms" in data:
        out.delay_ms = float(_number(f"{where}.delay_ms", data["delay_ms"], 0.0, 10000.0))
    return out


def _segment(data) -> Segment:
    data = _fields("segment", data, ("mtu", "loss", "delay_ms", "partitions", "seed"))
    segment = Segment()
    if "mtu" in data:
        segment.mtu = _number("segment.mtu", data["mtu"], MIN_MTU, MAX_MTU, integer=True)
    segment.impairment = _impairment("segment", data, Impairment())
    if "seed" in data:
        segment.seed = _number("segment.seed", data["seed"], 0, 2**32 - 1, integer=True)
    if "partitions" in data:
        groups = data["partitions"]
        if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
            raise DescriptionError("segment.partitions: expected a list of lists of node names")
        segment.partitions = [[_string("segment.partitions", n) for n in g] for g in groups]
    return segment


def _timeouts(data) -> Timeouts:
    data = _fields("timeouts", data, ("boot", "silence", "total"))
    t = Timeouts()
    for key in ("boot", "silence"):
        if key in data:
            setattr(t, key, float(_number(f"timeouts.{key}", data[key], 0.1, 86400.0)))
    if "total" in data:
        t.total = float(_number("timeouts.total", data["total"], 0.0, 86400.0))
    return t


def _node(where: str, data, index: int, segment: Segment) -> Node:
    data = _fields(where, data, ("name", "kind", "ip", "id", "roles", "memory", "cpus", "link", "config",
                                 "excache", "run", "ends"), required=("name", "ip"))
    name = _string(f"{where}.name", data["name"])
    if not NAME_RE.fullmatch(name):
        raise DescriptionError(f"{where}.name: {name!r} is not a node name (a-z, 0-9, '-', "
                               f"starting with a letter, at most 16)")
    where = f"nodes[{index}] ({name})"
    kind = _string(f"{where}.kind", data.get("kind", "tessera"))
    if kind not in KINDS:
        raise DescriptionError(f"{where}.kind: {kind!r} is not one of {', '.join(KINDS)}")
    text = _string(f"{where}.ip", data["ip"])
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        raise DescriptionError(f"{where}.ip: {text!r} is not a dotted IPv4 address (no /prefix: "
                               f"the segment is {SEGMENT_NETWORK})") from None
    if address not in SEGMENT_NETWORK or address in (SEGMENT_NETWORK.network_address,
                                                     SEGMENT_NETWORK.broadcast_address):
        raise DescriptionError(f"{where}.ip: {text} is not a host address of the private segment "
                               f"{SEGMENT_NETWORK}")
    roles = data.get("roles", list(ROLES) if kind == "tessera" else [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise DescriptionError(f"{where}.roles: expected a list of role names")
    if kind == "linux" and roles:
        raise DescriptionError(f"{where}.roles: a Linux peer has no Tessera roles")
    for role in roles:
        if role not in ROLES:
            raise DescriptionError(f"{where}.roles: {role!r} is not one of {', '.join(ROLES)}")
    if len(set(roles)) != len(roles):
        raise DescriptionError(f"{where}.roles: a role is listed twice")
    if kind == "tessera" and not roles:
        raise DescriptionError(f"{where}.roles: a Tessera node needs at least one role")
    memory = _string(f"{where}.memory", data.get("memory", "256M" if kind == "tessera" else "512M"))
    if not MEMORY_RE.fullmatch(memory):
        raise DescriptionError(f"{where}.memory: {memory!r} is not a size such as 256M")
    cpus = _number(f"{where}.cpus", data.get("cpus", 1), 1, 64, integer=True)
    node_id = _number(f"{where}.id", data.get("id", index + 1), 0, 65535, integer=True)
    link_data = _fields(f"{where}.link", data.get("link", {}), ("transport", "port", "loss", "delay_ms"))
    link = Link(impairment=_impairment(f"{where}.link", link_data, segment.impairment))
    link.transport = _string(f"{where}.link.transport", link_data.get("transport", "dgram"))
    if link.transport not in TRANSPORTS:
        raise DescriptionError(f"{where}.link.transport: {link.transport!r} is not one of {', '.join(TRANSPORTS)}")
    if "port" in link_data:
        if link.transport != "stream":
            raise DescriptionError(f"{where}.link.port: only a stream link has a port")
        link.port = _number(f"{where}.link.port", link_data["port"], 0, 65535, integer=True)
    config = data.get("config", {})
    if not isinstance(config, dict):
        raise DescriptionError(f"{where}.config: expected an object of tessera.* keys")
    if config and kind != "tessera":
        raise DescriptionError(f"{where}.config: only a Tessera node takes tessera.* keys")
    for key, value in config.items():
        if not key.startswith("tessera.") or not CONFIG_VALUE_RE.fullmatch(key):
            raise DescriptionError(f"{where}.config: {key!r} is not a tessera.* key")
        if key in MANAGED_KEYS:
            raise DescriptionError(f"{where}.config: {key} is set by the launcher from the node's fields")
        if not isinstance(value, str) or not CONFIG_VALUE_RE.fullmatch(value) or "#" in value:
            raise DescriptionError(f"{where}.config.{key}: {value!r} must be a string without blanks or '#'")
    excache = data.get("excache")
    if excache is not None:
        excache = _string(f"{where}.excache", excache)
        if kind != "tessera" or "processor" not in roles:
            raise DescriptionError(f"{where}.excache: only a Tessera processor node has an ExCache")
        if not MEMORY_RE.fullmatch(excache):
            raise DescriptionError(f"{where}.excache: {excache!r} is not a size such as 64M")
    run = data.get("run")
    if run is not None:
        run = _string(f"{where}.run", run)
        if kind != "linux":
            raise DescriptionError(f"{where}.run: only a Linux peer runs a command")
        if not run.strip() or "\n" in run or "%" in run.replace("%20", ""):
            raise DescriptionError(f"{where}.run: {run!r} must be one non-empty line without '%'")
    ends = data.get("ends", False)
    if not isinstance(ends, bool):
        raise DescriptionError(f"{where}.ends: {ends!r} is not true or false")
    if ends and kind != "tessera":
        raise DescriptionError(f"{where}.ends: only a Tessera node ends by its exit code (a peer prints PEER: EXIT)")
    return Node(name=name, kind=kind, ip=str(address), node_id=node_id, roles=list(roles), memory=memory,
                cpus=cpus, link=link, config=dict(config), excache=excache, run=run, ends=ends)


def parse(data) -> Cluster:
    data = _fields("description", data, ("name", "firmware", "nodes", "segment", "timeouts"), required=("nodes",))
    name = _string("name", data.get("name", "cluster"))
    firmware = _string("firmware", data.get("firmware", "bios"))
    if firmware not in ("bios", "uefi"):
        raise DescriptionError(f"firmware: {firmware!r} is not bios or uefi")
    segment = _segment(data.get("segment", {}))
    timeouts = _timeouts(data.get("timeouts", {}))
    nodes_data = data["nodes"]
    if not isinstance(nodes_data, list) or not nodes_data:
        raise DescriptionError("nodes: expected a non-empty list")
    nodes = [_node(f"nodes[{i}]", n, i, segment) for i, n in enumerate(nodes_data)]
    for attribute, label in (("name", "name"), ("ip", "ip"), ("node_id", "id")):
        seen = {}
        for i, node in enumerate(nodes):
            value = getattr(node, attribute)
            if value in seen:
                raise DescriptionError(f"nodes[{i}] ({node.name}).{label}: {value} is already used by "
                                       f"nodes[{seen[value]}] ({nodes[seen[value]].name})")
            seen[value] = i
    ports = [n.link.port for n in nodes if n.link.port]
    if len(set(ports)) != len(ports):
        raise DescriptionError("link.port: two nodes ask for the same stream port")
    names = {n.name for n in nodes}
    placed = []
    for group in segment.partitions:
        for member in group:
            if member not in names:
                raise DescriptionError(f"segment.partitions: no node named {member!r}")
            if member in placed:
                raise DescriptionError(f"segment.partitions: {member} is in two groups")
            placed.append(member)
    grms = [n for n in nodes if "grm" in n.roles]
    if len(grms) > 1:
        raise DescriptionError(f"roles: more than one node has the grm role ({', '.join(n.name for n in grms)})")
    return Cluster(name=name, nodes=nodes, segment=segment, timeouts=timeouts, firmware=firmware)


def partition_groups(names: List[str], partitions: List[List[str]]) -> Dict[str, int]:
    """Group number of each node; nodes in no listed group share group 0."""
    group = {name: 0 for name in names}
    for i, members in enumerate(partitions, start=1):
        for member in members:
            group[member] = i
    return group
