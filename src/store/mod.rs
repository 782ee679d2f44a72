//! The store: one interface over SQLite (embedded, one machine) and PostgreSQL (shared by several instances).
//!
//! Both backends run the same SQL through sqlx's `Any` driver; what differs between them (connection set-up,
//! migrations, the queue claim) lives in [`Backend`]. Times are epoch milliseconds everywhere.

pub mod accounts;
pub mod actions;
mod audit;
pub mod campaigns;
mod dashboard;
mod dialect;
pub mod erasure;
mod health;
mod instances;
mod member_search;
pub mod members;
pub mod plans;
mod queue;
pub mod runs;
mod send_log;
mod sql;
mod witnesses;

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::config::files::{create_private_file, create_private_folder, sqlite_file};
use crate::domain::campaign::{CampaignState, StateReason};
use crate::domain::{Outcome, RunStatus, Trigger};

pub use audit::{AuditKeys, Sealed, StoredCheckpoint, StoredLeaf};
pub use dashboard::MonthCount;
pub use health::Gauges;
pub use sql::{Store, Tx};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The database could not be opened at all; `reason` is the driver's.
    #[error("cannot open the database {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the database folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    /// The request contradicts what is stored (e.g. another plan file for the same year).
    #[error("{0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// What is stored refuses the change (an account for the address exists): typed, for every way to word it.
    #[error(transparent)]
    Refused(#[from] crate::domain::Refusal),
    #[error("unexpected value in the database: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// The database refused a text it cannot hold (PostgreSQL: NUL in a string, SQLSTATE 22021). Every typed
    /// text is checked before a query (`domain::text`); this keeps one that slipped through a 400, not a 503.
    pub fn refuses_text(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(db)) if db.code().as_deref() == Some("22021"))
    }

    /// The database is away for now — unreachable, restarting, locked by another writer past the busy
    /// timeout, or it rolled the transaction back to break a deadlock — rather than refusing what was asked:
    /// the same request is worth trying again.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(db) => {
                    let code = db.code().unwrap_or_default();
                    // SQLite: SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes. PostgreSQL: connection
                    // exceptions (08…), operator intervention (57P…: shutdown, terminated backend), and a
                    // transaction rolled back for a deadlock or a serialization failure (40P01, 40001), which
                    // succeeds when tried again.
                    let sqlite_busy = code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 5 | 6));
                    sqlite_busy
                        || code.starts_with("08")
                        || code.starts_with("57P")
                        || code == "40P01"
                        || code == "40001"
                }
                _ => false,
            },
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A campaign's move to `to` from one of `from`, with the reason staff will read; `settled_ms` also moves
/// the settled mark forward (ticks at or before it never fire).
#[derive(Debug, Clone)]
pub struct Transition<'a> {
    pub from: &'a [CampaignState],
    pub to: CampaignState,
    pub reason: &'a StateReason,
    pub settled_ms: Option<i64>,
}

/// What a change of a member's state did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    NoSuchMember,
    /// The member already was in that state: nothing recorded.
    Already,
    Done,
}

/// How long a claim holds its deliveries, in database time.
#[derive(Debug, Clone, Copy)]
pub struct Lease {
    pub ms: i64,
    /// An instance silent this long is dead: its deliveries are taken over.
    pub instance_timeout_ms: i64,
}

impl Lease {
    /// The lease the settings give (bounded at load, so no overflow).
    pub fn of(delivery: &crate::config::DeliverySettings) -> Self {
        use crate::config::millis;
        Self {
            ms: millis(delivery.lease_secs),
            instance_timeout_ms: millis(delivery.instance_timeout_secs),
        }
    }
}

/// The audience of a run, frozen into deliveries when the run starts.
#[derive(Debug, Clone)]
pub enum Audience {
    /// Members subscribed to the theme, active, each address once.
    Members { theme_slug: String },
    /// Active business advisors.
    Advisors,
    /// Fixed addresses (the Tosho Shimbun editorial desk).
    Addresses(Vec<String>),
}

#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub id: i64,
    pub campaign_id: i64,
    pub scheduled_for: i64,
    pub trigger: Trigger,
    pub status: RunStatus,
    pub audience: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Delivery counts of one run by status.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct RunCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    /// Not sent: the campaign was cancelled, or the recipient left after the run started.
    pub cancelled: i64,
}

/// A process as it registers: `serve` or `send-due` on some host.
#[derive(Debug, Clone)]
pub struct InstanceInfo {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub role: String,
    /// How other processes of its machine recognise it; none where it cannot be read.
    pub process: Option<ProcessIdentity>,
}

/// A process as the other processes of its machine can recognise it: its pid means something only in its
/// kernel's boot and pid namespace, and its start time tells it from a later process given the same pid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub boot_id: String,
    pub pid_ns: String,
    /// Clock ticks since boot.
    pub start_ticks: i64,
}

/// Another instance still counted live whose process runs where this one's does (same boot and pid
/// namespace), so this one can look at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    pub id: String,
    pub pid: i64,
    pub start_ticks: i64,
}

/// A registered process as the database sees it now.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceStatus {
    pub id: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub role: String,
    pub started_at: i64,
    pub heartbeat_at: i64,
    /// Milliseconds since its last heartbeat, in database time.
    pub silent_ms: i64,
    /// live, dead (silent past the timeout, or its process found gone on its machine) or stopped (said
    /// goodbye).
    pub state: &'static str,
    /// Deliveries it holds a lease on.
    pub holding: i64,
    pub held_until: Option<i64>,
}

/// Deliveries a live instance holds.
#[derive(Debug, Clone, Serialize)]
pub struct Held {
    pub instance: String,
    pub deliveries: i64,
    /// When the last of their leases runs out, in database time (renewed while the instance lives).
    pub until: i64,
    pub silent_ms: i64,
}

/// Unsent deliveries of a run, grouped by why they wait.
#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    /// The instance holding them (on the wire or about to be), or none: queued.
    pub held_by: Option<String>,
    pub deliveries: i64,
    /// The earliest time one of them may be tried (queued ones).
    pub next_attempt_at: i64,
    pub held_until: Option<i64>,
    /// The last reply any of them got, if any was tried.
    pub last_reply: String,
}

/// Filters of the staff-action log, all optional.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub since_ms: Option<i64>,
    /// Actions before this instant.
    pub until_ms: Option<i64>,
    /// Actions on this target (a member's address, a campaign, …).
    pub target: Option<String>,
}

/// Where a keyset page starts: after an id (the next page, ascending) or before one (the previous page; the
/// rows still come back in ascending id order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyset {
    After(i64),
    Before(i64),
}

impl Keyset {
    /// The clause on `id` and the order to read in: descending for a previous page, so that LIMIT takes the
    /// rows nearest the cursor.
    pub(crate) fn sql(self) -> (&'static str, &'static str, i64) {
        match self {
            Keyset::After(id) => ("id > $1", "ASC", id),
            Keyset::Before(id) => ("id < $1", "DESC", id),
        }
    }
}

/// Filters of the send log, all optional.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub campaign_id: Option<i64>,
    pub theme_slug: Option<String>,
    pub channel: Option<String>,
    pub recipient: Option<String>,
    pub outcome: Option<Outcome>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LogEntry {
    pub id: i64,
    pub at: i64,
    pub delivery_id: i64,
    pub attempt: i64,
    pub run_id: i64,
    pub campaign_id: i64,
    pub theme_slug: String,
    pub duty: String,
    pub channel: String,
    pub recipient: String,
    pub message_id: String,
    pub template: String,
    pub content_sha256: String,
    pub smtp_code: Option<i64>,
    pub smtp_reply: String,
    /// The instance that made the attempt.
    pub sender: String,
    pub outcome: Outcome,
}

/// Connects, creating the SQLite file and its folder when needed (private to this user: see
/// [`crate::config::files`]), and applies the embedded migrations.
pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Store> {
    let backend = if url.starts_with("postgres") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    if backend == Backend::Sqlite
        && let Some(file) = sqlite_file(url)
    {
        create_sqlite_file(file)?;
    }
    Store::connect(backend, url, max_connections, Duration::from_secs(10)).await
}

/// Creates the database file, empty (SQLite takes an empty file for an empty database), 0600 before SQLite
/// opens it: SQLite would make it 0644, and it gives the -wal and -shm files the mode of the database file.
fn create_sqlite_file(file: &Path) -> StoreResult<()> {
    let folder_error = |folder: &Path, source| StoreError::Folder {
        path: folder.display().to_string(),
        source,
    };
    if let Some(folder) = file.parent().filter(|f| !f.as_os_str().is_empty()) {
        create_private_folder(folder).map_err(|e| folder_error(folder, e))?;
    }
    // An existing file is kept as it is (`init` tightens it); any other failure (a read-only folder, say) is
    // left for SQLite's own attempt to report, with its reason.
    let _ = create_private_file(file);
    Ok(())
}
