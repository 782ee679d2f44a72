"""Tests of tools/verify-log.py, the independent verifier of the audit log.

Run from the repository's root with the standard library only:

    python3 -m unittest discover -s tools -p 'test_*.py'

The vectors of docs/audit-format.md are read out of the document itself (sections 1.3, 1.4, 7 and 8), so the
document and these tests cannot drift apart. Signing, which the verifier does not do, is RFC 8032 §6's
reference code, here, on the verifier's curve arithmetic; the tree, proofs and exports the tests build come
from the recursive definitions of §2-§4, not from the verifier's code.
"""

import base64
import hashlib
import hmac
import importlib.util
import json
import random
import re
import shlex
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "verify-log.py"
DOC = (HERE.parent / "docs" / "audit-format.md").read_text("utf-8")

_spec = importlib.util.spec_from_file_location("verify_log", SCRIPT)
V = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(V)


# ---------------------------------------------------------------------------------------------------------
# Reading docs/audit-format.md.


def sections(text):
    """{number: body} for every `## N. Title` and `### N.M Title` heading outside code blocks, and
    {title: body} for a heading without a number; a section's body holds its subsections'."""
    found, current, fenced = {}, None, False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        m = None if fenced else re.match(r"#{2,3} (?:(\d+(?:\.\d+)?)\.? )?(.*)$", line)
        if m:
            current = m[1] or m[2]
            found[current] = ""
        elif current is not None:
            found[current] += line
            if re.fullmatch(r"\d+\.\d+", current):
                found[current.split(".")[0]] += line
    return found


SECTION = sections(DOC)


def code_blocks(body):
    """The contents of the fenced code blocks of `body`, each with the newline of its last line."""
    return re.findall(r"^```[a-z]*\n(.*?)^```", body, re.S | re.M)


def hexes(text):
    return [bytes.fromhex(h) for h in re.findall(r"`([0-9a-f]{64})`", text)]


def doc_match(pattern, section):
    m = re.search(pattern, SECTION[section], re.S)
    if not m:
        raise AssertionError(f"docs/audit-format.md §{section} no longer says {pattern!r}")
    return m


# ---------------------------------------------------------------------------------------------------------
# What the tests build: signatures (RFC 8032 §6), trees and proofs (§2-§4 as defined), notes and exports.


def secret_expand(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def public_key(seed):
    return V.point_compress(V.point_mul(secret_expand(seed)[0], V.G))


def sign(seed, message):
    a, prefix = secret_expand(seed)
    public = V.point_compress(V.point_mul(a, V.G))
    r = V.sha512_modq(prefix + message)
    rs = V.point_compress(V.point_mul(r, V.G))
    s = (r + V.sha512_modq(rs + public + message) * a) % V.L
    return rs + s.to_bytes(32, "little")


ED25519 = b"\x01"  # the signature type of Ed25519 in key texts (§6.2)


def key_id(name, public):
    return hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]


def verifier_key(name, seed):
    public = public_key(seed)
    return f"{name}+{key_id(name, public).hex()}+{V.b64(ED25519 + public)}"


def signer_key(name, seed):
    return f"PRIVATE+KEY+{name}+{key_id(name, public_key(seed)).hex()}+{V.b64(ED25519 + seed)}"


def signature_line(name, seed, text):
    data = key_id(name, public_key(seed)) + sign(seed, text.encode())
    return f"\u2014 {name} {V.b64(data)}\n"


def signed_note(name, seed, text):
    return text + "\n" + signature_line(name, seed, text)


def checkpoint_text(origin, size, root, time="2026-12-07T09:05:00Z"):
    text = f"{origin}\n{size}\n{V.b64(root)}\n"
    return text + (f"time {time}\n" if time else "")


def largest_power_of_two_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes):
    """MTH of §2, over leaf hashes."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = largest_power_of_two_below(len(hashes))
    return V.node_hash(mth(hashes[:k]), mth(hashes[k:]))


def path(m, hashes):
    """PATH of §3."""
    if len(hashes) == 1:
        return []
    k = largest_power_of_two_below(len(hashes))
    if m < k:
        return path(m, hashes[:k]) + [mth(hashes[k:])]
    return path(m - k, hashes[k:]) + [mth(hashes[:k])]


def subproof(m, hashes, whole):
    """SUBPROOF of §4."""
    if m == len(hashes):
        return [] if whole else [mth(hashes)]
    k = largest_power_of_two_below(len(hashes))
    if m <= k:
        return subproof(m, hashes[:k], whole) + [mth(hashes[k:])]
    return subproof(m - k, hashes[k:], False) + [mth(hashes[:k])]


def canonical(event):
    """The leaf bytes as §1.2 says Python's standard library gives them."""
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def events(count, seed):
    """`count` audit events of the three kinds of §1.1, with strings that need escaping and numbers at the
    limits, as leaf bytes."""
    rng = random.Random(seed)
    key = bytes([seed % 256]) * 32

    def personal(value):
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()

    leaves = []
    for i in range(count):
        at = 1796634000000 + i * 1000
        kind = rng.choice(["send_attempt", "send_attempt", "staff_action", "consent_change"])
        if kind == "send_attempt":
            event = {
                "kind": kind,
                "delivery_id": 1000 + i,
                "attempt": rng.randint(1, 3),
                "run_id": rng.randint(1, 40),
                "campaign_id": rng.randint(1, 9),
                "recipient_hmac": personal(f"member{rng.randint(1, 300)}@example.org"),
                "message_id": rng.choice([f"<{1000 + i}.1@outreach.example>", ""]),
                "outcome": rng.choice(["sent", "deferred", "failed", "skipped"]),
                "reply_code": rng.choice([250, 451, 550, None]),
                "attempted_at": at,
                "content_sha256": hashlib.sha256(f"mail {i}".encode()).hexdigest(),
            }
        elif kind == "staff_action":
            event = {
                "kind": kind,
                "action_id": 300 + i,
                "at": at,
                "actor_kind": rng.choice(["operator", "user", "member", "smtp", "scheduler"]),
                "actor_hmac": personal(rng.choice(["suzuki@example.org", "tanaka", "smtp", "scheduler"])),
                "action": rng.choice(["campaign.pause", "members.import", "campaign.send_now", "member.suppress"]),
                "target": f"campaign {rng.randint(1, 9)}",
                "details": rng.choice(
                    [
                        {},
                        {"from": "sending", "to": "paused"},
                        {"rows": 120, "refused": 3, "file": "会員名簿.csv"},
                        {
                            "note": 'Café \u2028 "quoted" \\ tab\t del\x7f \x01 /',
                            "limit": [9007199254740991, -9007199254740991],
                        },
                        {"nested": {"b": [None, True, False, 0, -7], "a": {}}, "empty": []},
                    ]
                ),
            }
        else:
            event = {
                "kind": kind,
                "event_id": 2000 + i,
                "at": at,
                "member_hmac": personal(f"member{rng.randint(1, 300)}@example.org"),
                "theme": rng.choice(["telework", "exports", None]),
                "event": rng.choice(["created", "subscribed", "unsubscribed", "resubscribed", "suppressed"]),
                "source": rng.choice(["link", "import", "smtp", "staff"]),
            }
        leaves.append(canonical(event))
    return leaves


def export_bytes(leaves, note):
    return b"".join(leaf + b"\n" for leaf in leaves) + V.SEPARATOR + note.encode()


def run(*args):
    """Runs the verifier as a command: (exit status, standard output, standard error)."""
    done = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)
    return done.returncode, done.stdout.strip(), done.stderr.strip()


class Case(unittest.TestCase):
    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.dir = Path(self._dir.name)

    def tearDown(self):
        self._dir.cleanup()

    def file(self, name, content):
        path = self.dir / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path

    def assertOK(self, args, stdout=None):
        code, out, err = run(*args)
        self.assertEqual((code, err), (0, ""), f"verify-log.py {args}")
        if stdout is not None:
            self.assertEqual(out, stdout)
        return out

    def assertFails(self, args, *reasons, code=1):
        """The command exits with `code` and one line on standard error holding every one of `reasons`."""
        status, out, err = run(*args)
        self.assertEqual(status, code, f"verify-log.py {args}: {err}")
        self.assertEqual(out, "")
        if code == 1:
            self.assertTrue(err.startswith("FAIL "), err)
            self.assertNotIn("\n", err)
        for reason in reasons:
            self.assertIn(reason, err)
        return err


# ---------------------------------------------------------------------------------------------------------
# The document's vectors.

DOC_SEED = bytes.fromhex(doc_match(r"Seed \(hex\): `([0-9a-f]{64})`", "7.3").group(1))
DOC_NAME = doc_match(r"key name\s+`([^`]+)`", "7.3").group(1)
DOC_SIGNER_KEY, DOC_VERIFIER_KEY, DOC_CHECKPOINT = [b.strip("\n") for b in code_blocks(SECTION["7.3"])[:2]] + [
    code_blocks(SECTION["7.3"])[2]
]
DOC_LEAVES = [block.split("\n")[0].encode() for block in code_blocks(SECTION["7.2"])[:3]]


class DocumentVectors(Case):
    def test_personal_hashes(self):
        """§1.3's check and §7.2's personal hashes."""
        m = doc_match(r"key `([^`]+)` of `([^`]+)` \(RFC 4231 §4.3\) is\s+`([0-9a-f]{64})`", "1.3")
        self.assertEqual(hmac.new(m[1].encode(), m[2].encode(), hashlib.sha256).hexdigest(), m[3])
        key = bytes([int(doc_match(r"Audit key: 32 bytes `0x([0-9a-f]{2})`", "7.2")[1], 16)]) * 32
        pairs = re.findall(r"`([^`\s]+@[^`\s]+)` →\s*`([0-9a-f]{64})`", SECTION["7.2"])
        self.assertEqual(len(pairs), 2)
        for address, digest in pairs:
            self.assertEqual(hmac.new(key, address.encode(), hashlib.sha256).hexdigest(), digest)

    def test_example_leaf(self):
        """§1.4: the leaf's bytes, length and hash; it is canonical and an audit event."""
        leaf_block, hash_block = code_blocks(SECTION["1.4"])
        leaf = leaf_block.rstrip("\n").encode()
        self.assertEqual(len(leaf), int(doc_match(r"\(one line, (\d+) bytes\)", "1.4")[1]))
        self.assertEqual(V.leaf_hash(leaf).hex(), hash_block.strip())
        self.assertIsNone(V.leaf_problem(leaf))
        self.assertEqual(canonical(json.loads(leaf)), leaf)
        self.assertEqual(leaf, DOC_LEAVES[0])

    def test_reference_tree(self):
        """§7.1: the roots of the reference tree's prefixes, its inclusion and consistency proofs."""
        listed = doc_match(r"given here in hex:(.*?)\. The roots", "7.1")[1]
        leaves = [bytes.fromhex(h) for h in re.findall(r"\(empty\)|`([0-9a-f]*)`", listed)]
        self.assertEqual(len(leaves), 8)
        hashes = [V.leaf_hash(leaf) for leaf in leaves]
        roots = {int(n): bytes.fromhex(h) for n, h in re.findall(r"^\| (\d+) \| `([0-9a-f]{64})` \|$", SECTION["7.1"], re.M)}
        self.assertEqual(sorted(roots), list(range(9)))
        tree = V.Frontier()
        for n in range(9):
            self.assertEqual(tree.root(), roots[n], f"root of {n}")
            self.assertEqual(mth(hashes[:n]), roots[n], f"root of {n}")
            if n < 8:
                tree.append(hashes[n])

        m = doc_match(r"inclusion proof of leaf (\d+) in the tree of (\d+):(.*?)\. The", "7.1")
        index, size, proof = int(m[1]), int(m[2]), hexes(m[3])
        self.assertEqual(path(index, hashes[:size]), proof)
        self.assertIsNone(V.inclusion_problem(hashes[index], index, size, roots[size], proof))
        self.assertOK(
            ["inclusion", "--leaf-hash", hashes[index].hex(), "--index", index, "--size", size,
             "--root", V.b64(roots[size]), "--proof", ",".join(p.hex() for p in proof)],
            f"OK {index} {size} {V.b64(roots[size])}",
        )

        m = doc_match(r"consistency proof from (\d+) to (\d+):(.*?)\.\s*$", "7.1")
        old, new, proof = int(m[1]), int(m[2]), hexes(m[3])
        self.assertEqual(subproof(old, hashes[:new], True), proof)
        self.assertIsNone(V.consistency_problem(old, roots[old], new, roots[new], proof))

    def test_three_event_log(self):
        """§7.2: leaf hashes, roots, the inclusion and the consistency proof."""
        blocks = code_blocks(SECTION["7.2"])
        hashes = []
        for block, leaf in zip(blocks[:3], DOC_LEAVES):
            self.assertIsNone(V.leaf_problem(leaf))
            self.assertEqual(V.leaf_hash(leaf).hex(), re.search(r"^leaf hash ([0-9a-f]{64})$", block, re.M)[1])
            hashes.append(V.leaf_hash(leaf))
        roots = dict(re.findall(r"size (\d+): ([0-9a-f]{64})", blocks[3]))
        self.assertEqual(mth(hashes[:2]).hex(), roots["2"])
        self.assertEqual(mth(hashes).hex(), roots["3"])
        self.assertEqual(V.b64(mth(hashes)), re.search(r"base64 (\S+)", blocks[3])[1])

        m = doc_match(r"Inclusion proof of leaf (\d+) in the tree of (\d+):.*?i\.e\.(.*?)\. Verifying", "7.2")
        index, size, proof = int(m[1]), int(m[2]), hexes(m[3])
        self.assertEqual(path(index, hashes[:size]), proof)
        self.assertIsNone(V.inclusion_problem(hashes[index], index, size, mth(hashes), proof))

        m = doc_match(r"Consistency proof from size (\d+) to size (\d+):.*?i\.e\.(.*?)\. Verifying", "7.2")
        old, new, proof = int(m[1]), int(m[2]), hexes(m[3])
        self.assertEqual(subproof(old, hashes[:new], True), proof)
        self.assertIsNone(V.consistency_problem(old, mth(hashes[:old]), new, mth(hashes), proof))

    def test_signed_checkpoint(self):
        """§7.3: the keys of the seed, the checkpoint and its signature, which signing again gives."""
        public = bytes.fromhex(doc_match(r"Public key \(hex\):\s+`([0-9a-f]{64})`", "7.3")[1])
        self.assertEqual(public_key(DOC_SEED), public)
        self.assertEqual(key_id(DOC_NAME, public).hex(), doc_match(r"key id `([0-9a-f]{8})`", "7.3")[1])
        self.assertEqual(signer_key(DOC_NAME, DOC_SEED), DOC_SIGNER_KEY)
        self.assertEqual(verifier_key(DOC_NAME, DOC_SEED), DOC_VERIFIER_KEY)

        note = self.file("checkpoint", DOC_CHECKPOINT)
        root = V.b64(mth([V.leaf_hash(leaf) for leaf in DOC_LEAVES]))
        self.assertOK(["checkpoint", note, "--key", DOC_VERIFIER_KEY], f"OK 3 {root}")

        text = DOC_CHECKPOINT.split("\n\n")[0] + "\n"
        self.assertEqual(len(text.encode()), int(doc_match(r"with their newlines \((\d+) bytes\)", "7.3")[1]))
        self.assertEqual(text, checkpoint_text(DOC_NAME, 3, base64.b64decode(root),
                                               doc_match(r"sealed at (\S+):", "7.3")[1]))
        signature = bytes.fromhex(doc_match(r"64-byte signature\s+`([0-9a-f]{128})`", "7.3")[1])
        self.assertEqual(sign(DOC_SEED, text.encode()), signature)
        self.assertEqual(signed_note(DOC_NAME, DOC_SEED, text), DOC_CHECKPOINT)
        self.assertTrue(V.ed25519_verify(public, text.encode(), signature))

    def test_go_reference_notes(self):
        """§7.4: the notes of golang.org/x/mod/sumdb/note and C2SP verify; they are not checkpoints."""
        keys = re.findall(r"`([^`\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+)`", SECTION["7.4"])
        verifiers = [k for k in keys if not k.startswith("PRIVATE+KEY+")]
        (signer,) = [k for k in keys if k.startswith("PRIVATE+KEY+")]
        notes = code_blocks(SECTION["7.4"])
        self.assertEqual((len(verifiers), len(notes)), (2, 2))
        name, _, seed = signer.removeprefix("PRIVATE+KEY+").split("+", 2)
        self.assertEqual(verifier_key(name, base64.b64decode(seed)[1:]), verifiers[0])
        self.assertIn("PeterNeumann", notes[0])
        for key, note in zip(verifiers, notes):
            path_ = self.file("note", note)
            text = note.split("\n\n\u2014")[0] + "\n"
            self.assertOK(["note", path_, "--key", key], f"OK {len(text.encode())} {key.rsplit('+', 1)[0]}")
            self.assertFails(["checkpoint", path_, "--key", key], "not a checkpoint")
        wrong = self.file("note", notes[0].replace("cryptography", "cryptographY"))
        self.assertFails(["note", wrong, "--key", verifiers[0]], "does not verify")

    def test_the_commands_of_verifying_without_our_code(self):
        """The closing section's commands run as shown on §7.3's checkpoint and §8's export."""
        (block,) = [b for b in code_blocks(SECTION["Verifying without our code"]) if "KEY=" in b]
        key = re.search(r"^KEY='([^']+)'", block, re.M)[1]
        self.assertEqual(key, DOC_VERIFIER_KEY)
        self.file("checkpoint.txt", DOC_CHECKPOINT)
        self.file("export.txt", code_blocks(SECTION["8"])[-1])
        self.file("leaf.json", DOC_LEAVES[int(re.search(r"^sed -n (\d+)p export.txt > leaf.json$", block, re.M)[1]) - 1])
        commands = [shlex.split(line) for line in block.replace("\\\n", " ").splitlines()
                    if line.startswith("python3 tools/verify-log.py ")]
        self.assertEqual([c[2] for c in commands], ["checkpoint", "inclusion", "consistency", "export"])
        del commands[2]  # the document has no second checkpoint to prove the first extends
        for command in commands:
            if "--against" in command:  # nor a kept checkpoint, other than the export's own
                command[command.index("--against") + 1] = "checkpoint.txt"
            args = [key if a == "$KEY" else a for a in command[2:]]
            done = subprocess.run([sys.executable, str(SCRIPT), *args], cwd=self.dir, capture_output=True, text=True)
            self.assertEqual((done.returncode, done.stderr), (0, ""), command)
            self.assertTrue(done.stdout.startswith("OK "), done.stdout)

    def test_example_export(self):
        """§8: the example export is §7.2's leaves, the separator and §7.3's checkpoint, and verifies."""
        (example,) = code_blocks(SECTION["8"])[-1:]
        self.assertEqual(example.encode(), export_bytes(DOC_LEAVES, DOC_CHECKPOINT))
        self.assertEqual(len(example.encode()), int(doc_match(r"§7.3 \((\d+) bytes\)", "8")[1]))
        separator = doc_match(r"the 12 bytes `([^`]+)` \(hex `([0-9a-f ]+)`\)", "8")
        self.assertEqual(V.SEPARATOR, separator[1].encode() + b"\n")
        self.assertEqual(V.SEPARATOR, bytes.fromhex(separator[2]) + b"\n")
        root = V.b64(mth([V.leaf_hash(leaf) for leaf in DOC_LEAVES]))
        self.assertOK(["export", self.file("export", example), "--key", DOC_VERIFIER_KEY], f"OK 3 {root}")


# ---------------------------------------------------------------------------------------------------------
# Ed25519.

# RFC 8032 §7.1, TEST 1 to TEST 3 (secret key, public key, message, signature), copied from the RFC: our
# document does not repeat them.
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
     "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
     "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
     "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


class Ed25519(unittest.TestCase):
    def test_rfc8032_vectors(self):
        for secret, public, message, signature in RFC8032:
            secret, public, message, signature = map(bytes.fromhex, (secret, public, message, signature))
            self.assertEqual(public_key(secret), public)
            self.assertEqual(sign(secret, message), signature)
            self.assertIsNone(V.ed25519_problem(public, message, signature))
            self.assertFalse(V.ed25519_verify(public, message + b"x", signature))
            flipped = bytearray(signature)
            flipped[10] ^= 0x01
            self.assertFalse(V.ed25519_verify(public, message, bytes(flipped)))

    def test_s_must_be_below_the_group_order(self):
        secret, public, message, signature = map(bytes.fromhex, RFC8032[0])
        s = int.from_bytes(signature[32:], "little") + V.L  # the same point equation, another spelling of S
        malleated = signature[:32] + s.to_bytes(32, "little")
        self.assertEqual(V.ed25519_problem(public, message, malleated), "its S is not below the group order")

    def test_small_order_keys_and_points_are_refused(self):
        """Both pass RFC 8032's equation; the strict check of §6.1 refuses them."""
        message = b"outreach\n"
        identity = V.point_compress(V.IDENTITY)
        # A public key of small order: [S]B = R + [k]A holds with S = r, R = [r]B for any message.
        r = 12345
        forged = V.point_compress(V.point_mul(r, V.G)) + r.to_bytes(32, "little")
        self.assertEqual(V.ed25519_problem(identity, message, forged), "the public key is of small order")
        # R of small order: S = k*a makes [S]B = [k]A = R + [k]A.
        secret = bytes(range(32))
        a = secret_expand(secret)[0]
        public = public_key(secret)
        k = V.sha512_modq(identity + public + message)
        forged = identity + (k * a % V.L).to_bytes(32, "little")
        self.assertEqual(V.ed25519_problem(public, message, forged), "its R is of small order")

    def test_point_decoding_is_rfc_8032s(self):
        three = V.point_decompress((3).to_bytes(32, "little"))
        self.assertIsNotNone(three)  # y = 3 is a point of the curve...
        self.assertIsNone(V.point_decompress((V.P + 3).to_bytes(32, "little")))  # ...spelled y + p, refused
        self.assertIsNone(V.point_decompress((1 | 1 << 255).to_bytes(32, "little")))  # x = 0, sign bit set
        self.assertIsNone(V.point_decompress((2).to_bytes(32, "little")))  # y = 2 is no point of the curve


# ---------------------------------------------------------------------------------------------------------
# Checkpoints and notes.

OTHER_SEED = hashlib.sha256(b"another installation").digest()


class Checkpoints(Case):
    root = mth([V.leaf_hash(leaf) for leaf in DOC_LEAVES])

    def note(self, text, seed=DOC_SEED, name=DOC_NAME):
        return self.file("note", signed_note(name, seed, text))

    def test_tampered_checkpoints_fail(self):
        for what, note in {
            "size": DOC_CHECKPOINT.replace("\n3\n", "\n4\n"),
            "root": DOC_CHECKPOINT.replace("H3q6", "H3q7"),
            "time": DOC_CHECKPOINT.replace("09:05:00", "09:05:01"),
            "signature": DOC_CHECKPOINT.replace("hw7rUYD6I+RIQn9JI", "hw7rUYD6I+RIQn9JJ"),
        }.items():
            with self.subTest(what):
                self.assertFails(["checkpoint", self.file("cp", note), "--key", DOC_VERIFIER_KEY],
                                 "cp: the signature by outreach.example/audit+870eeb51", "does not verify")

    def test_malformed_notes_fail(self):
        for what, (note, reason) in {
            "crlf": (DOC_CHECKPOINT.replace("\n", "\r\n"), "control character '\\r'"),
            "no blank line": (DOC_CHECKPOINT.replace("\n\n", "\n"), "no empty line"),
            "no final newline": (DOC_CHECKPOINT.rstrip("\n"), "do not end in a newline"),
            "trailing blank line": (DOC_CHECKPOINT + "\n", "do not end in a newline"),
            "not utf-8": (DOC_CHECKPOINT.encode().replace(b"\xe2\x80\x94", b"\xe2\x80"), "not UTF-8"),
            "hyphen for em dash": (DOC_CHECKPOINT.replace("\u2014", "-"), "line 6 of the note is not a signature line"),
            "non-canonical base64": (DOC_CHECKPOINT.replace("A0kW3gM=", "A0kW3gN="), "not a signature line"),
        }.items():
            with self.subTest(what):
                self.assertFails(["checkpoint", self.file("cp", note), "--key", DOC_VERIFIER_KEY], reason)

    def test_other_keys(self):
        other = verifier_key(DOC_NAME, OTHER_SEED)
        self.assertFails(["checkpoint", self.file("cp", DOC_CHECKPOINT), "--key", other],
                         "not signed by outreach.example/audit+", "(signed by: outreach.example/audit+870eeb51)")
        # A witness's cosignature rides along; a checkpoint naming another log than its key's is refused.
        text = DOC_CHECKPOINT.split("\n\n")[0] + "\n"
        cosigned = DOC_CHECKPOINT + signature_line("witness.example/w1", OTHER_SEED, text)
        self.assertOK(["checkpoint", self.file("cp", cosigned), "--key", DOC_VERIFIER_KEY],
                      f"OK 3 {V.b64(self.root)}")
        self.assertFails(["checkpoint", self.file("cp", cosigned + "\u2014 x AAAAAAA=\n" * 99), "--key", DOC_VERIFIER_KEY],
                         "101 signature lines, more than 100")
        other_log = self.note(checkpoint_text("elsewhere.example/audit", 3, self.root))
        self.assertFails(["checkpoint", other_log, "--key", DOC_VERIFIER_KEY],
                         "of the log 'elsewhere.example/audit', not of 'outreach.example/audit'")

    def test_checkpoint_bodies(self):
        """Signed, but each body is spelled in a way §5 refuses; without the time line it reads."""
        self.assertOK(["checkpoint", self.note(checkpoint_text(DOC_NAME, 3, self.root, time=None)),
                       "--key", DOC_VERIFIER_KEY], f"OK 3 {V.b64(self.root)}")
        self.assertOK(["checkpoint", self.note(checkpoint_text(DOC_NAME, 3, self.root, "2024-02-29T23:59:60Z")),
                       "--key", DOC_VERIFIER_KEY])
        good = checkpoint_text(DOC_NAME, 3, self.root)
        for what, (text, reason) in {
            "leading zero": (good.replace("\n3\n", "\n03\n"), "size '03'"),
            "too large": (good.replace("\n3\n", f"\n{2**64}\n"), "below 2^64"),
            "root too short": (good.replace(V.b64(self.root), V.b64(self.root[:31])), "32 bytes"),
            "no such day": (good.replace("2026-12-07", "2026-02-29"), "not `time YYYY-MM-DDTHH:MM:SSZ`"),
            "unpadded": (good.replace("09:05:00", "9:05:00"), "not `time"),
            "other extension": (good.replace("time ", "when "), "not `time"),
            "a fifth line": (good + "more\n", "a line after its time line"),
        }.items():
            with self.subTest(what):
                self.assertFails(["checkpoint", self.note(text), "--key", DOC_VERIFIER_KEY], reason)

    def test_usage(self):
        cp = self.file("cp", DOC_CHECKPOINT)
        bad_id = DOC_VERIFIER_KEY.replace("870eeb51", "870eeb52")
        self.assertFails(["checkpoint", cp, "--key", bad_id], "is not the id of the name and key", code=2)
        self.assertFails(["checkpoint", cp, "--key", "outreach.example/audit"], code=2)
        self.assertFails(["checkpoint", self.dir / "missing", "--key", DOC_VERIFIER_KEY], "cannot read", code=2)
        self.assertFails(["checkpoint", cp], code=2)
        self.assertFails([], code=2)


# ---------------------------------------------------------------------------------------------------------
# Proofs.


class Proofs(Case):
    def test_every_proof_of_small_trees_and_every_flipped_bit(self):
        rng = random.Random(9162)
        hashes = [V.leaf_hash(bytes([i])) for i in range(33)]
        for size in range(1, 34):
            root = mth(hashes[:size])
            for index in range(size):
                proof = path(index, hashes[:size])
                self.assertIsNone(V.inclusion_problem(hashes[index], index, size, root, proof))
                if proof:
                    bad = [bytearray(p) for p in proof]
                    bad[rng.randrange(len(bad))][rng.randrange(32)] ^= 1 << rng.randrange(8)
                    self.assertIsNotNone(V.inclusion_problem(hashes[index], index, size, root, [bytes(p) for p in bad]))
                self.assertIsNotNone(V.inclusion_problem(hashes[index], index, size, root, proof + [root]))
                if size & (size - 1) == 0:  # the proof and root of a full tree, claimed for one leaf more
                    self.assertIsNotNone(V.inclusion_problem(hashes[index], index, size + 1, root, proof))
                self.assertIsNotNone(V.inclusion_problem(hashes[index], index + size, size, root, proof))
            for old in range(1, size + 1):
                proof = subproof(old, hashes[:size], True)
                self.assertIsNone(V.consistency_problem(old, mth(hashes[:old]), size, root, proof))
                if proof:
                    bad = [bytearray(p) for p in proof]
                    bad[rng.randrange(len(bad))][rng.randrange(32)] ^= 1 << rng.randrange(8)
                    self.assertIsNotNone(V.consistency_problem(old, mth(hashes[:old]), size, root, [bytes(p) for p in bad]))
                    self.assertIsNotNone(V.consistency_problem(old, mth(hashes[:old]), size, root, proof[:-1]))
                self.assertIsNotNone(V.consistency_problem(old, mth(hashes[:old]), size, root, proof + [root]))
                self.assertIsNotNone(V.consistency_problem(old, mth(hashes[1:old + 1]), size, root, proof))
                if size & (size - 1) == 0 and old < size:  # a full tree's proof and root, claimed for one more
                    self.assertIsNotNone(V.consistency_problem(old, mth(hashes[:old]), size + 1, root, proof))

    def test_inclusion_command(self):
        hashes = [V.leaf_hash(leaf) for leaf in DOC_LEAVES]
        proof = ",".join(p.hex() for p in path(1, hashes))
        cp = self.file("cp", DOC_CHECKPOINT)
        leaf = self.file("leaf", DOC_LEAVES[1] + b"\n")  # a line of an export, as it is
        ok = f"OK 1 3 {V.b64(mth(hashes))}"
        self.assertOK(["inclusion", "--leaf-file", leaf, "--index", 1, "--checkpoint", cp, "--key", DOC_VERIFIER_KEY,
                       "--proof", proof], ok)
        self.assertOK(["inclusion", "--leaf-hash", hashes[1].hex(), "--index", 1, "--size", 3,
                       "--root", V.b64(mth(hashes)), "--proof", proof], ok)
        flipped = proof[:10] + ("1" if proof[10] == "0" else "0") + proof[11:]
        self.assertFails(["inclusion", "--leaf-file", leaf, "--index", 1, "--checkpoint", cp, "--key", DOC_VERIFIER_KEY,
                          "--proof", flipped], f"inclusion of leaf 1 in {cp}: the proof leads to the root")
        self.assertFails(["inclusion", "--leaf-file", leaf, "--index", 0, "--checkpoint", cp, "--key", DOC_VERIFIER_KEY,
                          "--proof", proof], "the proof leads to the root")
        self.assertFails(["inclusion", "--leaf-file", leaf, "--index", 3, "--checkpoint", cp, "--key", DOC_VERIFIER_KEY,
                          "--proof", proof], "the index 3 is not below the tree size 3")
        spaced = self.file("leaf", json.dumps(json.loads(DOC_LEAVES[1]), sort_keys=True))
        self.assertFails(["inclusion", "--leaf-file", spaced, "--index", 1, "--checkpoint", cp,
                          "--key", DOC_VERIFIER_KEY, "--proof", proof], "not canonical JSON")
        self.assertFails(["inclusion", "--leaf-hash", "abc", "--index", 1, "--checkpoint", cp,
                          "--key", DOC_VERIFIER_KEY, "--proof", proof], "--leaf-hash", code=2)
        self.assertFails(["inclusion", "--leaf-hash", hashes[1].hex(), "--index", 1, "--size", 3,
                          "--proof", proof], "--size and --root", code=2)

    def test_consistency_command(self):
        hashes = [V.leaf_hash(leaf) for leaf in DOC_LEAVES]
        new = self.file("new", DOC_CHECKPOINT)
        old = self.file("old", signed_note(DOC_NAME, DOC_SEED, checkpoint_text(DOC_NAME, 2, mth(hashes[:2]),
                                                                              "2026-12-07T09:01:30Z")))
        proof = ",".join(p.hex() for p in subproof(2, hashes, True))
        self.assertOK(["consistency", "--old", old, "--new", new, "--proof", proof, "--key", DOC_VERIFIER_KEY],
                      f"OK 3 {V.b64(mth(hashes))} extends 2 {V.b64(mth(hashes[:2]))}")
        self.assertOK(["consistency", "--old", new, "--new", new, "--proof", "", "--key", DOC_VERIFIER_KEY])
        flipped = ("1" if proof[0] == "0" else "0") + proof[1:]
        self.assertFails(["consistency", "--old", old, "--new", new, "--proof", flipped, "--key", DOC_VERIFIER_KEY],
                         f"consistency of {new} with {old}: the proof leads to the newer root")
        self.assertFails(["consistency", "--old", new, "--new", old, "--proof", proof, "--key", DOC_VERIFIER_KEY],
                         "the older tree (3 leaves) is larger than the newer (2)")
        self.assertFails(["consistency", "--old", old, "--new", new, "--proof", "", "--key", DOC_VERIFIER_KEY],
                         "the proof is empty")
        empty = self.file("empty", signed_note(DOC_NAME, DOC_SEED, checkpoint_text(DOC_NAME, 0, V.EMPTY_ROOT)))
        self.assertFails(["consistency", "--old", empty, "--new", new, "--proof", "", "--key", DOC_VERIFIER_KEY],
                         "no proof is defined", code=2)
        self.assertFails(["consistency", "--old", old, "--new", new, "--proof", "xyz", "--key", DOC_VERIFIER_KEY],
                         code=2)


# ---------------------------------------------------------------------------------------------------------
# Exports.


class Exports(Case):
    @classmethod
    def setUpClass(cls):
        cls.leaves = events(1000, 17)
        cls.hashes = [V.leaf_hash(leaf) for leaf in cls.leaves]
        cls.root = mth(cls.hashes)
        cls.note = signed_note(DOC_NAME, DOC_SEED, checkpoint_text(DOC_NAME, 1000, cls.root))
        cls.old_note = signed_note(DOC_NAME, DOC_SEED, checkpoint_text(DOC_NAME, 600, mth(cls.hashes[:600]),
                                                                       "2026-11-30T23:59:55Z"))
        forked = cls.leaves[:599] + events(1, 18)
        cls.forked_note = signed_note(DOC_NAME, DOC_SEED, checkpoint_text(
            DOC_NAME, 600, mth([V.leaf_hash(leaf) for leaf in forked]), "2026-11-30T23:59:55Z"))
        cls.empty_note = signed_note(DOC_NAME, DOC_SEED, checkpoint_text(DOC_NAME, 0, V.EMPTY_ROOT))

    def export(self, leaves=None, note=None):
        return self.file("export", export_bytes(self.leaves if leaves is None else leaves, note or self.note))

    def verify(self, export, *more):
        return ["export", export, "--key", DOC_VERIFIER_KEY, *more]

    def test_a_generated_export_verifies(self):
        self.assertOK(self.verify(self.export()), f"OK 1000 {V.b64(self.root)}")
        self.assertOK(self.verify(self.file("empty", V.SEPARATOR + self.empty_note.encode())), f"OK 0 {V.b64(V.EMPTY_ROOT)}")

    def test_an_export_extends_an_older_checkpoint_of_its_log_only(self):
        export, old = self.export(), self.file("old", self.old_note)
        extends = f"OK 1000 {V.b64(self.root)} extends 600 {V.b64(mth(self.hashes[:600]))}"
        self.assertOK(self.verify(export, "--against", old), extends)
        proof = ",".join(p.hex() for p in subproof(600, self.hashes, True))
        self.assertOK(self.verify(export, "--against", old, "--proof", proof), extends)
        self.assertOK(self.verify(export, "--against", self.file("empty", self.empty_note)))
        self.assertOK(self.verify(export, "--against", self.file("new", self.note)))

        self.assertFails(self.verify(export, "--against", self.file("forked", self.forked_note)),
                         "export lines 1-600: the root of the export's first 600 leaves",
                         "the log does not extend that checkpoint")
        flipped = ("1" if proof[0] == "0" else "0") + proof[1:]
        self.assertFails(self.verify(export, "--against", old, "--proof", flipped),
                         "export: the consistency proof (--proof) from 600 to 1000")
        older = self.export(self.leaves[:600], self.old_note)
        self.assertFails(self.verify(older, "--against", self.file("new", self.note)),
                         "the older checkpoint (1000 leaves) is larger than the export's (600)")
        self.assertFails(self.verify(export, "--against", self.file("empty", self.empty_note), "--proof", ""),
                         "no consistency proof is defined", code=2)

    def test_tampered_exports_fail_naming_the_line(self):
        leaves = self.leaves
        swapped = list(leaves)
        swapped[10], swapped[20] = swapped[20], swapped[10]
        flipped = list(leaves)
        i = flipped[7].index(b'_sha256":"') + 20 if b"_sha256" in flipped[7] else flipped[7].index(b'_hmac":"') + 20
        flipped[7] = flipped[7][:i] + (b"0" if flipped[7][i:i + 1] != b"0" else b"1") + flipped[7][i + 1:]
        spaced = list(leaves)
        spaced[41] = json.dumps(json.loads(leaves[41]), sort_keys=True, ensure_ascii=False).encode()
        escaped = list(leaves)
        j = next(n for n, leaf in enumerate(leaves) if max(leaf) > 0x7F)
        escaped[j] = json.dumps(json.loads(leaves[j]), sort_keys=True, separators=(",", ":")).encode()
        new_event = events(1, 99)[0]
        not_root = "lines 1-1000: the root of the leaves"
        cases = {
            "a byte flipped": (flipped, not_root),
            "two lines swapped": (swapped, not_root),
            "a line dropped": (leaves[:500] + leaves[501:],
                               "export line 1000: the export holds 999 leaves, its checkpoint 1000 (1 missing)"),
            "a line inserted": (leaves[:300] + [new_event] + leaves[300:],
                                "export line 1001: a leaf beyond the checkpoint's size (the export holds 1001"),
            "a line repeated": (leaves[:300] + [leaves[299]] + leaves[300:], "export line 1001: a leaf beyond"),
            "a line re-encoded with spaces": (spaced, "export line 42 (leaf 41): not canonical JSON: not in canonical form"),
            "a line re-encoded with escapes": (escaped, f"export line {j + 1} (leaf {j}): not canonical JSON"),
            "the last line dropped": (leaves[:-1], "holds 999 leaves, its checkpoint 1000"),
        }
        for what, (tampered, reason) in cases.items():
            with self.subTest(what):
                self.assertFails(self.verify(self.export(tampered)), reason)

    def test_lines_must_be_canonical_json_of_an_event(self):
        leaf = json.loads(self.leaves[0])
        other_kind = {"send_attempt": "staff_action"}.get(leaf["kind"], "send_attempt")
        address_leaf = dict(json.loads(DOC_LEAVES[0]), recipient_hmac="member@example.org")
        cases = {
            "keys out of order": (b'{"b":1,' + self.leaves[0][1:], "not canonical JSON"),
            "a fraction": (DOC_LEAVES[0].replace(b'"attempt":1,', b'"attempt":1.0,'), "the number 1.0 is not an integer"),
            "an exponent": (DOC_LEAVES[0].replace(b'"attempt":1,', b'"attempt":1e0,'), "not an integer"),
            "a large number": (DOC_LEAVES[0].replace(b'"attempt":1,', b'"attempt":9007199254740992,'),
                               "the number 9007199254740992 is beyond"),
            "minus zero": (DOC_LEAVES[0].replace(b'"attempt":1,', b'"attempt":-0,'), "not in canonical form"),
            "a member twice": (DOC_LEAVES[0].replace(b'"attempt":1,', b'"attempt":1,"attempt":1,'), "occurs twice"),
            "a lone surrogate": (DOC_LEAVES[0].replace(b'"<1042', b'"\\ud800<1042'), "lone surrogate"),
            "an escaped slash": (DOC_LEAVES[0].replace(b'"<1042', b'"\\/<1042'), "not in canonical form"),
            "not UTF-8": (DOC_LEAVES[0].replace(b"<1042", b"\xff1042"), "not UTF-8"),
            "a byte order mark": (b"\xef\xbb\xbf" + DOC_LEAVES[0], "not JSON"),
            "a carriage return": (DOC_LEAVES[0] + b"\r", "not in canonical form"),
            "an empty line": (b"", "not JSON"),
            "not JSON": (b"checkpoint", "not JSON"),
            "an address for a hash": (canonical(address_leaf),
                                      'recipient_hmac is "member@example.org", not 64 lowercase hex'),
            "another kind's members": (canonical(dict(leaf, kind=other_kind)), "not an audit event"),
            "no such kind": (canonical(dict(leaf, kind="page_view")), 'its kind "page_view" is none of'),
            "a kind that is no string": (canonical(dict(leaf, kind=["send_attempt"])), 'its kind ["send_attempt"] is none'),
            "a member missing": (canonical({k: v for k, v in json.loads(DOC_LEAVES[1]).items() if k != "details"}),
                                 "a staff_action has a member 'details', this one has none"),
            "a member more": (canonical(dict(json.loads(DOC_LEAVES[2]), reason="moved")),
                              "a consent_change has no member 'reason'"),
            "a boolean for an integer": (DOC_LEAVES[2].replace(b'"event_id":2207', b'"event_id":true'),
                                         "event_id is true, not an integer"),
            "an unknown outcome": (DOC_LEAVES[0].replace(b'"sent"', b'"bounced"'), "outcome is \"bounced\", none of"),
            "an array": (b"[1,2]", "not a JSON object"),
        }
        not_events = {"an address for a hash", "another kind's members", "no such kind", "a kind that is no string",
                      "a member missing",
                      "a member more", "a boolean for an integer", "an unknown outcome", "an array"}
        for what, (bad, reason) in cases.items():
            with self.subTest(what):
                leaves = self.leaves[:5] + [bad] + self.leaves[6:]
                why = "not an audit event (\u00a71.1): " if what in not_events else "not canonical JSON: "
                self.assertFails(self.verify(self.export(leaves)), "export line 6 (leaf 5): " + why, reason)

    def test_utf16_order_of_member_names(self):
        """RFC 8785 §3.2.3: U+1F600 (D83D DE00 in UTF-16) sorts before U+FFFD, unlike in code points."""
        good = '{"a":1,"\U0001F600":2,"\uFFFD":3}'.encode()
        self.assertEqual(V.canonical_json(good), ({"a": 1, "\U0001F600": 2, "\uFFFD": 3}, None))
        self.assertIn("not in canonical form", V.canonical_json('{"a":1,"\uFFFD":3,"\U0001F600":2}'.encode())[1])

    def test_damaged_files_fail(self):
        whole = export_bytes(self.leaves, self.note)
        middle = whole.index(b"\n", len(whole) // 3) + 40
        other_key = signed_note(DOC_NAME, OTHER_SEED, checkpoint_text(DOC_NAME, 1000, self.root))
        cases = {
            "cut in a line": (whole[:middle], "ends in the middle of a line, before its checkpoint"),
            "cut after a line": (whole[: whole.index(b"\n", middle) + 1], "without the line `# checkpoint`"),
            "no checkpoint": (whole[: whole.index(V.SEPARATOR)], "export: the file ends after 1000 lines without"),
            "the checkpoint's size changed": (whole.replace(b"\n1000\n", b"\n999\n"),
                                              "export checkpoint (line 1002 on): the signature"),
            "another key's checkpoint": (export_bytes(self.leaves, other_key),
                                         "export checkpoint (line 1002 on): the note is not signed by"),
            "a line after the note": (whole + b"\n", "do not end in a newline"),
            "a CRLF separator": (whole.replace(V.SEPARATOR, b"# checkpoint\r\n"),
                                 "export line 1001 (leaf 1000): not canonical JSON"),
        }
        for what, (data, reason) in cases.items():
            with self.subTest(what):
                self.assertFails(self.verify(self.file("export", data)), reason)
        self.assertFails(self.verify(self.dir / "missing"), "cannot read", code=2)
        self.assertFails(self.verify(self.export(), "--proof", ""), "--proof goes with --against", code=2)


if __name__ == "__main__":
    unittest.main()
