//! The SQL behind [`Store`], shared by SQLite and PostgreSQL through sqlx's `Any` driver.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row, Transaction};

use super::{
    ActionFilter, Audience, Backend, Held, InstanceInfo, InstanceStatus, Lease, LogEntry, LogFilter, Run, RunCounts,
    Store, StoreError, StoreResult, Transition, Waiting,
};
use crate::campaigns::{Campaign, CampaignState, NewCampaign, Schedule};
use crate::domain::delivery::{AttemptRecord, ClaimedDelivery, Outcome};
use crate::domain::{Action, ActionRecord, RunStatus, Trigger};
use crate::plan::{Channel, Plan, PlanSaved};
use crate::recipients::{Advisor, ImportReport, Member, MemberEvent, MemberSource};
use crate::recipients::{AdvisorRow, MemberRow};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The store over one connection pool.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time. Writers of this process queue here instead of inside SQLite, whose busy
    /// handler sleeps in steps of milliseconds (measured: it capped sending at ~1,500 mails/s).
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction, holding the process's SQLite write turn until it ends.
pub(crate) struct Tx {
    tx: Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    pub(super) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for Tx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

impl SqlStore {
    pub(super) async fn connect(
        backend: Backend,
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout);
        let url = match backend {
            Backend::Sqlite => {
                options = options.after_connect(|conn, _| -> BoxFuture<'_, Result<(), sqlx::Error>> {
                    Box::pin(async move {
                        // WAL lets readers work beside the one writer; a writer waits up to 10 s for another.
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 10000",
                        ] {
                            sqlx::query(pragma).execute(&mut *conn).await?;
                        }
                        Ok(())
                    })
                });
                with_create_mode(url)
            }
            Backend::Postgres => url.to_owned(),
        };
        let pool = options.connect(&url).await?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        Ok(Self {
            pool,
            backend,
            sqlite_writer: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    pub(super) fn backend(&self) -> Backend {
        self.backend
    }

    pub(super) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write transaction. SQLite takes the write lock up front so two writers queue instead of failing.
    pub(super) async fn begin_write(&self) -> StoreResult<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let turn = self.sqlite_writer.clone().lock_owned().await;
                Tx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                }
            }
            Backend::Postgres => Tx {
                tx: self.pool.begin().await?,
                _turn: None,
            },
        })
    }
}

fn with_create_mode(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

pub(super) fn bool_int(b: bool) -> i64 {
    i64::from(b)
}

/// An `IN (…)` list of integers; safe to inline because the values are numbers.
pub(super) fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

pub(super) fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

pub(super) fn json_list(text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("sub_items {text:?}: {e}")))
}

pub(super) fn channels_from(text: &str) -> StoreResult<Vec<Channel>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| Channel::from_slug(s).ok_or_else(|| corrupt(format!("channel {s:?}"))))
        .collect()
}

pub(super) fn campaign_from(row: &AnyRow) -> StoreResult<Campaign> {
    let channel: String = row.try_get("channel")?;
    let state: String = row.try_get("state")?;
    let at_ms: Option<i64> = row.try_get("at_ms")?;
    let cron: Option<String> = row.try_get("cron")?;
    let schedule = match (at_ms, cron) {
        (Some(at_ms), None) => Schedule::Once { at_ms },
        (None, Some(expr)) => Schedule::stored_cron(expr, row.try_get("time_zone")?),
        _ => return Err(corrupt("campaign with neither or both of at_ms and cron")),
    };
    Ok(Campaign {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        fiscal_year: i32::try_from(row.try_get::<i64, _>("fiscal_year")?).map_err(|_| corrupt("fiscal_year"))?,
        theme_slug: row.try_get("theme_slug")?,
        duty: row.try_get("duty")?,
        channel: Channel::from_slug(&channel).ok_or_else(|| corrupt(format!("channel {channel:?}")))?,
        template: row.try_get("template")?,
        schedule,
        from_ms: row.try_get("from_ms")?,
        until_ms: row.try_get("until_ms")?,
        state: CampaignState::parse(&state).ok_or_else(|| corrupt(format!("campaign state {state:?}")))?,
        state_reason: row.try_get("state_reason")?,
        settled_ms: row.try_get("settled_ms")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A state column read into its enum; any other text is corruption, named.
pub(super) fn state<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| corrupt(format!("{column} {text:?}")))
}

pub(super) fn run_from(row: &AnyRow) -> StoreResult<Run> {
    Ok(Run {
        id: row.try_get("id")?,
        campaign_id: row.try_get("campaign_id")?,
        scheduled_for: row.try_get("scheduled_for")?,
        trigger: state(row, "trigger", Trigger::parse)?,
        status: state(row, "status", RunStatus::parse)?,
        audience: row.try_get("audience")?,
        created_at: row.try_get("created_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

pub(super) fn log_from(row: &AnyRow) -> StoreResult<LogEntry> {
    Ok(LogEntry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        delivery_id: row.try_get("delivery_id")?,
        attempt: row.try_get("attempt")?,
        run_id: row.try_get("run_id")?,
        campaign_id: row.try_get("campaign_id")?,
        theme_slug: row.try_get("theme_slug")?,
        duty: row.try_get("duty")?,
        channel: row.try_get("channel")?,
        recipient: row.try_get("recipient")?,
        message_id: row.try_get("message_id")?,
        template: row.try_get("template")?,
        content_sha256: row.try_get("content_sha256")?,
        smtp_code: row.try_get("smtp_code")?,
        smtp_reply: row.try_get("smtp_reply")?,
        sender: row.try_get("sender")?,
        outcome: state(row, "outcome", Outcome::parse)?,
    })
}

#[async_trait]
impl Store for SqlStore {
    async fn save_plan(&self, plan: &Plan, replace: bool, now: i64, action: &Action) -> StoreResult<PlanSaved> {
        self.do_save_plan(plan, replace, now, action).await
    }

    async fn plan(&self, fiscal_year: Option<i32>) -> StoreResult<Option<Plan>> {
        self.do_plan(fiscal_year).await
    }

    async fn import_members(
        &self,
        rows: &[MemberRow],
        all_themes: &[String],
        now: i64,
        action: &Action,
    ) -> StoreResult<ImportReport> {
        self.do_import_members(rows, all_themes, now, action).await
    }

    async fn members(&self, theme_slug: Option<&str>) -> StoreResult<Vec<Member>> {
        self.do_members(theme_slug).await
    }

    async fn member_history(&self, member_id: i64) -> StoreResult<Vec<MemberEvent>> {
        self.do_member_history(member_id).await
    }

    async fn any_member(&self, theme_slug: &str) -> StoreResult<Option<Member>> {
        self.do_any_member(theme_slug).await
    }

    async fn member(&self, email: &str) -> StoreResult<Option<Member>> {
        self.do_member(email).await
    }

    async fn unsubscribe(
        &self,
        email: &str,
        theme: Option<&str>,
        source: MemberSource,
        now: i64,
        action: &Action,
    ) -> StoreResult<bool> {
        self.do_unsubscribe(email, theme, source, now, action).await
    }

    async fn suppress(
        &self,
        email: &str,
        reason: &str,
        source: MemberSource,
        now: i64,
        action: &Action,
    ) -> StoreResult<bool> {
        self.do_suppress(email, reason, source, now, action).await
    }

    async fn unsuppress(
        &self,
        email: &str,
        reason: &str,
        source: MemberSource,
        now: i64,
        action: &Action,
    ) -> StoreResult<Option<bool>> {
        self.do_unsuppress(email, reason, source, now, action).await
    }

    async fn import_advisors(&self, rows: &[AdvisorRow], now: i64, action: &Action) -> StoreResult<ImportReport> {
        self.do_import_advisors(rows, now, action).await
    }

    async fn advisors(&self) -> StoreResult<Vec<Advisor>> {
        self.do_advisors().await
    }

    async fn create_campaign(&self, c: &NewCampaign, now: i64, action: &Action) -> StoreResult<i64> {
        self.do_create_campaign(c, now, action).await
    }

    async fn campaign(&self, id: i64) -> StoreResult<Option<Campaign>> {
        self.do_campaign(id).await
    }

    async fn campaigns(&self) -> StoreResult<Vec<Campaign>> {
        self.do_campaigns().await
    }

    async fn scheduled_campaigns(&self) -> StoreResult<Vec<Campaign>> {
        self.do_scheduled_campaigns().await
    }

    async fn set_campaign_state(&self, id: i64, t: &Transition<'_>, now: i64, action: &Action) -> StoreResult<bool> {
        self.do_set_campaign_state(id, t, now, action).await
    }

    async fn settle(&self, id: i64, previous_ms: i64, settled_ms: i64) -> StoreResult<bool> {
        self.do_settle(id, previous_ms, settled_ms).await
    }

    async fn start_run(
        &self,
        campaign_id: i64,
        scheduled_for: i64,
        trigger: Trigger,
        audience: &Audience,
        now: i64,
        action: Option<&Action>,
    ) -> StoreResult<Option<Run>> {
        self.do_start_run(campaign_id, scheduled_for, trigger, audience, now, action)
            .await
    }

    async fn runs(&self, campaign_id: Option<i64>) -> StoreResult<Vec<Run>> {
        self.do_runs(campaign_id).await
    }

    async fn run_counts(&self, run_id: i64) -> StoreResult<RunCounts> {
        self.do_run_counts(run_id).await
    }

    async fn finish_runs(&self, now: i64) -> StoreResult<Vec<i64>> {
        self.do_finish_runs(now).await
    }

    async fn claim(&self, owner: &str, now: i64, lease: Lease, limit: u32) -> StoreResult<Vec<ClaimedDelivery>> {
        self.do_claim(owner, now, lease, limit).await
    }

    async fn record_attempts(&self, records: &[AttemptRecord]) -> StoreResult<()> {
        self.do_record_attempts(records).await
    }

    async fn due_count(&self, now: i64, lease: Lease) -> StoreResult<i64> {
        self.do_due_count(now, lease).await
    }

    async fn release(&self, owner: &str, ids: Option<&[i64]>, now: i64) -> StoreResult<()> {
        self.do_release(owner, ids, now).await
    }

    async fn register_instance(&self, instance: &InstanceInfo) -> StoreResult<()> {
        self.do_register_instance(instance).await
    }

    async fn heartbeat(&self, id: &str, lease_ms: i64) -> StoreResult<bool> {
        self.do_heartbeat(id, lease_ms).await
    }

    async fn actions(&self, filter: &ActionFilter) -> StoreResult<Vec<ActionRecord>> {
        self.do_actions(filter).await
    }

    async fn waiting(&self, run_id: i64) -> StoreResult<Vec<Waiting>> {
        self.do_waiting(run_id).await
    }

    async fn ask_reload(&self, timeout_ms: i64) -> StoreResult<u64> {
        self.do_ask_reload(timeout_ms).await
    }

    async fn stop_instance(&self, id: &str) -> StoreResult<()> {
        self.do_stop_instance(id).await
    }

    async fn instances(&self, timeout_ms: i64) -> StoreResult<Vec<InstanceStatus>> {
        self.do_instances(timeout_ms).await
    }

    async fn held_elsewhere(&self, owner: &str, timeout_ms: i64) -> StoreResult<Vec<Held>> {
        self.do_held_elsewhere(owner, timeout_ms).await
    }

    async fn installation_id(&self, candidate: &str, now: i64) -> StoreResult<String> {
        self.do_installation_id(candidate, now).await
    }

    async fn retry_failed(&self, run_id: i64, now: i64, action: &Action) -> StoreResult<u64> {
        self.do_retry_failed(run_id, now, action).await
    }

    async fn send_log(&self, filter: &LogFilter, after_id: i64, limit: u32) -> StoreResult<Vec<LogEntry>> {
        self.do_send_log(filter, after_id, limit).await
    }
}
