//! The verifiable audit log as the service keeps it (issue 17, docs/audit-format.md): sealing committed rows
//! into the tree and signed checkpoints, verifying the whole log from the rows, proofs, and exports.
//!
//! The signing key is derived from the installation's link key (HMAC-SHA256 under it of a fixed label), so
//! every instance of one installation signs with the same key without another secret to configure, and the
//! key is never in the database: whoever can write the database cannot sign a rewritten log. Rotating the
//! link key (`web.previous_signing_key`) rotates it too; checkpoints signed by the previous key still verify
//! during the rotation.

use std::io::Write;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Application;
use crate::domain::audit::merkle::{Hash, consistency_proof, inclusion_proof, leaf_hash};
use crate::domain::audit::note::valid_name;
use crate::domain::audit::{Checkpoint, Frontier, Signer, leaf_bytes, verify};
use crate::error::AppError;
use crate::store::{AuditKeys, StoreError, StoredCheckpoint, StoredLeaf};

/// Rows sealed per transaction: a seal holds the write lock this long (SQLite), so it stays short.
const SEAL_BATCH: u32 = 2_000;

/// The label the audit signing key is derived under.
const SIGNING_LABEL: &[u8] = b"outreach audit log signing key v1";

/// What `audit verify` found.
#[derive(Debug, Clone)]
pub struct Verification {
    pub size: u64,
    pub root: Hash,
    pub checkpoints: usize,
    /// Committed rows not yet sealed.
    pub pending: i64,
    /// The first thing that does not verify, if any.
    pub problem: Option<String>,
}

/// One leaf's inclusion proof against a checkpoint.
#[derive(Debug, Clone)]
pub struct Inclusion {
    pub index: u64,
    /// The leaf's bytes (canonical JSON), as an export holds them.
    pub leaf: Vec<u8>,
    pub proof: Vec<Hash>,
    pub checkpoint: StoredCheckpoint,
}

fn derived_signer(origin: &str, link_key: &[u8]) -> Result<Signer, AppError> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(link_key).map_err(|e| AppError::Internal(format!("audit signing key: {e}")))?;
    mac.update(SIGNING_LABEL);
    let seed: [u8; 32] = mac.finalize().into_bytes().into();
    Signer::from_seed(origin, &seed).map_err(|e| AppError::Internal(format!("audit signing key: {e}")))
}

fn corrupt(what: String) -> AppError {
    AppError::Store(StoreError::Corrupt(what))
}

fn size_of(value: i64) -> Result<u64, AppError> {
    u64::try_from(value).map_err(|_| corrupt(format!("a tree size of {value}")))
}

/// A stored leaf as its row gives it now.
struct Recomputed {
    bytes: Vec<u8>,
    hash: Hash,
    /// Whether it is the leaf that was sealed.
    as_sealed: bool,
}

/// The leaf a stored leaf's row gives now, or why the row gives none.
fn recomputed(leaf: &StoredLeaf, keys: &AuditKeys) -> Result<Recomputed, String> {
    let row = leaf.row.as_ref().ok_or_else(|| "its row was removed".to_owned())?;
    let event = row.event(&keys.personal_key).map_err(|e| e.to_string())?;
    let bytes = leaf_bytes(&event).map_err(|e| e.to_string())?;
    let hash = leaf_hash(&bytes);
    Ok(Recomputed {
        as_sealed: hex::encode(hash) == leaf.leaf_hash,
        bytes,
        hash,
    })
}

fn describe(leaf: &StoredLeaf) -> String {
    format!("leaf {} ({} row {})", leaf.index, leaf.kind.table(), leaf.row_id)
}

impl Application {
    /// The log's name: the public address's host and `/audit`, fixed by the first seal.
    fn audit_origin_candidate(&self) -> String {
        let host = url::Url::parse(&self.settings.web.base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        let origin = format!("{host}/audit");
        if valid_name(&origin) && !host.is_empty() {
            origin
        } else {
            "outreach/audit".to_owned()
        }
    }

    pub async fn audit_keys(&self) -> Result<AuditKeys, AppError> {
        Ok(self
            .store
            .audit_keys(|| (self.audit_origin_candidate(), rand::random::<[u8; 32]>().to_vec()))
            .await?)
    }

    /// The key checkpoints are signed with.
    pub async fn audit_signer(&self) -> Result<(AuditKeys, Signer), AppError> {
        let keys = self.audit_keys().await?;
        let signer = derived_signer(&keys.origin, &self.signing_key()?)?;
        Ok((keys, signer))
    }

    /// The verifier keys a checkpoint of this installation may be signed with: the current one, and the
    /// previous one during a rotation of the link key.
    pub async fn audit_verifier_keys(&self) -> Result<Vec<String>, AppError> {
        self.verifier_keys_of(&self.audit_keys().await?)
    }

    fn verifier_keys_of(&self, keys: &AuditKeys) -> Result<Vec<String>, AppError> {
        self.verification_keys()?
            .iter()
            .map(|k| Ok(derived_signer(&keys.origin, k)?.verifier_key()))
            .collect()
    }

    /// Seals every committed row into the tree, in batches; how many leaves it added. Another instance
    /// sealing at the same moment makes this one stop early: what is left is that one's.
    pub async fn seal(&self) -> Result<u64, AppError> {
        let (keys, signer) = self.audit_signer().await?;
        let mut total = 0u64;
        while let Some(sealed) = self.store.seal(&keys, &signer, self.now(), SEAL_BATCH).await? {
            total = total.saturating_add(sealed.leaves);
            if sealed.leaves < u64::from(SEAL_BATCH) {
                break;
            }
        }
        Ok(total)
    }

    /// Checks the whole log: every leaf recomputed from its row, the tree rebuilt from them, every checkpoint's
    /// signature and root, rows logged behind the log's back; with `against`, that the log extends a checkpoint
    /// someone kept. Reads the leaves as a stream.
    pub async fn audit_verify(&self, against: Option<&str>) -> Result<Verification, AppError> {
        let keys = self.audit_keys().await?;
        let verifier_keys = self.verifier_keys_of(&keys)?;
        let open = |note: &str| -> Result<Checkpoint, String> {
            let mut last = String::new();
            for key in &verifier_keys {
                match verify(note, key) {
                    Ok(checkpoint) => return Ok(checkpoint),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(last)
        };
        let mut expected = Vec::new();
        for stored in self.store.checkpoints().await? {
            let checkpoint = match open(&stored.note) {
                Ok(c) => c,
                Err(e) => {
                    return Ok(failed(format!(
                        "the checkpoint of size {} does not verify: {e}",
                        stored.size
                    )));
                }
            };
            if i64::try_from(checkpoint.size).ok() != Some(stored.size) || hex::encode(checkpoint.root) != stored.root {
                return Ok(failed(format!(
                    "the checkpoint of size {} was changed: its row and its signed note disagree",
                    stored.size
                )));
            }
            expected.push(checkpoint);
        }
        let kept = match against {
            None => None,
            Some(note) => match open(note) {
                Ok(c) => Some(c),
                Err(e) => return Ok(failed(format!("the checkpoint given does not verify: {e}"))),
            },
        };
        let mut frontier = Frontier::new();
        let mut problem: Option<String> = None;
        let mut next_checkpoint = expected.iter().peekable();
        let mut check_roots = |frontier: &Frontier, problem: &mut Option<String>| {
            while let Some(c) = next_checkpoint.peek() {
                if c.size > frontier.size() {
                    break;
                }
                if c.size == frontier.size() && c.root != frontier.root() && problem.is_none() {
                    *problem = Some(format!(
                        "the checkpoint of size {} does not match the leaves: a leaf before it was changed, \
                         inserted or removed",
                        c.size
                    ));
                }
                next_checkpoint.next();
            }
            if let Some(k) = &kept
                && k.size == frontier.size()
                && k.root != frontier.root()
                && problem.is_none()
            {
                *problem = Some(format!(
                    "the log does not extend the checkpoint given (size {}): its first {} leaves have another root",
                    k.size, k.size
                ));
            }
        };
        check_roots(&frontier, &mut problem);
        self.store
            .each_leaf::<AppError>(i64::MAX, |leaf| {
                if problem.is_some() {
                    return Ok(());
                }
                if u64::try_from(leaf.index).ok() != Some(frontier.size()) {
                    problem = Some(format!(
                        "leaf {} was removed (the next stored leaf is {})",
                        frontier.size(),
                        leaf.index
                    ));
                    return Ok(());
                }
                let now = match recomputed(&leaf, &keys) {
                    Ok(now) => now,
                    Err(why) => {
                        problem = Some(format!("{}: {why}", describe(&leaf)));
                        return Ok(());
                    }
                };
                if !now.as_sealed {
                    problem = Some(format!(
                        "{} was changed: the row no longer gives the leaf that was sealed",
                        describe(&leaf)
                    ));
                    return Ok(());
                }
                frontier.push(now.hash).map_err(|e| corrupt(e.to_string()))?;
                check_roots(&frontier, &mut problem);
                Ok(())
            })
            .await?;
        if problem.is_none()
            && let Some(last) = expected.last()
            && last.size > frontier.size()
        {
            problem = Some(format!(
                "leaves {} and after were removed: the checkpoint of size {} has more",
                frontier.size(),
                last.size
            ));
        }
        if problem.is_none()
            && let Some(k) = &kept
            && k.size > frontier.size()
        {
            problem = Some(format!(
                "the log has {} leaves, fewer than the checkpoint given ({}): it was cut back",
                frontier.size(),
                k.size
            ));
        }
        if problem.is_none()
            && let Some((kind, id)) = self.store.unlogged_rows(1).await?.first()
        {
            problem = Some(format!(
                "{} row {id} was inserted behind the log: it is neither sealed nor waiting to be",
                kind.table()
            ));
        }
        Ok(Verification {
            size: frontier.size(),
            root: frontier.root(),
            checkpoints: expected.len(),
            pending: self.store.pending_seal().await?,
            problem,
        })
    }

    /// The inclusion proof of leaf `index` against the latest checkpoint.
    pub async fn audit_inclusion(&self, index: u64) -> Result<Inclusion, AppError> {
        let keys = self.audit_keys().await?;
        let checkpoint = self
            .store
            .latest_checkpoint()
            .await?
            .ok_or_else(|| AppError::NotFound("the audit log has no checkpoint yet: nothing is sealed".into()))?;
        let size = size_of(checkpoint.size)?;
        if index >= size {
            return Err(AppError::NotFound(format!(
                "leaf {index} is not in the latest checkpoint (size {size}); it may not be sealed yet"
            )));
        }
        let position = i64::try_from(index).map_err(|_| AppError::Input(format!("leaf {index}")))?;
        let leaf = self
            .store
            .leaf(position)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("leaf {index}")))?;
        let bytes = recomputed(&leaf, &keys)
            .map_err(|why| corrupt(format!("{}: {why}", describe(&leaf))))?
            .bytes;
        let hashes = self.stored_hashes(checkpoint.size).await?;
        let proof = inclusion_proof(&hashes, index).map_err(|e| corrupt(e.to_string()))?;
        Ok(Inclusion {
            index,
            leaf: bytes,
            proof,
            checkpoint,
        })
    }

    /// The leaves of a mail's attempts (by its Message-ID, with or without angle brackets).
    pub async fn audit_leaves_of_message(&self, message_id: &str) -> Result<Vec<u64>, AppError> {
        let trimmed = message_id.trim().trim_start_matches('<').trim_end_matches('>');
        let leaves = self.store.leaves_of_message(&format!("<{trimmed}>")).await?;
        leaves.into_iter().map(size_of).collect()
    }

    /// The consistency proof from the tree of `old` leaves to that of `new`, both checkpoints of this log.
    pub async fn audit_consistency(
        &self,
        old: u64,
        new: u64,
    ) -> Result<(StoredCheckpoint, StoredCheckpoint, Vec<Hash>), AppError> {
        if old == 0 || old > new {
            return Err(AppError::Input(format!(
                "no proof from {old} to {new}: the older size must be at least 1 and at most the newer"
            )));
        }
        let checkpoint = |size: u64| async move {
            let stored = i64::try_from(size).map_err(|_| AppError::Input(format!("size {size}")))?;
            self.store
                .checkpoint_of_size(stored)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no checkpoint of size {size}")))
        };
        let (first, second) = (checkpoint(old).await?, checkpoint(new).await?);
        let hashes = self.stored_hashes(second.size).await?;
        let proof = consistency_proof(&hashes, old).map_err(|e| corrupt(e.to_string()))?;
        Ok((first, second, proof))
    }

    async fn stored_hashes(&self, upto: i64) -> Result<Vec<Hash>, AppError> {
        let stored = self.store.leaf_hashes(upto).await?;
        let mut hashes = Vec::with_capacity(stored.len());
        for (index, hash) in stored {
            if i64::try_from(hashes.len()).ok() != Some(index) {
                return Err(corrupt(format!(
                    "leaf {} is missing: run `outreach audit verify`",
                    hashes.len()
                )));
            }
            let bytes = hex::decode(&hash).ok().and_then(|b| Hash::try_from(b).ok());
            hashes.push(bytes.ok_or_else(|| corrupt(format!("the hash of leaf {index}")))?);
        }
        Ok(hashes)
    }

    /// Writes the export of docs/audit-format.md §8, cut at the latest checkpoint: every leaf recomputed from
    /// its row as the row is now, then the checkpoint. A row that no longer gives its sealed leaf is written as
    /// it is (a removed one is left out), so that the export shows any verifier what the database holds; the
    /// result says so, and the command fails after writing.
    pub async fn audit_export(&self, out: &mut impl Write) -> Result<Option<Exported>, AppError> {
        self.seal().await?;
        let keys = self.audit_keys().await?;
        let Some(checkpoint) = self.store.latest_checkpoint().await? else {
            return Ok(None);
        };
        let mut expected_index = 0i64;
        let mut first_difference: Option<String> = None;
        let mut note = |problem: String| {
            first_difference.get_or_insert(problem);
        };
        self.store
            .each_leaf::<AppError>(checkpoint.size, |leaf| {
                if leaf.index != expected_index {
                    note(format!("leaf {expected_index} was removed"));
                }
                expected_index = leaf.index.saturating_add(1);
                match recomputed(&leaf, &keys) {
                    Ok(now) => {
                        if !now.as_sealed {
                            note(format!("{} was changed", describe(&leaf)));
                        }
                        out.write_all(&now.bytes).map_err(AppError::from_output)?;
                        out.write_all(b"\n").map_err(AppError::from_output)?;
                    }
                    Err(why) => note(format!("{}: {why}", describe(&leaf))),
                }
                Ok(())
            })
            .await?;
        if expected_index != checkpoint.size {
            first_difference.get_or_insert(format!("leaves {expected_index} and after were removed"));
        }
        out.write_all(b"# checkpoint\n").map_err(AppError::from_output)?;
        out.write_all(checkpoint.note.as_bytes())
            .map_err(AppError::from_output)?;
        Ok(Some(Exported {
            checkpoint,
            first_difference,
        }))
    }
}

/// What an export was cut at, and whether the rows still gave the sealed leaves.
#[derive(Debug, Clone)]
pub struct Exported {
    pub checkpoint: StoredCheckpoint,
    /// The first entry whose row no longer gives its leaf (the export will not verify).
    pub first_difference: Option<String>,
}

fn failed(problem: String) -> Verification {
    Verification {
        size: 0,
        root: crate::domain::audit::EMPTY_ROOT,
        checkpoints: 0,
        pending: 0,
        problem: Some(problem),
    }
}
