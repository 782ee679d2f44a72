//! Checkpoints: the signed statement "the log had this many leaves and this root", in the C2SP
//! `tlog-checkpoint` format that witnesses, Go's checksum database and Sigstore use, so tools built for
//! those can read ours.
//!
//! The body is the origin (the log's name), the tree size in decimal and the root in base64, each line ending
//! in a newline, then our one extension line, `time <UTC time to the second>Z`: issue 17 wants each
//! checkpoint to say when it was sealed. The specification allows extension lines after the root and warns
//! that monitors cannot audit them: the time is the sealer's signed claim, not something a proof shows, and a
//! verifier should treat it as such (a witness's own cosignature, if we add witnesses that cosign, carries a
//! time it vouches for). A checkpoint without the line (another log's) still reads; any other extension line
//! is refused, since we sign none.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDateTime, Utc};

use super::merkle::Hash;
use super::note::{Signer, Verifier, valid_name};

/// The extension line's keyword and the time's one spelling: RFC 3339 in UTC, seconds, `Z`.
const TIME_PREFIX: &str = "time ";
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Why a checkpoint, a note or a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("invalid key name or origin {0:?}: it must be non-empty, without spaces, '+' or control characters")]
    BadName(String),
    #[error("malformed checkpoint: {0}")]
    MalformedBody(&'static str),
    #[error("malformed signed note: {0}")]
    MalformedNote(&'static str),
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    #[error("the key id {given:08x} is not the id of the key's name and public key ({computed:08x})")]
    KeyIdMismatch { given: u32, computed: u32 },
    #[error("the signature by {name}+{id:08x} does not verify: the note was changed or not signed by that key")]
    BadSignature { name: String, id: u32 },
    #[error("the note is not signed by {expected} (signed by: {found})")]
    NotSignedByKey { expected: String, found: String },
    #[error("the checkpoint is of the log {origin:?}, not of {expected:?}, the name of the key")]
    WrongOrigin { origin: String, expected: String },
}

/// A tree head: which log, how many leaves, their root, and when it was sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name, e.g. `outreach.example.org/audit`; also the name of the key that signs it.
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Written to the second (anything finer is dropped); `None` only in another log's checkpoint.
    pub time: Option<DateTime<Utc>>,
}

impl Checkpoint {
    /// The note text that is signed: `<origin>\n<size>\n<base64 root>\n` and, with a time,
    /// `time <YYYY-MM-DDTHH:MM:SSZ>\n`.
    pub fn body(&self) -> String {
        let mut body = format!("{}\n{}\n{}\n", self.origin, self.size, STANDARD.encode(self.root));
        if let Some(time) = self.time {
            body.push_str(&format!("{TIME_PREFIX}{}\n", time.format(TIME_FORMAT)));
        }
        body
    }

    /// Reads a body as `body` writes it, refusing any other spelling: each line ends in a newline, the size
    /// has no sign or leading zero, the root is canonical base64 of 32 bytes, the time (if any) is one line
    /// in the one format. Equal checkpoints thus always have equal bodies, and so equal signed bytes.
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        let malformed = CheckpointError::MalformedBody;
        let lines = body
            .strip_suffix('\n')
            .ok_or(malformed("the body does not end in a newline"))?;
        let mut lines = lines.split('\n');
        let origin = lines.next().unwrap_or_default();
        if !valid_name(origin) {
            return Err(CheckpointError::BadName(origin.to_owned()));
        }
        let size = lines.next().ok_or(malformed("no tree size line"))?;
        let canonical = size == "0" || !size.starts_with('0');
        if size.is_empty() || !canonical || !size.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed("the tree size is not a decimal number without leading zeros"));
        }
        let size = size
            .parse()
            .map_err(|_| malformed("the tree size does not fit 64 bits"))?;
        let root = lines.next().ok_or(malformed("no root hash line"))?;
        let root = STANDARD
            .decode(root)
            .ok()
            .and_then(|bytes| Hash::try_from(bytes).ok())
            .filter(|bytes| STANDARD.encode(bytes) == root)
            .ok_or(malformed("the root hash is not the base64 of 32 bytes"))?;
        let time = match lines.next() {
            None => None,
            Some(line) => Some(parse_time(line)?),
        };
        if lines.next().is_some() {
            return Err(malformed("an extension line other than one time line"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            time,
        })
    }
}

fn parse_time(line: &str) -> Result<DateTime<Utc>, CheckpointError> {
    let malformed = CheckpointError::MalformedBody("the extension line is not `time YYYY-MM-DDTHH:MM:SSZ`");
    let text = line.strip_prefix(TIME_PREFIX).ok_or(malformed.clone())?;
    let time = NaiveDateTime::parse_from_str(text, TIME_FORMAT)
        .map_err(|_| malformed.clone())?
        .and_utc();
    // chrono accepts a few spellings of one time (unpadded fields); only ours signs one way.
    if time.format(TIME_FORMAT).to_string() != text {
        return Err(malformed);
    }
    Ok(time)
}

impl Signer {
    /// The signed note of this checkpoint. Refused if the body would not read back as the same checkpoint
    /// (an origin with a space or a newline in it).
    pub fn sign(&self, checkpoint: &Checkpoint) -> Result<String, CheckpointError> {
        let body = checkpoint.body();
        // Size and root always spell out well; the origin might not, and a time past year 9999 would not.
        if Checkpoint::parse(&body)?.origin != checkpoint.origin {
            return Err(CheckpointError::BadName(checkpoint.origin.clone()));
        }
        self.sign_note(&body)
    }
}

/// The checkpoint in `note` if the key of `verifier_key` (a note verifier key text) signed it. The log's
/// origin must be the key's name, as C2SP recommends and as our logs are made: a key that signs for one log
/// cannot vouch for a checkpoint naming another.
pub fn verify(note: &str, verifier_key: &str) -> Result<Checkpoint, CheckpointError> {
    let verifier = Verifier::parse(verifier_key)?;
    let checkpoint = Checkpoint::parse(verifier.open(note)?)?;
    if checkpoint.origin != verifier.name() {
        return Err(CheckpointError::WrongOrigin {
            origin: checkpoint.origin,
            expected: verifier.name().to_owned(),
        });
    }
    Ok(checkpoint)
}

#[cfg(test)]
mod tests;
