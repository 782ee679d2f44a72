#!/usr/bin/env python3
"""Verify outreach's audit log without outreach: checkpoints, proofs and exports.

Written from docs/audit-format.md alone, with Python's standard library only (3.11 or later), so that an
auditor need not trust the code that keeps the log. The section numbers below (§) are that document's.

Usage:

  verify-log.py checkpoint NOTE_FILE --key VERIFIER_KEY
      Checks a signed checkpoint (§5, §6) and prints `OK <size> <base64 root>`.

  verify-log.py note NOTE_FILE --key VERIFIER_KEY
      Checks the signature of any signed note (§6.1) and prints `OK <bytes of its text> <key name>+<key id>`.

  verify-log.py inclusion (--leaf-hash HEX | --leaf-file FILE) --index N --proof HEX,HEX,...
                          (--size N --root BASE64 | --checkpoint NOTE_FILE --key VERIFIER_KEY)
      Checks that a leaf is leaf N of the tree (§3) and prints `OK <index> <size> <base64 root>`. A leaf file
      holds the leaf's bytes, optionally followed by one newline (a line of an export, as it is), and must be
      an audit event in canonical JSON (§1); --leaf-hash takes the leaf hash of any leaf instead.

  verify-log.py consistency --old NOTE_FILE --new NOTE_FILE --proof HEX,HEX,... --key VERIFIER_KEY
      Checks both checkpoints and that the newer extends the older (§4); prints
      `OK <size> <base64 root> extends <old size> <old base64 root>`.

  verify-log.py export EXPORT_FILE --key VERIFIER_KEY [--against NOTE_FILE [--proof HEX,HEX,...]]
      Checks an export (§8): every line is a leaf in canonical JSON, their number and root are those of the
      checkpoint it ends with, whose signature is checked. With --against, also checks that the export's
      checkpoint extends an older checkpoint of the same log: from the export's own first leaves (no proof
      needed), and with the consistency proof too if one is given. Prints `OK <size> <base64 root>`, followed
      by ` extends <old size> <old base64 root>` with --against. Reads the file once, front to back, holding
      one line and at most 64 hashes at a time.

VERIFIER_KEY is the log's note verifier key text, `<name>+<hex key id>+<base64 key>` (§6.2), as
`outreach audit key` prints it. A proof is its hashes in hex, lowest in the tree first, separated by commas
(an empty proof is the empty string "").

Exit status:

  0  verified; one line `OK ...` on standard output.
  1  verification failed: a checkpoint, note, proof, leaf or export is not as docs/audit-format.md specifies
     or does not match. One line on standard error, `FAIL <what and where>: <why>`, names the first problem:
     the file and, in an export, its line number.
  2  usage: unknown command or option, a file that cannot be read, or a key, hash, number or proof on the
     command line that is not well-formed (argparse's usage text and one error line on standard error).
"""

import argparse
import base64
import hashlib
import json
import re
import sys

# ---------------------------------------------------------------------------------------------------------
# Ed25519 verification (RFC 8032 §5.1.7), after the reference code of RFC 8032 §6, made strict as §6.1 says.

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # the order of the base point (q in RFC 8032 §6)
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1, 1, 0)  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, x*y = T/Z


def point_add(a, b):
    e1, e2 = (a[1] - a[0]) * (b[1] - b[0]) % P, (a[1] + a[0]) * (b[1] + b[0]) % P
    e3, e4 = 2 * a[3] * b[3] * D % P, 2 * a[2] * b[2] % P
    e, f, g, h = e2 - e1, e4 - e3, e4 + e3, e2 + e1
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_mul(s, a):
    q = IDENTITY
    while s > 0:
        if s & 1:
            q = point_add(q, a)
        a = point_add(a, a)
        s >>= 1
    return q


def point_equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def recover_x(y, sign):
    if y >= P:
        return None  # not the one encoding of y
    x2 = (y * y - 1) * pow(D * y * y + 1, -1, P)
    if x2 == 0:
        return None if sign else 0  # x = 0 has one encoding, sign 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None  # not a point of the curve
    return P - x if (x & 1) != sign else x


def point_decompress(s):
    y = int.from_bytes(s, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    x = recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def point_compress(a):
    zinv = pow(a[2], -1, P)
    x, y = a[0] * zinv % P, a[1] * zinv % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


G_Y = 4 * pow(5, -1, P) % P
G = (recover_x(G_Y, 0), G_Y, 1, recover_x(G_Y, 0) * G_Y % P)  # the base point B


def sha512_modq(data):
    return int.from_bytes(hashlib.sha512(data).digest(), "little") % L


def is_small_order(a):
    for _ in range(3):
        a = point_add(a, a)
    return point_equal(a, IDENTITY)  # [8]A is the identity: A is in the torsion subgroup of order 8


def ed25519_problem(public, message, signature):
    """None if `signature` is a valid strict Ed25519 signature of `message` by `public`, else why not."""
    if len(public) != 32 or len(signature) != 64:
        return "a public key is 32 bytes and a signature 64"
    a = point_decompress(public)
    if a is None:
        return "the public key is not the encoding of a point of the curve"
    r = point_decompress(signature[:32])
    if r is None:
        return "its R is not the encoding of a point of the curve"
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return "its S is not below the group order"
    if is_small_order(a):
        return "the public key is of small order"
    if is_small_order(r):
        return "its R is of small order"
    k = sha512_modq(signature[:32] + public + message)
    if not point_equal(point_mul(s, G), point_add(r, point_mul(k, a))):
        return "[S]B is not R + [k]A"
    return None


def ed25519_verify(public, message, signature):
    return ed25519_problem(public, message, signature) is None


# ---------------------------------------------------------------------------------------------------------
# The tree (§2), inclusion proofs (§3) and consistency proofs (§4).

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf):
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    """The tree of the leaf hashes appended so far, kept as the roots of its perfect subtrees (one per bit of
    its size), which is all its root needs."""

    def __init__(self):
        self.size = 0
        self.subtrees = []  # (number of leaves, root), left to right, largest first

    def append(self, hash_):
        self.subtrees.append((1, hash_))
        self.size += 1
        while len(self.subtrees) > 1 and self.subtrees[-1][0] == self.subtrees[-2][0]:
            count, right = self.subtrees.pop()
            _, left = self.subtrees.pop()
            self.subtrees.append((2 * count, node_hash(left, right)))

    def root(self):
        if not self.subtrees:
            return EMPTY_ROOT
        root = self.subtrees[-1][1]
        for _, left in reversed(self.subtrees[:-1]):
            root = node_hash(left, root)
        return root


def inclusion_problem(leaf, index, size, root, proof):
    """None if `proof` shows that the leaf hash `leaf` is leaf `index` of the tree (`size`, `root`)."""
    if index >= size:
        return f"the index {index} is not below the tree size {size}"
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return f"the proof has more hashes than a leaf of a tree of {size} needs"
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        return f"the proof has fewer hashes than leaf {index} of a tree of {size} needs"
    if r != root:
        return f"the proof leads to the root {b64(r)}, not to {b64(root)}"
    return None


def consistency_problem(size1, root1, size2, root2, proof):
    """None if `proof` shows that the tree (`size2`, `root2`) extends the tree (`size1`, `root1`).
    The caller refuses size1 == 0, for which §4 defines no proof."""
    if size1 > size2:
        return f"the older tree ({size1} leaves) is larger than the newer ({size2})"
    if size1 == size2:
        if proof:
            return "a proof between two trees of the same size is empty"
        if root1 != root2:
            return f"two trees of {size1} leaves with different roots ({b64(root1)}, {b64(root2)})"
        return None
    if not proof:
        return "the proof is empty"
    if size1 & (size1 - 1) == 0:
        proof = [root1] + list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return f"the proof has more hashes than the trees of {size1} and {size2} need"
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        return f"the proof has fewer hashes than the trees of {size1} and {size2} need"
    if fr != root1:
        return f"the proof leads to the older root {b64(fr)}, not to {b64(root1)}"
    if sr != root2:
        return f"the proof leads to the newer root {b64(sr)}, not to {b64(root2)}"
    return None


# ---------------------------------------------------------------------------------------------------------
# Texts: base64, key names, keys (§6.2), signed notes (§6.1) and checkpoints (§5).


class Failure(Exception):
    """Verification failed (exit status 1)."""


class Usage(Exception):
    """A malformed command line (exit status 2)."""


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    """The bytes of `text` if it is their one canonical base64 (RFC 4648 §4, padded), else None."""
    try:
        data = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        return None
    return data if b64(data) == text else None


# Unicode's White_Space property (Unicode 15), and the controls (general category Cc).
WHITE_SPACE = frozenset(
    [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
)


def name_problem(name):
    """None if `name` is a valid key name or origin: non-empty, no whitespace, no control character, no '+'."""
    if not name:
        return "it is empty"
    for c in name:
        o = ord(c)
        if o in WHITE_SPACE or o < 0x20 or 0x7F <= o <= 0x9F or c == "+":
            return f"it holds {c!r}"
    return None


def key_id(name, public):
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public).digest()[:4]


class VerifierKey:
    def __init__(self, text):
        """Reads `<name>+<8 hex digits>+<base64(0x01 ‖ public key)>`; raises Usage if it is not one."""
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise Usage(f"the key {text!r} is not <name>+<key id>+<base64 key>")
        name, hex_id, encoded = parts
        problem = name_problem(name)
        if problem:
            raise Usage(f"the key name {name!r} is not valid: {problem}")
        if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
            raise Usage(f"the key id {hex_id!r} is not 8 lowercase hex digits")
        data = unb64(encoded)
        if data is None or len(data) != 33 or data[0] != 0x01:
            raise Usage("the key is not the canonical base64 of 0x01 and a 32-byte Ed25519 public key")
        public = data[1:]
        if key_id(name, public) != bytes.fromhex(hex_id):
            raise Usage(f"the key id {hex_id} is not the id of the name and key ({key_id(name, public).hex()})")
        if point_decompress(public) is None:
            raise Usage("the key is not an Ed25519 public key (not the encoding of a point)")
        self.name, self.id, self.public = name, bytes.fromhex(hex_id), public

    def __str__(self):
        return f"{self.name}+{self.id.hex()}"


MAX_SIGNATURES = 100


def open_note(note, key):
    """The text of the signed note `note` (bytes) if `key` signed it (§6.1); raises Failure otherwise."""
    try:
        note = note.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Failure(f"the note is not UTF-8 (byte {e.start})") from None
    for number, line in enumerate(note.split("\n"), 1):
        for c in line:
            if c < " ":
                raise Failure(f"line {number} of the note holds the control character {c!r}")
    split = note.rfind("\n\n")
    if split < 0:
        raise Failure("the note has no empty line before its signatures")
    text, signatures = note[: split + 1], note[split + 2 :]
    if not signatures or not signatures.endswith("\n"):
        raise Failure("the note's signature lines do not end in a newline")
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise Failure(f"the note has {len(lines)} signature lines, more than {MAX_SIGNATURES}")
    first = text.count("\n") + 2  # the note's line number of the first signature line
    signed, others = False, []
    for number, line in enumerate(lines, first):
        name, _, encoded = line[2:].partition(" ")
        data = unb64(encoded)
        if not line.startswith("\u2014 ") or name_problem(name) or data is None or len(data) < 5:
            raise Failure(f"line {number} of the note is not a signature line `\u2014 <key name> <base64>`")
        if name != key.name or data[:4] != key.id:
            others.append(f"{name}+{data[:4].hex()}")
            continue
        problem = (
            "its signature is not 64 bytes"
            if len(data) != 68
            else ed25519_problem(key.public, text.encode("utf-8"), data[4:])
        )
        if problem:
            raise Failure(f"the signature by {key} (line {number} of the note) does not verify: {problem}")
        signed = True
    if not signed:
        found = ", ".join(others) if others else "none"
        raise Failure(f"the note is not signed by {key} (signed by: {found})")
    return text


TIME = re.compile(r"time ([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


def valid_time(line):
    m = TIME.fullmatch(line)
    if not m:
        return False
    year, month, day, hour, minute, second = map(int, m.groups())
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    return 1 <= month <= 12 and 1 <= day <= days[month - 1] and hour <= 23 and minute <= 59 and second <= 60


class Checkpoint:
    def __init__(self, text):
        """Reads a checkpoint body (§5), with or without its time line; raises Failure otherwise."""
        lines = text[:-1].split("\n") if text.endswith("\n") else None
        if lines is None or len(lines) < 3:
            raise Failure("the note's text is not a checkpoint (origin, size and root lines)")
        if len(lines) > 4:
            raise Failure("the checkpoint has a line after its time line")
        origin, size, root = lines[:3]
        problem = name_problem(origin)
        if problem:
            raise Failure(f"the checkpoint's origin {origin!r} is not valid: {problem}")
        if not re.fullmatch(r"0|[1-9][0-9]*", size) or int(size) >= 2**64:
            raise Failure(f"the checkpoint's size {size!r} is not a decimal number below 2^64 without leading zeros")
        data = unb64(root)
        if data is None or len(data) != 32:
            raise Failure(f"the checkpoint's root {root!r} is not the canonical base64 of 32 bytes")
        if len(lines) == 4 and not valid_time(lines[3]):
            raise Failure(f"the checkpoint's line {lines[3]!r} is not `time YYYY-MM-DDTHH:MM:SSZ`")
        self.origin, self.size, self.root = origin, int(size), data
        self.time = lines[3][5:] if len(lines) == 4 else None


def verify_checkpoint(note, key):
    """The checkpoint of the signed note `note` (bytes) if `key` signed it and it is of `key`'s log."""
    checkpoint = Checkpoint(open_note(note, key))
    if checkpoint.origin != key.name:
        raise Failure(f"the checkpoint is of the log {checkpoint.origin!r}, not of {key.name!r}, the key's name")
    return checkpoint


# ---------------------------------------------------------------------------------------------------------
# Leaves (§1): canonical JSON (RFC 8785 for the values a leaf may hold) of one audit event.

MAX_INTEGER = 2**53 - 1


class NotCanonical(ValueError):
    pass


def _integer(text):
    value = int(text)
    if abs(value) > MAX_INTEGER:
        raise NotCanonical(f"the number {text} is beyond \u00b1(2^53 \u2212 1)")
    return value


def _no_fraction(text):
    raise NotCanonical(f"the number {text} is not an integer")


def _members(pairs):
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise NotCanonical(f"the member {duplicate!r} occurs twice in one object")
    # RFC 8785 §3.2.3: sorted by the names' UTF-16 code units.
    return dict(sorted(pairs, key=lambda pair: pair[0].encode("utf-16-be")))


def canonical_json(leaf):
    """(value, None) if `leaf` (bytes) is RFC 8785 canonical JSON within §1.1's limits, else (None, why)."""
    try:
        text = leaf.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"not UTF-8 (byte {e.start})"
    try:
        value = json.loads(
            text, parse_int=_integer, parse_float=_no_fraction, parse_constant=_no_fraction, object_pairs_hook=_members
        )
        canonical = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except NotCanonical as e:
        return None, str(e)
    except json.JSONDecodeError as e:
        return None, f"not JSON ({e.msg} at byte {len(text[: e.pos].encode('utf-8'))})"
    except UnicodeEncodeError:
        return None, "a string holds a lone surrogate (\\ud800 to \\udfff)"
    except (ValueError, RecursionError) as e:
        return None, f"not JSON ({e})"
    if canonical != leaf:
        at = next((i for i, (a, b) in enumerate(zip(leaf, canonical)) if a != b), min(len(leaf), len(canonical)))
        return None, (
            f"not in canonical form (RFC 8785): at byte {at} it has {leaf[at:at + 8]!r} "
            f"where the canonical form has {canonical[at:at + 8]!r}"
        )
    return value, None


class OneOf(tuple):
    """The strings a member may hold."""


HEX64 = re.compile(r"[0-9a-f]{64}")
INTEGER, STRING, OBJECT, NULL = "an integer", "a string", "an object", "null"
PERSONAL = "64 lowercase hex digits (a personal hash, \u00a71.3)"
SHA256_HEX = "64 lowercase hex digits (SHA-256 in hex)"
EVENTS = {
    "send_attempt": {
        "delivery_id": INTEGER,
        "attempt": INTEGER,
        "run_id": INTEGER,
        "campaign_id": INTEGER,
        "recipient_hmac": PERSONAL,
        "message_id": STRING,
        "outcome": OneOf(("sent", "deferred", "failed", "skipped")),
        "reply_code": (INTEGER, NULL),
        "attempted_at": INTEGER,
        "content_sha256": SHA256_HEX,
    },
    "staff_action": {
        "action_id": INTEGER,
        "at": INTEGER,
        "actor_kind": OneOf(("operator", "user", "member", "smtp", "scheduler")),
        "actor_hmac": PERSONAL,
        "action": STRING,
        "target": STRING,
        "details": OBJECT,
    },
    "consent_change": {
        "event_id": INTEGER,
        "at": INTEGER,
        "member_hmac": PERSONAL,
        "theme": (STRING, NULL),
        "event": OneOf(
            ("created", "updated", "subscribed", "unsubscribed", "resubscribed", "suppressed", "unsuppressed")
        ),
        "source": STRING,
    },
}


def _is(value, kind):
    if kind == INTEGER:
        return type(value) is int
    if kind == STRING:
        return type(value) is str
    if kind == OBJECT:
        return type(value) is dict
    if kind == NULL:
        return value is None
    return type(value) is str and HEX64.fullmatch(value) is not None  # PERSONAL, SHA256_HEX


def event_problem(value):
    """None if `value` is an audit event of §1.1, else why not."""
    if type(value) is not dict:
        return "not a JSON object"
    kind = value.get("kind")
    if type(kind) is not str or kind not in EVENTS:
        return f"its kind {_shown(kind)} is none of {', '.join(EVENTS)}"
    members = EVENTS[kind]
    for name in sorted(value):
        if name != "kind" and name not in members:
            return f"a {kind} has no member {name!r}"
    for name, want in members.items():
        if name not in value:
            return f"a {kind} has a member {name!r}, this one has none"
        have = value[name]
        if isinstance(want, OneOf):
            if type(have) is not str or have not in want:
                return f"{name} is {_shown(have)}, none of {', '.join(want)}"
        elif isinstance(want, tuple):
            if not any(_is(have, w) for w in want):
                return f"{name} is {_shown(have)}, not {' or '.join(want)}"
        elif not _is(have, want):
            return f"{name} is {_shown(have)}, not {want}"
    return None


def _shown(value):
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "\u2026"


def leaf_problem(leaf):
    """None if `leaf` (bytes) is the canonical JSON of an audit event (§1), else why not."""
    value, problem = canonical_json(leaf)
    if problem:
        return "not canonical JSON: " + problem
    problem = event_problem(value)
    return "not an audit event (\u00a71.1): " + problem if problem else None


# ---------------------------------------------------------------------------------------------------------
# Exports (§8).

SEPARATOR = b"# checkpoint\n"


def verify_export(stream, key, name="export", against=None, proof=None):
    """The checkpoint an export (a binary stream) ends with, if the export verifies and, given the older
    checkpoint `against`, extends it (by its own first leaves, and by `proof` if given); raises Failure naming
    the first problem otherwise."""
    tree = Frontier()
    prefix_root = EMPTY_ROOT if against is not None and against.size == 0 else None
    number = 0
    for number, line in enumerate(stream, 1):
        if line == SEPARATOR:
            break
        if not line.endswith(b"\n"):
            raise Failure(f"{name} line {number}: the file ends in the middle of a line, before its checkpoint")
        problem = leaf_problem(line[:-1])
        if problem:
            raise Failure(f"{name} line {number} (leaf {number - 1}): {problem}")
        tree.append(leaf_hash(line[:-1]))
        if against is not None and tree.size == against.size:
            prefix_root = tree.root()
    else:
        raise Failure(f"{name}: the file ends after {number} lines without the line `# checkpoint` and a checkpoint")
    separator = number
    try:
        checkpoint = verify_checkpoint(stream.read(), key)
    except Failure as e:
        raise Failure(f"{name} checkpoint (line {separator + 1} on): {e}") from None
    if tree.size > checkpoint.size:
        raise Failure(
            f"{name} line {checkpoint.size + 1}: a leaf beyond the checkpoint's size "
            f"(the export holds {tree.size} leaves, its checkpoint {checkpoint.size})"
        )
    if tree.size < checkpoint.size:
        raise Failure(
            f"{name} line {separator}: the export holds {tree.size} leaves, its checkpoint {checkpoint.size} "
            f"({checkpoint.size - tree.size} missing)"
        )
    if tree.root() != checkpoint.root:
        raise Failure(
            f"{name} lines 1-{tree.size}: the root of the leaves, {b64(tree.root())}, is not the checkpoint's, "
            f"{b64(checkpoint.root)}: a leaf was changed, moved or replaced"
        )
    if against is not None:
        if against.size > checkpoint.size:
            raise Failure(
                f"{name}: the older checkpoint ({against.size} leaves) is larger than the export's ({checkpoint.size})"
            )
        if prefix_root != against.root:
            raise Failure(
                f"{name} lines 1-{against.size}: the root of the export's first {against.size} leaves, "
                f"{b64(prefix_root)}, is not the older checkpoint's, {b64(against.root)}: the log does not "
                "extend that checkpoint (its history was rewritten, or the key signs two logs)"
            )
        if proof is not None:
            problem = consistency_problem(against.size, against.root, checkpoint.size, checkpoint.root, proof)
            if problem:
                raise Failure(
                    f"{name}: the consistency proof (--proof) from {against.size} to {checkpoint.size}: {problem}"
                )
    return checkpoint


# ---------------------------------------------------------------------------------------------------------
# The command line.


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise Usage(f"cannot read {path}: {e.strerror}") from None


def parse_hash(text, what):
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raise Usage(f"{what}: {text!r} is not a 32-byte hash in hex (64 hex digits)")
    return bytes.fromhex(text)


def parse_proof(text):
    return [parse_hash(h.strip(), "--proof") for h in text.split(",")] if text.strip() else []


def parse_number(text, what):
    if not re.fullmatch(r"[0-9]+", text):
        raise Usage(f"{what}: {text!r} is not a number")
    return int(text)


def checkpoint_file(path, key):
    try:
        return verify_checkpoint(read_file(path), key)
    except Failure as e:
        raise Failure(f"{path}: {e}") from None


def command_checkpoint(args):
    checkpoint = checkpoint_file(args.note_file, VerifierKey(args.key))
    return f"OK {checkpoint.size} {b64(checkpoint.root)}"


def command_note(args):
    key = VerifierKey(args.key)
    try:
        text = open_note(read_file(args.note_file), key)
    except Failure as e:
        raise Failure(f"{args.note_file}: {e}") from None
    return f"OK {len(text.encode('utf-8'))} {key}"


def command_inclusion(args):
    if args.leaf_file is not None:
        leaf = read_file(args.leaf_file)
        leaf = leaf[:-1] if leaf.endswith(b"\n") else leaf
        problem = leaf_problem(leaf)
        if problem:
            raise Failure(f"{args.leaf_file}: {problem}")
        leaf = leaf_hash(leaf)
    else:
        leaf = parse_hash(args.leaf_hash, "--leaf-hash")
    index = parse_number(args.index, "--index")
    proof = parse_proof(args.proof)
    if args.checkpoint is not None:
        if args.size is not None or args.root is not None or args.key is None:
            raise Usage("--checkpoint goes with --key, instead of --size and --root")
        checkpoint = checkpoint_file(args.checkpoint, VerifierKey(args.key))
        size, root, where = checkpoint.size, checkpoint.root, args.checkpoint
    else:
        if args.size is None or args.root is None:
            raise Usage("give --size and --root, or --checkpoint and --key")
        size = parse_number(args.size, "--size")
        root = unb64(args.root)
        if root is None or len(root) != 32:
            raise Usage(f"--root: {args.root!r} is not the base64 of a 32-byte root")
        where = f"the tree of size {size}"
    problem = inclusion_problem(leaf, index, size, root, proof)
    if problem:
        raise Failure(f"inclusion of leaf {index} in {where}: {problem}")
    return f"OK {index} {size} {b64(root)}"


def command_consistency(args):
    key = VerifierKey(args.key)
    proof = parse_proof(args.proof)
    old = checkpoint_file(args.old, key)
    new = checkpoint_file(args.new, key)
    if old.size == 0:
        raise Usage(f"{args.old} is of the empty tree: every tree extends it, and no proof is defined (\u00a74)")
    problem = consistency_problem(old.size, old.root, new.size, new.root, proof)
    if problem:
        raise Failure(f"consistency of {args.new} with {args.old}: {problem}")
    return f"OK {new.size} {b64(new.root)} extends {old.size} {b64(old.root)}"


def command_export(args):
    key = VerifierKey(args.key)
    if args.proof is not None and args.against is None:
        raise Usage("--proof goes with --against")
    proof = parse_proof(args.proof) if args.proof is not None else None
    against = checkpoint_file(args.against, key) if args.against is not None else None
    if against is not None and against.size == 0 and proof is not None:
        raise Usage(f"{args.against} is of the empty tree: no consistency proof is defined (\u00a74); omit --proof")
    try:
        stream = open(args.export_file, "rb")
    except OSError as e:
        raise Usage(f"cannot read {args.export_file}: {e.strerror}") from None
    with stream:
        checkpoint = verify_export(stream, key, args.export_file, against, proof)
    result = f"OK {checkpoint.size} {b64(checkpoint.root)}"
    return result + (f" extends {against.size} {b64(against.root)}" if against is not None else "")


def parser():
    main = argparse.ArgumentParser(
        prog="verify-log.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = main.add_subparsers(dest="command", required=True)

    c = commands.add_parser("checkpoint", help="check a signed checkpoint")
    c.add_argument("note_file", metavar="NOTE_FILE")
    c.add_argument("--key", required=True, metavar="VERIFIER_KEY")
    c.set_defaults(run=command_checkpoint, parser=c)

    c = commands.add_parser("note", help="check the signature of a signed note")
    c.add_argument("note_file", metavar="NOTE_FILE")
    c.add_argument("--key", required=True, metavar="VERIFIER_KEY")
    c.set_defaults(run=command_note, parser=c)

    c = commands.add_parser("inclusion", help="check an inclusion proof")
    leaf = c.add_mutually_exclusive_group(required=True)
    leaf.add_argument("--leaf-hash", metavar="HEX")
    leaf.add_argument("--leaf-file", metavar="FILE")
    c.add_argument("--index", required=True, metavar="N")
    c.add_argument("--size", metavar="N")
    c.add_argument("--root", metavar="BASE64")
    c.add_argument("--checkpoint", metavar="NOTE_FILE")
    c.add_argument("--key", metavar="VERIFIER_KEY")
    c.add_argument("--proof", required=True, metavar="HEX,HEX,...")
    c.set_defaults(run=command_inclusion, parser=c)

    c = commands.add_parser("consistency", help="check a consistency proof between two checkpoints")
    c.add_argument("--old", required=True, metavar="NOTE_FILE")
    c.add_argument("--new", required=True, metavar="NOTE_FILE")
    c.add_argument("--proof", required=True, metavar="HEX,HEX,...")
    c.add_argument("--key", required=True, metavar="VERIFIER_KEY")
    c.set_defaults(run=command_consistency, parser=c)

    c = commands.add_parser("export", help="check an export, and that it extends an older checkpoint")
    c.add_argument("export_file", metavar="EXPORT_FILE")
    c.add_argument("--key", required=True, metavar="VERIFIER_KEY")
    c.add_argument("--against", metavar="NOTE_FILE")
    c.add_argument("--proof", metavar="HEX,HEX,...")
    c.set_defaults(run=command_export, parser=c)
    return main


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        print(args.run(args))
        return 0
    except Usage as e:
        args.parser.error(str(e))  # prints the command's usage and the error; exits with status 2
    except Failure as e:
        print(f"FAIL {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
