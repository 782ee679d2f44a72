//! The tree's right edge, kept instead of its leaves: a sealer appends leaves and signs roots from its last
//! checkpoint on without reading the whole log again.
//!
//! A tree of `size` leaves is, left to right, one perfect subtree per set bit of `size`, largest first (13 =
//! 8 + 4 + 1 leaves). Their roots, at most 64 hashes and in practice about 20, are all that appending needs
//! (the "compact range" of transparency-dev/merkle, the frontier of CT's incremental logs): a new leaf joins
//! the smallest subtree while it completes a pair, exactly as a binary counter carries. The root is then those
//! subtree roots hashed together from the right, which is what RFC 9162's MTH yields for such a tree.

use super::merkle::{EMPTY_ROOT, Hash, ProofError, node_hash};

/// The roots of the perfect subtrees that make up a tree of `size` leaves, largest (leftmost) first.
/// The fields are private because they must agree: one hash per set bit of `size`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    hashes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A frontier as a sealer stored it: refused unless there is one hash per set bit of `size`.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Self, ProofError> {
        if usize::try_from(size.count_ones()).ok() != Some(hashes.len()) {
            return Err(ProofError::BadSize { size });
        }
        Ok(Self { size, hashes })
    }

    /// The number of leaves so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree roots, largest (leftmost) first, to store beside a checkpoint.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends one leaf (its leaf hash). Each trailing set bit of the old size is a subtree of the same height
    /// as the one being built, to its left: merge them, as a binary counter carries.
    pub fn push(&mut self, leaf: Hash) -> Result<(), ProofError> {
        let size = self
            .size
            .checked_add(1)
            .ok_or(ProofError::BadSize { size: self.size })?;
        let carries = usize::try_from(self.size.trailing_ones()).map_err(|_| ProofError::BadSize { size })?;
        let keep = self
            .hashes
            .len()
            .checked_sub(carries)
            .ok_or(ProofError::BadSize { size: self.size })?;
        let node = self.hashes[keep..]
            .iter()
            .rev()
            .fold(leaf, |right, left| node_hash(left, &right));
        self.hashes.truncate(keep);
        self.hashes.push(node);
        self.size = size;
        Ok(())
    }

    /// The root of the tree so far: the subtree roots hashed together from the right (RFC 9162 §2.1.1 splits
    /// at the largest power of two, which is the leftmost subtree, and so on down the right side).
    pub fn root(&self) -> Hash {
        match self.hashes.split_last() {
            None => EMPTY_ROOT,
            Some((last, rest)) => rest.iter().rev().fold(*last, |right, left| node_hash(left, &right)),
        }
    }
}
