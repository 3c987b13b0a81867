"""Runs the research notebooks headless against a live Taoscope server (scripts/notebooks).

Steps, each failing loudly:
  1. wait until the server has indexed and analysed at least --blocks blocks;
  2. record demonstration inference audits for the top miners of every subnet (what an auditor would post:
     honest miners send the reference model's embeddings, a "drifting" one a noisy copy, a
     "wrong model" one unrelated vectors), so the miner table has pass rates to show;
  3. write every dataset the DuckDB notebook reads with `taoscope export` into --export-dir;
  4. execute each notebook with nbclient (a failing cell fails the run) and, with --update,
     write it back with its outputs; otherwise into --out-dir.
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
from jupyter_client import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
NOTEBOOKS = ["subnet_research.ipynb", "duckdb_research.ipynb"]
DATASETS = ["candles", "emissions", "flows", "validator_rankings", "miner_rankings", "yuma_audit", "inference_audits"]
PROMPTS = [
    "What is the current emission of subnet 1?",
    "Summarise the validator's dividends over the last epoch.",
    "Bittensor rewards miners for useful machine intelligence.",
    "The pool price is the TAO reserve divided by the alpha reserve.",
    "A validator sets weights on miners every tempo blocks.",
    "Explain Yuma Consensus in one sentence.",
    "Staking moves TAO into a subnet's pool in exchange for alpha.",
    "Which subnet had the largest net inflow yesterday?",
]


def gql(url, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(f"{url}/graphql", body, {"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        out = json.load(resp)
    if out.get("errors"):
        raise RuntimeError(f"GraphQL errors: {out['errors']}")
    return out["data"]


def wait_for_analytics(url, blocks, timeout_s):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            status = gql(url, "{ status { indexedHeight analyticsHeight } }")["status"]
            last = status
            if (status["indexedHeight"] or 0) >= blocks and (status["analyticsHeight"] or 0) >= blocks:
                print(f"execute: indexed {status['indexedHeight']}, analysed {status['analyticsHeight']}", flush=True)
                return
        except OSError as e:
            last = e
        time.sleep(2)
    raise SystemExit(f"execute: the server did not analyse {blocks} blocks in {timeout_s} s (last status {last})")


def noisy(vector, sigma, rng):
    v = [x + rng.gauss(0.0, sigma) for x in vector]
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def seed_audits(url, miners_per_subnet):
    """Posts audits for the top miners of every subnet; returns how many runs, and the subnets."""
    reference = gql(url, "query($t: [String!]!) { referenceEmbed(texts: $t) { text embedding } }", {"t": PROMPTS})
    reference = reference["referenceEmbed"]
    netuids = [s["netuid"] for s in gql(url, "{ subnets { netuid } }")["subnets"] if s["netuid"] != 0]
    rng = random.Random(7)
    runs = 0
    mutation = """mutation($n: Int!, $h: String!, $items: [EmbeddingAuditInput!]!) {
      auditEmbeddings(netuid: $n, hotkey: $h, items: $items) { summary { passed scored } } }"""
    audited = []
    for netuid in netuids:
        ranking = gql(url, "query($n: Int!, $k: Int!) { subnet(netuid: $n) { minerRankings(first: $k) { nodes { hotkey } } } }",
                      {"n": netuid, "k": miners_per_subnet})
        nodes = ranking["subnet"]["minerRankings"]["nodes"]
        if nodes:
            audited.append(netuid)
        for i, miner in enumerate(nodes):
            behaviour = ["honest", "honest", "drifting", "wrong model"][i % 4]
            for _ in range(2):
                items = []
                for r in reference:
                    if behaviour == "honest":
                        emb = r["embedding"]
                    elif behaviour == "drifting":
                        emb = noisy(r["embedding"], 0.004 if rng.random() < 0.5 else 0.03, rng)
                    else:
                        emb = noisy([0.0] * len(r["embedding"]), 1.0, rng)
                    items.append({"text": r["text"], "embedding": emb})
                gql(url, mutation, {"n": netuid, "h": miner["hotkey"], "items": items})
                runs += 1
    print(f"execute: recorded {runs} demonstration audit runs", flush=True)
    return runs, audited


def wait_for_audited_epochs(url, netuids, timeout_s):
    """Pass rates count the audits up to each epoch: waits until every audited subnet has ranked
    an epoch after them (its top miner, audited, then shows its runs)."""
    query = "query($n: Int!) { subnet(netuid: $n) { minerRankings(first: 1) { nodes { blockNumber auditRuns } } } }"
    deadline = time.monotonic() + timeout_s
    waiting = list(netuids)
    while waiting and time.monotonic() < deadline:
        waiting = [n for n in waiting if not any(
            node["auditRuns"] > 0 for node in gql(url, query, {"n": n})["subnet"]["minerRankings"]["nodes"])]
        if waiting:
            time.sleep(2)
    if waiting:
        raise SystemExit(f"execute: subnets {waiting} ranked no epoch after the audits within {timeout_s} s")
    print(f"execute: the latest epochs of subnets {netuids} include the audits", flush=True)


def export_all(binary, database_url, export_dir):
    export_dir.mkdir(parents=True, exist_ok=True)
    for dataset in DATASETS:
        out = export_dir / f"{dataset}.parquet"
        subprocess.run([binary, "--log", "warn", "export", dataset, "--out", str(out), "--database-url", database_url],
                       check=True, stdout=subprocess.DEVNULL)
    print(f"execute: exported {len(DATASETS)} datasets into {export_dir}", flush=True)


def run_notebooks(url, export_dir, out_dir, update, timeout_s):
    os.environ["TAOSCOPE_URL"] = url
    os.environ["TAOSCOPE_EXPORT_DIR"] = str(export_dir)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name in NOTEBOOKS:
        path = HERE / name
        nb = nbformat.read(path, as_version=4)
        started = time.monotonic()
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(tempfile.mkdtemp()) / "kernel"))
        client = NotebookClient(nb, km=km, timeout=timeout_s, record_timing=False,
                                resources={"metadata": {"path": str(HERE)}})
        try:
            client.execute()
        finally:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
        target = path if update else out_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        cells = sum(1 for c in nb.cells if c.cell_type == "code")
        print(f"execute: {name}: {cells} code cells ran in {time.monotonic() - started:.1f} s -> {target}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", required=True)
    p.add_argument("--blocks", type=int, required=True, help="wait until this height is indexed and analysed")
    p.add_argument("--binary", required=True, help="the taoscope binary (for `taoscope export`)")
    p.add_argument("--database-url", required=True)
    p.add_argument("--export-dir", type=Path, required=True)
    p.add_argument("--out-dir", type=Path, required=True)
    p.add_argument("--update", action="store_true", help="write the executed notebooks back into notebooks/")
    p.add_argument("--wait-timeout", type=int, default=1800)
    p.add_argument("--cell-timeout", type=int, default=600)
    a = p.parse_args()
    url = a.url.rstrip("/")
    wait_for_analytics(url, a.blocks, a.wait_timeout)
    runs, audited = seed_audits(url, miners_per_subnet=8)
    if runs == 0:
        raise SystemExit("execute: no miners to audit (the devnet has no miner rankings)")
    wait_for_audited_epochs(url, audited, a.wait_timeout)
    export_all(a.binary, a.database_url, a.export_dir)
    run_notebooks(url, a.export_dir, a.out_dir, a.update, a.cell_timeout)


if __name__ == "__main__":
    sys.exit(main())
