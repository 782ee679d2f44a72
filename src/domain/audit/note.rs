//! Signed notes (C2SP `signed-note`, the format of Go's checksum database, Sigstore and the transparency-log
//! witnesses) with Ed25519 keys, and the two text forms of a key. A checkpoint is such a note.
//!
//! A note is a text ending in a newline, a blank line, then one line per signature:
//! `— <key name> <base64(key id ‖ signature)>` (an em dash U+2014 and a space first). The key id is the first
//! four bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key), 0x01 being the Ed25519 signature type, so a
//! verifier holding a key knows which line is its own; lines by other keys (witnesses' cosignatures, a
//! rotated key) are ignored, as the specification requires.
//!
//! Written here rather than taken from a crate: the candidates are Cloudflare's `signed_note` and
//! `tlog_tiles` (ports of Go's code, from its azul project), but their crates.io releases (0.2.0, April 2025)
//! lag their repository, which has since reworked the API and marks them unreleased, and would bring older
//! base64, thiserror and rand_core beside ours; the other crates that read notes are parts of other
//! products. The format is a hundred lines, checked against the Go reference's vectors (`checkpoint/tests.rs`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::checkpoint::CheckpointError;

/// The signature type byte of Ed25519 in key ids and key texts.
const ED25519: u8 = 0x01;
/// What starts every signature line: an em dash and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// The specification wants at least 16 accepted; more than this is a note built to make us work.
const MAX_SIGNATURES: usize = 100;

/// The key id of an Ed25519 key: the first four bytes, big-endian, of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key).
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([b'\n', ED25519]);
    hasher.update(public_key);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// A key name (and so a log's origin): non-empty, no Unicode space, no '+' (which separates a key text's
/// parts), and no control character (which a note may not hold).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c.is_control() || c == '+')
}

/// The installation's signing key. Its `Debug` shows the name and key id, never the key.
pub struct Signer {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}+{:08x})", self.name, self.key_id())
    }
}

impl Signer {
    /// The key of this 32-byte Ed25519 seed (the private key of RFC 8032), under this name.
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, CheckpointError> {
        if !valid_name(name) {
            return Err(CheckpointError::BadName(name.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(seed),
        })
    }

    /// A new key from the operating system's randomness (through `rand`'s thread generator, seeded from it).
    pub fn generate(name: &str) -> Result<Self, CheckpointError> {
        Self::from_seed(name, &rand::random::<[u8; 32]>())
    }

    /// Reads the signer key text `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ seed)>` (Go's
    /// `note.NewSigner` format), checking that the id is the id of the public key it derives.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(CheckpointError::MalformedKey("a signer key starts with PRIVATE+KEY+"))?;
        let (name, id, seed) = key_parts(rest)?;
        let signer = Self::from_seed(name, &seed)?;
        let computed = signer.key_id();
        if id != computed {
            return Err(CheckpointError::KeyIdMismatch { given: id, computed });
        }
        Ok(signer)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    pub fn key_id(&self) -> u32 {
        key_id(&self.name, &self.public_key())
    }

    /// The secret key as text, to store (mode 0600) and read back with `parse`.
    pub fn signer_key(&self) -> String {
        key_text(
            &format!("PRIVATE+KEY+{}", self.name),
            self.key_id(),
            &self.key.to_bytes(),
        )
    }

    /// The public key as the note verifier key text `<name>+<hex key id>+<base64(0x01 ‖ public key)>`.
    pub fn verifier_key(&self) -> String {
        key_text(&self.name, self.key_id(), &self.public_key())
    }

    /// Signs `text` (which must end in a newline and hold no control character but newlines): the text, a
    /// blank line and this key's signature line.
    pub fn sign_note(&self, text: &str) -> Result<String, CheckpointError> {
        check_characters(text)?;
        if !text.ends_with('\n') {
            return Err(CheckpointError::MalformedNote("the text does not end in a newline"));
        }
        let mut signature = self.key_id().to_be_bytes().to_vec();
        signature.extend(self.key.sign(text.as_bytes()).to_bytes());
        Ok(format!(
            "{text}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(signature)
        ))
    }
}

/// A public key that notes are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Reads a verifier key text `<name>+<hex key id>+<base64(0x01 ‖ public key)>`, checking the id.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let (name, id, public_key) = key_parts(text)?;
        if !valid_name(name) {
            return Err(CheckpointError::BadName(name.to_owned()));
        }
        let computed = key_id(name, &public_key);
        if id != computed {
            return Err(CheckpointError::KeyIdMismatch { given: id, computed });
        }
        let key = VerifyingKey::from_bytes(&public_key)
            .map_err(|_| CheckpointError::MalformedKey("not an Ed25519 public key"))?;
        Ok(Self {
            name: name.to_owned(),
            id,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The note's text if this key signed it. Signatures by other keys are skipped (a witness's cosignature
    /// rides along); one by this key that does not verify refuses the whole note, and so does a note this
    /// key did not sign at all.
    pub fn open<'n>(&self, note: &'n str) -> Result<&'n str, CheckpointError> {
        check_characters(note)?;
        let split = note
            .rfind("\n\n")
            .ok_or(CheckpointError::MalformedNote("no blank line before the signatures"))?;
        let (text, signatures) = (&note[..=split], &note[split + 2..]);
        if signatures.is_empty() || !signatures.ends_with('\n') {
            return Err(CheckpointError::MalformedNote("the signatures do not end in a newline"));
        }
        let mut signed = false;
        let mut others = Vec::new();
        for (count, line) in signatures.split_terminator('\n').enumerate() {
            if count >= MAX_SIGNATURES {
                return Err(CheckpointError::MalformedNote("too many signatures"));
            }
            let (name, id, signature) = signature_line(line)?;
            if name != self.name || id != self.id {
                others.push(format!("{name}+{id:08x}"));
                continue;
            }
            let bad = || CheckpointError::BadSignature {
                name: name.to_owned(),
                id,
            };
            let signature = Signature::from_slice(&signature).map_err(|_| bad())?;
            // Strict: also refuses small-order (weak) public keys and signature points, which RFC 8032's
            // check lets pass; no honest signer makes either.
            self.key.verify_strict(text.as_bytes(), &signature).map_err(|_| bad())?;
            signed = true;
        }
        if !signed {
            return Err(CheckpointError::NotSignedByKey {
                expected: format!("{}+{:08x}", self.name, self.id),
                found: others.join(", "),
            });
        }
        Ok(text)
    }
}

/// Splits `— <name> <base64>` into the name, the key id and the signature bytes after it.
fn signature_line(line: &str) -> Result<(&str, u32, Vec<u8>), CheckpointError> {
    let malformed = || CheckpointError::MalformedNote("a signature line is not `— <key name> <base64>`");
    let (name, encoded) = line
        .strip_prefix(SIGNATURE_PREFIX)
        .and_then(|rest| rest.split_once(' '))
        .ok_or_else(malformed)?;
    let mut bytes = STANDARD.decode(encoded).map_err(|_| malformed())?;
    if !valid_name(name) || bytes.len() < 5 {
        return Err(malformed());
    }
    let signature = bytes.split_off(4);
    let id = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    Ok((name, id, signature))
}

/// A note is UTF-8 (a `&str` is) without characters below U+0020 other than newline.
fn check_characters(text: &str) -> Result<(), CheckpointError> {
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(CheckpointError::MalformedNote("a control character other than newline"));
    }
    Ok(())
}

/// `<name>+<8 hex digits>+<base64(0x01 ‖ 32 bytes)>` into its parts.
fn key_parts(text: &str) -> Result<(&str, u32, [u8; 32]), CheckpointError> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CheckpointError::MalformedKey("a key is <name>+<key id>+<base64 key>"));
    };
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(CheckpointError::MalformedKey(
            "the key id is not 8 lowercase hex digits",
        ));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| CheckpointError::MalformedKey("bad key id"))?;
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| CheckpointError::MalformedKey("the key is not base64"))?;
    match bytes.split_first() {
        Some((&ED25519, key)) => {
            let key =
                <[u8; 32]>::try_from(key).map_err(|_| CheckpointError::MalformedKey("an Ed25519 key is 32 bytes"))?;
            Ok((name, id, key))
        }
        _ => Err(CheckpointError::MalformedKey("not an Ed25519 key (type 0x01)")),
    }
}

fn key_text(prefix: &str, id: u32, key: &[u8; 32]) -> String {
    let mut bytes = vec![ED25519];
    bytes.extend(key);
    format!("{prefix}+{id:08x}+{}", STANDARD.encode(bytes))
}
