//! Known answers from the reference implementations (`reference.rs`), the mutations their test data applies,
//! and properties over random trees.

use proptest::prelude::*;

use super::reference::{CONSISTENCY, INCLUSION, LEAF_HASHES, LEAVES, ROOTS};
use super::*;
use crate::domain::audit::frontier::Frontier;

fn h(text: &str) -> Hash {
    let mut hash = [0; 32];
    hex::decode_to_slice(text, &mut hash).unwrap();
    hash
}

fn hashes(texts: &[&str]) -> Vec<Hash> {
    texts.iter().map(|t| h(t)).collect()
}

fn reference_leaves() -> Vec<Hash> {
    LEAVES.iter().map(|l| leaf_hash(l)).collect()
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect()
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut flipped = *hash;
    flipped[bit / 8 % 32] ^= 1 << (bit % 8);
    flipped
}

#[test]
fn the_empty_tree_is_the_hash_of_nothing() {
    assert_eq!(EMPTY_ROOT, h(ROOTS[0]));
    assert_eq!(root(&[]), EMPTY_ROOT);
    assert_eq!(Frontier::new().root(), EMPTY_ROOT);
}

#[test]
fn leaves_and_roots_match_the_reference_tree() {
    let leaves = reference_leaves();
    assert_eq!(leaves, hashes(&LEAF_HASHES));
    let mut frontier = Frontier::new();
    for (n, want) in ROOTS.iter().enumerate() {
        assert_eq!(root(&leaves[..n]), h(want), "root of {n} leaves");
        assert_eq!(frontier.root(), h(want), "frontier of {n} leaves");
        if let Some(leaf) = leaves.get(n) {
            frontier.push(*leaf).unwrap();
        }
    }
    // NodeHashes()[1][0] and [2][1] are inner nodes of the tree.
    let ab = node_hash(&leaves[0], &leaves[1]);
    assert_eq!(
        ab,
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")
    );
}

#[test]
fn inclusion_proofs_match_the_reference() {
    let leaves = reference_leaves();
    for (index, size, want) in INCLUSION {
        let tree = &leaves[..size as usize];
        let proof = inclusion_proof(tree, index).unwrap();
        assert_eq!(proof, hashes(want), "proof of {index} in {size}");
        verify_inclusion(index, size, &tree[index as usize], &proof, &h(ROOTS[size as usize])).unwrap();
    }
}

#[test]
fn consistency_proofs_match_the_reference() {
    let leaves = reference_leaves();
    for (size1, size2, want) in CONSISTENCY {
        let proof = consistency_proof(&leaves[..size2 as usize], size1).unwrap();
        assert_eq!(proof, hashes(want), "proof of {size1} to {size2}");
        let (root1, root2) = (h(ROOTS[size1 as usize]), h(ROOTS[size2 as usize]));
        verify_consistency(size1, size2, &root1, &root2, &proof).unwrap();
    }
}

/// The mutations of transparency-dev/merkle's testdata/inclusion probes, applied to every proof of the
/// reference tree: a wrong index or size, a wrong leaf or root, a hash added, dropped or changed.
#[test]
fn every_mutated_inclusion_proof_fails() {
    let leaves = reference_leaves();
    for size in 1..=8u64 {
        let root = h(ROOTS[size as usize]);
        for index in 0..size {
            let leaf = leaves[index as usize];
            let proof = inclusion_proof(&leaves[..size as usize], index).unwrap();
            verify_inclusion(index, size, &leaf, &proof, &root).unwrap();
            let fails = |i: u64, s: u64, l: &Hash, p: &[Hash], r: &Hash| verify_inclusion(i, s, l, p, r).is_err();
            for wrong_index in [index + 1, index ^ 2, index.wrapping_sub(1), u64::MAX] {
                assert!(
                    fails(wrong_index, size, &leaf, &proof, &root),
                    "index {wrong_index} for {index}/{size}"
                );
            }
            // Not size + 1: a root does not commit to its size (leaf 0 of 3 has the proof it has in a tree of
            // 4 whose last leaf is the node of leaves 2 and 3), which is why a checkpoint signs the size too.
            for wrong_size in [size * 2, size / 2, 0] {
                assert!(
                    fails(index, wrong_size, &leaf, &proof, &root),
                    "size {wrong_size} for {index}/{size}"
                );
            }
            assert!(fails(index, size, &leaves[(index as usize + 1) % 8], &proof, &root));
            assert!(fails(index, size, &leaf, &proof, &EMPTY_ROOT));
            assert!(fails(index, size, &leaf, &proof, &leaf) || size == 1 && root == leaf);
            let mut longer = vec![root];
            longer.extend(&proof);
            assert!(fails(index, size, &leaf, &longer, &root), "root before the proof");
            let mut longer = proof.clone();
            longer.push(root);
            assert!(fails(index, size, &leaf, &longer, &root), "root after the proof");
            for skip in 0..proof.len() {
                let mut shorter = proof.clone();
                shorter.remove(skip);
                assert!(fails(index, size, &leaf, &shorter, &root), "hash {skip} removed");
            }
        }
    }
}

/// The mutations of transparency-dev/merkle's testdata/consistency probes and its "additional" cases.
#[test]
fn every_mutated_consistency_proof_fails() {
    let leaves = reference_leaves();
    for size2 in 1..=8u64 {
        for size1 in 1..=size2 {
            let (root1, root2) = (h(ROOTS[size1 as usize]), h(ROOTS[size2 as usize]));
            let proof = consistency_proof(&leaves[..size2 as usize], size1).unwrap();
            verify_consistency(size1, size2, &root1, &root2, &proof).unwrap();
            let fails =
                |s1: u64, s2: u64, r1: &Hash, r2: &Hash, p: &[Hash]| verify_consistency(s1, s2, r1, r2, p).is_err();
            for (s1, s2) in [
                (size1 + 1, size2),
                (size1 - 1, size2),
                (size1 ^ 2, size2),
                (size1, size2 * 2),
                (size1, size2 / 2),
            ] {
                if (s1, s2) != (size1, size2) && (s1 != s2 || !proof.is_empty()) {
                    assert!(fails(s1, s2, &root1, &root2, &proof), "{s1}->{s2} for {size1}->{size2}");
                }
            }
            if root1 != root2 {
                assert!(fails(size1, size2, &root2, &root1, &proof), "swapped roots");
            }
            assert!(fails(size1, size2, &EMPTY_ROOT, &root2, &proof));
            assert!(fails(size1, size2, &root1, &EMPTY_ROOT, &proof));
            let mut longer = vec![root1];
            longer.extend(&proof);
            assert!(fails(size1, size2, &root1, &root2, &longer), "root before the proof");
            let mut longer = proof.clone();
            longer.push(root2);
            assert!(fails(size1, size2, &root1, &root2, &longer), "root after the proof");
            for skip in 0..proof.len() {
                let mut shorter = proof.clone();
                shorter.remove(skip);
                assert!(fails(size1, size2, &root1, &root2, &shorter), "hash {skip} removed");
            }
        }
    }
    let (one, empty) = (h(ROOTS[1]), EMPTY_ROOT);
    assert_eq!(
        verify_consistency(0, 1, &empty, &one, &[]),
        Err(ProofError::EmptyFirstTree)
    );
    assert_eq!(
        verify_consistency(0, 0, &empty, &empty, &[]),
        Err(ProofError::EmptyFirstTree)
    );
    assert_eq!(
        verify_consistency(2, 1, &one, &one, &[]),
        Err(ProofError::SizesOutOfOrder { size1: 2, size2: 1 })
    );
    assert_eq!(
        verify_consistency(1, 1, &one, &one, &[one]),
        Err(ProofError::WrongLength { got: 1 })
    );
    assert_eq!(
        verify_consistency(1, 1, &one, &empty, &[]),
        Err(ProofError::RootMismatch)
    );
    assert_eq!(
        verify_consistency(1, 2, &one, &h(ROOTS[2]), &[]),
        Err(ProofError::WrongLength { got: 0 })
    );
}

/// Every bit of every hash an inclusion or consistency check reads, in every proof of the reference tree.
#[test]
fn every_bit_of_every_hash_matters() {
    let leaves = reference_leaves();
    for size in 1..=8u64 {
        let tree = &leaves[..size as usize];
        let root = h(ROOTS[size as usize]);
        for index in 0..size {
            let leaf = tree[index as usize];
            let proof = inclusion_proof(tree, index).unwrap();
            for bit in 0..256 {
                assert!(verify_inclusion(index, size, &flip(&leaf, bit), &proof, &root).is_err());
                assert!(verify_inclusion(index, size, &leaf, &proof, &flip(&root, bit)).is_err());
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i], bit);
                    assert!(verify_inclusion(index, size, &leaf, &bad, &root).is_err());
                }
            }
        }
        for size1 in 1..size {
            let root1 = h(ROOTS[size1 as usize]);
            let proof = consistency_proof(tree, size1).unwrap();
            for bit in 0..256 {
                assert!(verify_consistency(size1, size, &flip(&root1, bit), &root, &proof).is_err());
                assert!(verify_consistency(size1, size, &root1, &flip(&root, bit), &proof).is_err());
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i] = flip(&bad[i], bit);
                    assert!(verify_consistency(size1, size, &root1, &root, &bad).is_err());
                }
            }
        }
    }
}

#[test]
fn bad_requests_are_errors_not_panics() {
    let leaves = leaves(5);
    assert_eq!(
        inclusion_proof(&leaves, 5),
        Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        inclusion_proof(&[], 0),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert!(inclusion_proof(&leaves, u64::MAX).is_err());
    assert_eq!(consistency_proof(&leaves, 0), Err(ProofError::EmptyFirstTree));
    assert_eq!(
        consistency_proof(&leaves, 6),
        Err(ProofError::SizesOutOfOrder { size1: 6, size2: 5 })
    );
    assert!(verify_inclusion(u64::MAX, u64::MAX, &leaves[0], &[], &leaves[0]).is_err());
    assert!(verify_inclusion(0, u64::MAX, &leaves[0], &[leaves[1]; 70], &leaves[0]).is_err());
    assert!(verify_consistency(u64::MAX - 1, u64::MAX, &leaves[0], &leaves[1], &[leaves[2]; 70]).is_err());
    assert!(Frontier::from_parts(3, vec![leaves[0]]).is_err());
    assert!(Frontier::from_parts(0, vec![leaves[0]]).is_err());
    let mut full = Frontier::from_parts(u64::MAX, vec![leaves[0]; 64]).unwrap();
    assert_eq!(full.push(leaves[1]), Err(ProofError::BadSize { size: u64::MAX }));
}

#[test]
fn a_stored_frontier_carries_on_where_it_stopped() {
    let leaves = leaves(37);
    let mut frontier = Frontier::new();
    for leaf in &leaves[..20] {
        frontier.push(*leaf).unwrap();
    }
    let mut restored = Frontier::from_parts(frontier.size(), frontier.hashes().to_vec()).unwrap();
    assert_eq!(restored.hashes().len(), 2, "20 = 16 + 4");
    for leaf in &leaves[20..] {
        restored.push(*leaf).unwrap();
    }
    assert_eq!(restored.size(), 37);
    assert_eq!(restored.root(), root(&leaves));
}

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn every_inclusion_proof_verifies_and_any_flipped_bit_fails(
        size in 1usize..300, pick in any::<prop::sample::Index>(), bit in 0usize..256,
    ) {
        let leaves = leaves(size);
        let tree_root = root(&leaves);
        let index = pick.index(size);
        let leaf = leaves[index];
        let (index, size) = (index as u64, size as u64);
        let proof = inclusion_proof(&leaves, index).unwrap();
        prop_assert_eq!(verify_inclusion(index, size, &leaf, &proof, &tree_root), Ok(()));
        prop_assert!(verify_inclusion(index, size, &flip(&leaf, bit), &proof, &tree_root).is_err());
        prop_assert!(verify_inclusion(index, size, &leaf, &proof, &flip(&tree_root, bit)).is_err());
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(verify_inclusion(index, size, &leaf, &bad, &tree_root).is_err(), "hash {}", i);
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_any_flipped_bit_fails(
        size2 in 1usize..300, pick in any::<prop::sample::Index>(), bit in 0usize..256,
    ) {
        let leaves = leaves(size2);
        let size1 = pick.index(size2) + 1;
        let (root1, root2) = (root(&leaves[..size1]), root(&leaves));
        let (size1, size2) = (size1 as u64, size2 as u64);
        let proof = consistency_proof(&leaves, size1).unwrap();
        prop_assert_eq!(verify_consistency(size1, size2, &root1, &root2, &proof), Ok(()));
        prop_assert!(verify_consistency(size1, size2, &flip(&root1, bit), &root2, &proof).is_err());
        prop_assert!(verify_consistency(size1, size2, &root1, &flip(&root2, bit), &proof).is_err());
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i] = flip(&bad[i], bit);
            prop_assert!(verify_consistency(size1, size2, &root1, &root2, &bad).is_err(), "hash {}", i);
        }
    }
}

proptest! {
    // One case pushes up to 300 leaves and checks every size on the way (quadratic in hashing): few cases.
    #![proptest_config(ProptestConfig { cases: 16, ..cases() })]

    #[test]
    fn the_frontier_root_is_the_tree_root_after_every_push(
        leaves in prop::collection::vec(any::<[u8; 32]>(), 0..300),
    ) {
        let mut frontier = Frontier::new();
        for (n, leaf) in leaves.iter().enumerate() {
            frontier.push(*leaf).unwrap();
            prop_assert_eq!(frontier.size(), n as u64 + 1);
            prop_assert_eq!(frontier.hashes().len(), (n + 1).count_ones() as usize);
            prop_assert_eq!(frontier.root(), root(&leaves[..=n]));
        }
    }
}
