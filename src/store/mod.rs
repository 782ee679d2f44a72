//! The store: one interface over SQLite (embedded, one machine) and PostgreSQL (shared by several instances).
//!
//! Both backends run the same SQL through sqlx's `Any` driver; what differs between them (connection set-up,
//! migrations, the queue claim) lives in [`Backend`]. Times are epoch milliseconds everywhere.

mod actions;
mod campaigns;
mod instances;
mod members;
mod plans;
mod queue;
mod runs;
mod send_log;
mod sql;

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::campaigns::{Campaign, CampaignState, NewCampaign};
use crate::domain::delivery::{AttemptRecord, ClaimedDelivery};
use crate::domain::{Action, ActionRecord, Outcome, RunStatus, Trigger};
use crate::plan::{Plan, PlanSaved};
use crate::recipients::{Advisor, ImportReport, Member, MemberEvent, MemberSource};
use crate::recipients::{AdvisorRow, MemberRow};

pub use sql::SqlStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the database folder {path}: {source}")]
    Folder { path: String, source: std::io::Error },
    /// The request contradicts what is stored (e.g. another plan file for the same year).
    #[error("{0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("unexpected value in the database: {0}")]
    Corrupt(String),
}

impl StoreError {
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
    pub reason: &'a str,
    pub settled_ms: Option<i64>,
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
    /// live, dead (silent past the timeout) or stopped (said goodbye).
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

#[async_trait]
pub trait Store: Send + Sync {
    // The plan.
    /// Saves a plan; the same file again changes nothing, another file for the same year needs `replace`.
    async fn save_plan(&self, plan: &Plan, replace: bool, now: i64, action: &Action) -> StoreResult<PlanSaved>;
    /// The plan of the year, or the latest one.
    async fn plan(&self, fiscal_year: Option<i32>) -> StoreResult<Option<Plan>>;

    // Recipients.
    async fn import_members(
        &self,
        rows: &[MemberRow],
        all_themes: &[String],
        now: i64,
        action: &Action,
    ) -> StoreResult<ImportReport>;
    async fn members(&self, theme_slug: Option<&str>) -> StoreResult<Vec<Member>>;
    async fn member(&self, email: &str) -> StoreResult<Option<Member>>;
    /// Every change of the member's state, oldest first.
    async fn member_history(&self, member_id: i64) -> StoreResult<Vec<MemberEvent>>;
    /// One active member subscribed to the theme, if any (a sample of a campaign's audience).
    async fn any_member(&self, theme_slug: &str) -> StoreResult<Option<Member>>;
    /// Unsubscribes from one theme, or from everything with `None`. False when there was no such member.
    async fn unsubscribe(
        &self,
        email: &str,
        theme_slug: Option<&str>,
        source: MemberSource,
        now: i64,
        action: &Action,
    ) -> StoreResult<bool>;
    async fn suppress(
        &self,
        email: &str,
        reason: &str,
        source: MemberSource,
        now: i64,
        action: &Action,
    ) -> StoreResult<bool>;
    /// Lifts a suppression. `None` when there is no such member, `Some(false)` when it was not suppressed.
    async fn unsuppress(
        &self,
        email: &str,
        reason: &str,
        source: MemberSource,
        now: i64,
        action: &Action,
    ) -> StoreResult<Option<bool>>;
    async fn import_advisors(&self, rows: &[AdvisorRow], now: i64, action: &Action) -> StoreResult<ImportReport>;
    async fn advisors(&self) -> StoreResult<Vec<Advisor>>;

    // Campaigns.
    async fn create_campaign(&self, campaign: &NewCampaign, now: i64, action: &Action) -> StoreResult<i64>;
    async fn campaign(&self, id: i64) -> StoreResult<Option<Campaign>>;
    async fn campaigns(&self) -> StoreResult<Vec<Campaign>>;
    /// The campaigns that can still fire (state scheduled): all the scheduler reads.
    async fn scheduled_campaigns(&self) -> StoreResult<Vec<Campaign>>;
    /// Makes the transition if the campaign is in one of its `from` states; false when it is not.
    async fn set_campaign_state(&self, id: i64, t: &Transition<'_>, now: i64, action: &Action) -> StoreResult<bool>;
    /// Moves the settled mark forward (never back). False when another instance got there first.
    async fn settle(&self, id: i64, previous_ms: i64, settled_ms: i64) -> StoreResult<bool>;

    // Runs.
    /// Starts the run of a tick and freezes its audience, in one transaction. `None` when the tick already has
    /// a run (fired twice by a restart, two timers or two instances).
    async fn start_run(
        &self,
        campaign_id: i64,
        scheduled_for: i64,
        trigger: Trigger,
        audience: &Audience,
        now: i64,
        action: Option<&Action>,
    ) -> StoreResult<Option<Run>>;
    async fn runs(&self, campaign_id: Option<i64>) -> StoreResult<Vec<Run>>;
    async fn run_counts(&self, run_id: i64) -> StoreResult<RunCounts>;
    /// Why a run's unsent deliveries wait.
    async fn waiting(&self, run_id: i64) -> StoreResult<Vec<Waiting>>;
    /// Marks runs with nothing left to send as done, and one-time campaigns whose scheduled run is done as
    /// finished (a manual run never finishes a campaign).
    async fn finish_runs(&self, now: i64) -> StoreResult<Vec<i64>>;
    /// Queues the failed deliveries of a run again (never the sent ones); reopens the run. How many.
    async fn retry_failed(&self, run_id: i64, now: i64, action: &Action) -> StoreResult<u64>;

    // The staff-action log.
    async fn actions(&self, filter: &ActionFilter) -> StoreResult<Vec<ActionRecord>>;

    // The queue.
    /// Claims up to `limit` due deliveries for `owner` for `lease.ms` of database time, skipping rows others
    /// hold, and taking over those of instances silent for more than `lease.instance_timeout_ms`. Each claim
    /// counts an attempt: (owner, attempt) is the fence its outcome is recorded under.
    async fn claim(&self, owner: &str, now: i64, lease: Lease, limit: u32) -> StoreResult<Vec<ClaimedDelivery>>;
    /// Records attempts — each delivery's new state and its send-log row — in one transaction (group commit).
    async fn record_attempts(&self, records: &[AttemptRecord]) -> StoreResult<()>;
    /// How many deliveries a worker could claim now.
    async fn due_count(&self, now: i64, lease: Lease) -> StoreResult<i64>;
    /// Gives back claimed deliveries that were not attempted (all that `owner` holds with `None`); their
    /// attempt is not counted.
    async fn release(&self, owner: &str, ids: Option<&[i64]>, now: i64) -> StoreResult<()>;

    // Instances, in database time.
    async fn register_instance(&self, instance: &InstanceInfo) -> StoreResult<()>;
    /// Says the instance is alive and renews the leases it holds for `lease_ms`; true when it was asked to
    /// reload its templates since the last heartbeat.
    async fn heartbeat(&self, id: &str, lease_ms: i64) -> StoreResult<bool>;
    /// Asks every live `serve` instance to reload its templates at its next heartbeat; how many.
    async fn ask_reload(&self, timeout_ms: i64) -> StoreResult<u64>;
    async fn stop_instance(&self, id: &str) -> StoreResult<()>;
    async fn instances(&self, timeout_ms: i64) -> StoreResult<Vec<InstanceStatus>>;
    /// Deliveries held by live instances other than `owner`.
    async fn held_elsewhere(&self, owner: &str, timeout_ms: i64) -> StoreResult<Vec<Held>>;
    /// The installation's id: `candidate` if none was stored yet.
    async fn installation_id(&self, candidate: &str, now: i64) -> StoreResult<String>;

    // The send log.
    /// One page of the log in id order, after `after_id`; callers stream by paging.
    async fn send_log(&self, filter: &LogFilter, after_id: i64, limit: u32) -> StoreResult<Vec<LogEntry>>;
}

/// Connects, creating the SQLite file and its folder when needed, and applies the embedded migrations.
pub async fn connect(url: &str, max_connections: u32) -> StoreResult<SqlStore> {
    let backend = if url.starts_with("postgres") {
        Backend::Postgres
    } else {
        Backend::Sqlite
    };
    if backend == Backend::Sqlite
        && let Some(folder) = sqlite_path(url).and_then(|p| p.parent().map(Path::to_path_buf))
        && !folder.as_os_str().is_empty()
    {
        std::fs::create_dir_all(&folder).map_err(|source| StoreError::Folder {
            path: folder.display().to_string(),
            source,
        })?;
    }
    SqlStore::connect(backend, url, max_connections, Duration::from_secs(10)).await
}

fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}
