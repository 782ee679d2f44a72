//! The verifiable audit log's core, with no I/O (issue 17): the Merkle tree and its proofs in the form of
//! Certificate Transparency (RFC 9162), the incremental frontier a sealer extends, signed checkpoints in the
//! C2SP formats, and the leaf encoding of audit events. `docs/audit-format.md` specifies every byte of it for
//! verifiers written without this code.

pub mod checkpoint;
pub mod frontier;
pub mod leaf;
pub mod merkle;
pub mod note;
pub mod rows;

pub use checkpoint::{Checkpoint, CheckpointError, verify};
pub use frontier::Frontier;
pub use leaf::{AuditEvent, LeafError, PersonalHmac, leaf_bytes, personal_hmac};
pub use merkle::{EMPTY_ROOT, Hash, ProofError};
pub use note::{Signer, Verifier};
pub use rows::{ActionRow, ConsentRow, LogKind, LoggedRow, SendRow};

#[cfg(test)]
mod vectors;
