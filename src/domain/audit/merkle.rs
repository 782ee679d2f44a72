//! The Merkle tree of the audit log, as Certificate Transparency defines it (RFC 9162 §2.1, the same hashing
//! as RFC 6962 §2.1): a leaf is `SHA-256(0x00 ‖ bytes)`, a node `SHA-256(0x01 ‖ left ‖ right)`, and a tree of
//! `n` leaves splits at the largest power of two below `n`. The two prefixes keep a leaf from passing for a
//! node (a second preimage of a shorter tree), and following the RFC to the letter lets anyone check our
//! proofs with an existing CT library or the few lines of `docs/audit-format.md`.
//!
//! Everything here works on leaf hashes in memory and is free of I/O, so the store, the sealer, the command
//! line and the tests share one implementation. Bad input (an index past the end, a proof of the wrong length,
//! sizes out of order) is an error, never a panic: proofs arrive from outside, in files an auditor hands us.

use sha2::{Digest, Sha256};

/// A SHA-256 digest: a leaf hash, a node hash or a root.
pub type Hash = [u8; 32];

/// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1, `MTH({}) = HASH()`), not a
/// leaf hash, so an empty log cannot pass for a log of one empty entry.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41,
    0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Why a proof could not be made or did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("the first tree ({size1} leaves) is larger than the second ({size2} leaves)")]
    SizesOutOfOrder { size1: u64, size2: u64 },
    /// RFC 9162 defines consistency proofs from a non-empty tree only: every tree extends the empty one, so
    /// there is nothing to prove (a caller holding a checkpoint of size 0 needs no proof).
    #[error("a consistency proof starts from a non-empty tree (every tree extends the empty one)")]
    EmptyFirstTree,
    #[error("a proof of {got} hashes has the wrong length for these tree sizes")]
    WrongLength { got: usize },
    #[error("the proof does not lead to the first tree's root")]
    FirstRootMismatch,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    /// Sizes past what this machine can address, or a frontier whose hashes do not fit its size.
    #[error("tree of {size} leaves cannot be handled here")]
    BadSize { size: u64 },
}

/// The hash of a leaf holding `bytes`: `SHA-256(0x00 ‖ bytes)`.
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(bytes);
    hasher.finalize().into()
}

/// The hash of an inner node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The Merkle tree hash of the leaves (RFC 9162 §2.1.1, MTH). The recursion is as deep as the tree is high
/// (about 20 levels for a million leaves); `super::frontier::Frontier` computes the same root without holding the leaves.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => EMPTY_ROOT,
        [only] => *only,
        _ => {
            let (left, right) = leaves.split_at(split(leaves.len()));
            node_hash(&root(left), &root(right))
        }
    }
}

/// The inclusion proof of leaf `index` in the tree of these leaves (RFC 9162 §2.1.3.1, PATH): the sibling
/// hashes from the leaf up to the root, lowest first.
pub fn inclusion_proof(leaves: &[Hash], index: u64) -> Result<Vec<Hash>, ProofError> {
    let size = len_u64(leaves)?;
    let m = usize::try_from(index)
        .ok()
        .filter(|m| *m < leaves.len())
        .ok_or(ProofError::IndexOutOfRange { index, size })?;
    let mut proof = Vec::new();
    path(m, leaves, &mut proof);
    Ok(proof)
}

/// PATH(m, D[n]): for n > 1, the path in the half holding leaf m, then the other half's root.
fn path(m: usize, leaves: &[Hash], proof: &mut Vec<Hash>) {
    if leaves.len() <= 1 {
        return;
    }
    let k = split(leaves.len());
    let (left, right) = leaves.split_at(k);
    if m < k {
        path(m, left, proof);
        proof.push(root(right));
    } else {
        path(m - k, right, proof);
        proof.push(root(left));
    }
}

/// The consistency proof that the tree of the first `size1` of these leaves is a prefix of the tree of them
/// all (RFC 9162 §2.1.4.1, PROOF(m, D[n])). Empty when the sizes are equal.
pub fn consistency_proof(leaves: &[Hash], size1: u64) -> Result<Vec<Hash>, ProofError> {
    let size2 = len_u64(leaves)?;
    if size1 == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    let m = usize::try_from(size1)
        .ok()
        .filter(|m| *m <= leaves.len())
        .ok_or(ProofError::SizesOutOfOrder { size1, size2 })?;
    let mut proof = Vec::new();
    subproof(m, leaves, true, &mut proof);
    Ok(proof)
}

/// SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1. `whole` (the RFC's `b`) says whether the subtree D[0:m] is the
/// very tree the verifier holds the root of, so its root need not be sent.
fn subproof(m: usize, leaves: &[Hash], whole: bool, proof: &mut Vec<Hash>) {
    if m == leaves.len() {
        if !whole {
            proof.push(root(leaves));
        }
        return;
    }
    // Here 0 < m < n, so n >= 2 and the tree splits.
    let k = split(leaves.len());
    let (left, right) = leaves.split_at(k);
    if m <= k {
        subproof(m, left, whole, proof);
        proof.push(root(right));
    } else {
        subproof(m - k, right, false, proof);
        proof.push(root(left));
    }
}

/// Checks that `leaf` is leaf `index` of the tree of `size` leaves with root `root`, following RFC 9162
/// §2.1.3.2 step by step (the variable names are the RFC's).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> Result<(), ProofError> {
    // Step 1.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let wrong_length = ProofError::WrongLength { got: proof.len() };
    // Step 2; size > index >= 0, so size - 1 cannot underflow.
    let (mut fn_, mut sn) = (index, size - 1);
    // Step 3.
    let mut r = *leaf;
    // Step 4.
    for p in proof {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    if sn != 0 {
        return Err(wrong_length);
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `size2` leaves with root `root2` extends the tree of `size1` leaves with root
/// `root1`, following RFC 9162 §2.1.4.2 step by step. Equal sizes need an empty proof and equal roots (the
/// proof RFC 9162 §2.1.4.1 gives for them).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesOutOfOrder { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    let wrong_length = ProofError::WrongLength { got: proof.len() };
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(wrong_length);
        }
        if root1 != root2 {
            return Err(ProofError::RootMismatch);
        }
        return Ok(());
    }
    // Step 1.
    if proof.is_empty() {
        return Err(wrong_length);
    }
    // Step 2: a first tree whose size is a power of two is a node of the second, so the proof leaves its
    // root out and the verifier starts from the root it holds.
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len().saturating_add(1));
    if size1.is_power_of_two() {
        path.push(root1);
    }
    path.extend(proof);
    // Step 3; 0 < size1 < size2, so neither subtraction underflows.
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    // Step 4.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    let Some((first, rest)) = path.split_first() else {
        return Err(wrong_length);
    };
    let (mut fr, mut sr) = (**first, **first);
    // Step 6.
    for c in rest {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if sn != 0 {
        return Err(wrong_length);
    }
    if fr != *root1 {
        return Err(ProofError::FirstRootMismatch);
    }
    if sr != *root2 {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The largest power of two below `n`, for `n >= 2`: where RFC 9162 splits a tree of `n` leaves.
fn split(n: usize) -> usize {
    // For n >= 2, n - 1 >= 1 has a highest set bit, and the shift is below usize::BITS (callers never pass
    // less; if one did, it would get 1, not a panic).
    let below = n.saturating_sub(1).max(1);
    1 << (usize::BITS - 1 - below.leading_zeros())
}

fn len_u64(leaves: &[Hash]) -> Result<u64, ProofError> {
    u64::try_from(leaves.len()).map_err(|_| ProofError::BadSize { size: u64::MAX })
}

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
