//! The SQL behind [`Store`], shared by SQLite and PostgreSQL through sqlx's `Any` driver.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row, Transaction};

use super::{Backend, LogEntry, Run, StoreError, StoreResult};
use crate::domain::campaign::{Campaign, CampaignState, Schedule, StateReason};
use crate::domain::delivery::Outcome;
use crate::domain::plan::Channel;
use crate::domain::{RunStatus, Trigger};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

fn migrator(backend: Backend) -> &'static sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// The store over one connection pool.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer at a time. Writers of this process queue here instead of inside SQLite, whose busy
    /// handler sleeps in steps of milliseconds (measured: it capped sending at ~1,500 mails/s).
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    /// Plans read from the database by this process (a plan is read whole: its themes, duties and items).
    plan_loads: Arc<std::sync::atomic::AtomicU64>,
}

/// A write transaction, holding the process's SQLite write turn until it ends.
pub struct Tx {
    tx: Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Tx {
    pub async fn commit(self) -> StoreResult<()> {
        Ok(self.tx.commit().await?)
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

impl Store {
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
        probe(backend, &url, acquire_timeout).await?;
        let pool = options.connect(&url).await?;
        migrator(backend).run(&pool).await?;
        Ok(Self {
            pool,
            backend,
            sqlite_writer: Arc::new(tokio::sync::Mutex::new(())),
            plan_loads: Arc::default(),
        })
    }

    /// Closes the pool: every later query fails (shutdown, and tests of a database that went away).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(super) fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        migrator(self.backend)
    }

    pub(super) fn backend(&self) -> Backend {
        self.backend
    }

    /// How many plans this process has read (shown in `/metrics`; a request should need one at most).
    pub fn plan_loads(&self) -> u64 {
        self.plan_loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(super) fn count_plan_load(&self) {
        self.plan_loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(super) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A write transaction. SQLite takes the write lock up front so two writers queue instead of failing.
    pub(crate) async fn write(&self) -> StoreResult<Tx> {
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

/// One direct connection before the pool, so a database that cannot be used is reported at once with the
/// driver's reason (`file is not a database`, `connection refused`, `database "x" does not exist`), instead of
/// the pool's retries ending in a timeout that names none.
async fn probe(backend: Backend, url: &str, timeout: Duration) -> StoreResult<()> {
    use sqlx::Connection;
    let attempt = async {
        let mut conn = sqlx::AnyConnection::connect(url).await?;
        if backend == Backend::Sqlite {
            // Reads the file's header (a file that is not a database fails here) and takes the write lock
            // (a read-only file fails here).
            sqlx::query("PRAGMA schema_version").execute(&mut conn).await?;
            sqlx::raw_sql("BEGIN IMMEDIATE; ROLLBACK").execute(&mut conn).await?;
        }
        conn.close().await
    };
    let reason = match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(sqlx::Error::Database(e))) if e.message().contains("database is locked") => return Ok(()),
        Ok(Err(sqlx::Error::Database(e))) => e.message().to_owned(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} s", timeout.as_secs()),
    };
    Err(StoreError::Open {
        url: crate::config::redact_url(url),
        reason,
    })
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

/// Booleans are stored as 0 and 1 on both backends (sqlx `Any` carries no boolean type). They cross the
/// store's boundary only through [`flag`] and [`flag_value`], so no caller compares integers.
pub(super) fn flag_value(b: bool) -> i64 {
    i64::from(b)
}

/// A boolean column; anything but 0 or 1 is corruption, named.
pub(super) fn flag(row: &AnyRow, column: &str) -> StoreResult<bool> {
    match row.try_get::<i64, _>(column)? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(corrupt(format!("{column} = {other}, expected 0 or 1"))),
    }
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
        title: given(row.try_get("title")?),
        issue: given(row.try_get("issue")?),
        fiscal_year: i32::try_from(row.try_get::<i64, _>("fiscal_year")?).map_err(|_| corrupt("fiscal_year"))?,
        theme_slug: row.try_get("theme_slug")?,
        duty: row.try_get("duty")?,
        channel: Channel::from_slug(&channel).ok_or_else(|| corrupt(format!("channel {channel:?}")))?,
        template: row.try_get("template")?,
        schedule,
        from_ms: row.try_get("from_ms")?,
        until_ms: row.try_get("until_ms")?,
        state: CampaignState::parse(&state).ok_or_else(|| corrupt(format!("campaign state {state:?}")))?,
        state_reason: StateReason::decode(&row.try_get::<String, _>("state_reason")?),
        settled_ms: row.try_get("settled_ms")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A text column where empty means "not given".
fn given(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
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
