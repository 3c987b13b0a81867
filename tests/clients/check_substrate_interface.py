"""py-substrate-interface reads the devnet like a node (run by scripts/client-checks).

Usage: check_substrate_interface.py WS_URL UPGRADE_BLOCK
"""
import sys

from substrateinterface import SubstrateInterface

url, upgrade = sys.argv[1], int(sys.argv[2])
s = SubstrateInterface(url=url)
assert s.chain == "Taoscope Devnet", s.chain
assert s.properties == {"ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO"}, s.properties


def stake_added_lengths(number):
    h = s.get_block_hash(number)
    return [len(e.value["attributes"]) for e in s.get_events(block_hash=h) if e.value["event_id"] == "StakeAdded"]


before = [n for b in range(3, upgrade + 1) for n in stake_added_lengths(b)]
after = [n for b in range(upgrade + 1, upgrade + 12) for n in stake_added_lengths(b)]
assert before and set(before) == {5}, before
assert after and set(after) == {6}, after

h = s.get_block_hash(upgrade - 2)
block = s.get_block(block_hash=h)
calls = [(x.value["call"]["call_module"], x.value["call"]["call_function"]) for x in block["extrinsics"]]
assert calls[0] == ("Timestamp", "set"), calls
assert s.get_block_runtime_version(h)["specVersion"] == 233
assert s.query("SubtensorModule", "SubnetTAO", [1], block_hash=h).value > 0

h = s.get_block_hash(upgrade + 5)
assert s.get_block_runtime_version(h)["specVersion"] == 343
assert s.query("Swap", "AlphaSqrtPrice", [1], block_hash=h).value["bits"] > 0
print(f"py-substrate-interface: ok ({len(before)} 5-field and {len(after)} 6-field StakeAdded)")
