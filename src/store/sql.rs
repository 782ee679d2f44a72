//! The SQL behind [`Store`], shared by SQLite and PostgreSQL through sqlx's `Any` driver.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Row, Transaction};

use super::actions::record_action;
use super::{
    ActionFilter, Audience, Backend, Held, InstanceInfo, InstanceStatus, Lease, LogEntry, LogFilter, Run, RunCounts,
    Store, StoreError, StoreResult, Transition, Waiting,
};
use crate::campaigns::{Campaign, CampaignState, NewCampaign, Schedule};
use crate::domain::delivery::{AttemptRecord, ClaimedDelivery, Outcome};
use crate::domain::{Action, ActionRecord, MemberStatus, RunStatus, Trigger};
use crate::plan::{Channel, Plan, PlanDuty, PlanItem, PlanSaved, Theme};
use crate::recipients::{Advisor, ImportReport, Member, MemberEvent, MemberSource};
use crate::recipients::{AdvisorRow, MemberRow, ThemeSelection, normalize_email};

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

fn bool_int(b: bool) -> i64 {
    i64::from(b)
}

/// An `IN (…)` list of integers; safe to inline because the values are numbers.
fn id_list(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

fn json_list(text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("sub_items {text:?}: {e}")))
}

fn channels_from(text: &str) -> StoreResult<Vec<Channel>> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| Channel::from_slug(s).ok_or_else(|| corrupt(format!("channel {s:?}"))))
        .collect()
}

fn campaign_from(row: &AnyRow) -> StoreResult<Campaign> {
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
fn state<T>(row: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| corrupt(format!("{column} {text:?}")))
}

fn run_from(row: &AnyRow) -> StoreResult<Run> {
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

fn log_from(row: &AnyRow) -> StoreResult<LogEntry> {
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

/// Deliveries of runs that may send: never from a paused or cancelled campaign.
const ACTIVE_RUN: &str = "d.run_id IN (SELECT r.id FROM runs r JOIN campaigns c ON c.id = r.campaign_id \
                          WHERE r.status = 'sending' AND c.state IN ('scheduled', 'finished'))";

/// What a worker may claim, in two parts so each reads an index in order and stops at its LIMIT: leases that
/// ran out or whose instance stopped heartbeating (`timeout`, a placeholder for milliseconds), compared in
/// database time (`db_now`); then queued deliveries whose time has come (`now`, a placeholder bound to the
/// service's clock, which schedules retries). One `OR` made SQLite collect and sort the whole queue.
fn due_parts(now: &str, db_now: &str, timeout: &str) -> [String; 2] {
    [
        format!(
            "d.status = 'sending' AND (d.lease_until < {db_now} OR d.lease_owner IN \
             (SELECT i.id FROM instances i WHERE i.heartbeat_at < {db_now} - {timeout} OR i.stopped_at IS NOT NULL)) \
             AND {ACTIVE_RUN}"
        ),
        format!("d.status = 'queued' AND d.next_attempt_at <= {now} AND {ACTIVE_RUN}"),
    ]
}

const RUN_COLUMNS: &str = "id, campaign_id, scheduled_for, trigger, status, audience, created_at, finished_at";
const LOG_COLUMNS: &str = "id, at, delivery_id, attempt, run_id, campaign_id, theme_slug, duty, channel, recipient, \
                           message_id, template, content_sha256, smtp_code, smtp_reply, sender, outcome";

async fn member_event(
    tx: &mut Tx,
    member_id: i64,
    theme: Option<&str>,
    event: &str,
    source: MemberSource,
    reason: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO member_events (member_id, theme_slug, event, source, reason, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(member_id)
    .bind(theme.map(str::to_owned))
    .bind(event.to_owned())
    .bind(source.as_str())
    .bind(reason.to_owned())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn set_theme(
    tx: &mut Tx,
    member_id: i64,
    theme: &str,
    subscribed: bool,
    source: MemberSource,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO member_themes (member_id, theme_slug, subscribed, source, changed_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (member_id, theme_slug) DO UPDATE SET subscribed = excluded.subscribed, source = excluded.source, \
         changed_at = excluded.changed_at",
    )
    .bind(member_id)
    .bind(theme.to_owned())
    .bind(bool_int(subscribed))
    .bind(source.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let event = if subscribed { "subscribed" } else { "unsubscribed" };
    member_event(tx, member_id, Some(theme), event, source, "", now).await
}

/// Imports one member row inside the import's transaction; returns whether anything changed.
async fn import_member(
    tx: &mut Tx,
    row: &MemberRow,
    all_themes: &[String],
    now: i64,
    report: &mut ImportReport,
) -> StoreResult<()> {
    let norm = normalize_email(&row.email);
    let existing = sqlx::query("SELECT id, email, company, contact_name, locale FROM members WHERE email_norm = $1")
        .bind(norm.clone())
        .fetch_optional(&mut **tx)
        .await?;
    let locale = row.locale.as_str();
    let (member_id, mut changed, created) = match existing {
        None => {
            let id: i64 = sqlx::query(
                "INSERT INTO members (email, email_norm, company, contact_name, locale, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'active', $6, $6) RETURNING id",
            )
            .bind(row.email.clone())
            .bind(norm)
            .bind(row.company.clone())
            .bind(row.contact_name.clone())
            .bind(locale)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?
            .try_get("id")?;
            member_event(tx, id, None, "created", MemberSource::Import, "", now).await?;
            (id, true, true)
        }
        Some(r) => {
            let id: i64 = r.try_get("id")?;
            let same = r.try_get::<String, _>("email")? == row.email
                && r.try_get::<String, _>("company")? == row.company
                && r.try_get::<String, _>("contact_name")? == row.contact_name
                && r.try_get::<String, _>("locale")? == locale;
            if !same {
                sqlx::query(
                    "UPDATE members SET email = $1, company = $2, contact_name = $3, locale = $4, updated_at = $5 \
                     WHERE id = $6",
                )
                .bind(row.email.clone())
                .bind(row.company.clone())
                .bind(row.contact_name.clone())
                .bind(locale)
                .bind(now)
                .bind(id)
                .execute(&mut **tx)
                .await?;
                member_event(tx, id, None, "updated", MemberSource::Import, "", now).await?;
            }
            (id, !same, false)
        }
    };

    let wanted: Vec<String> = match &row.themes {
        ThemeSelection::All => all_themes.to_vec(),
        ThemeSelection::Only(slugs) => slugs.clone(),
    };
    let mut current: HashMap<String, (bool, String)> = HashMap::new();
    for r in sqlx::query("SELECT theme_slug, subscribed, source FROM member_themes WHERE member_id = $1")
        .bind(member_id)
        .fetch_all(&mut **tx)
        .await?
    {
        current.insert(
            r.try_get("theme_slug")?,
            (r.try_get::<i64, _>("subscribed")? != 0, r.try_get("source")?),
        );
    }
    for theme in &wanted {
        match current.get(theme) {
            Some((true, _)) => {}
            // The member (or staff on their behalf) left this theme: an import never brings them back.
            Some((false, source)) if source != MemberSource::Import.as_str() => {
                report.kept_unsubscribed.push((row.email.clone(), theme.clone()));
            }
            _ => {
                set_theme(tx, member_id, theme, true, MemberSource::Import, now).await?;
                changed = true;
            }
        }
    }
    for (theme, (subscribed, _)) in &current {
        if *subscribed && !wanted.contains(theme) {
            set_theme(tx, member_id, theme, false, MemberSource::Import, now).await?;
            changed = true;
        }
    }
    match (created, changed) {
        (true, _) => report.created += 1,
        (false, true) => report.updated += 1,
        (false, false) => report.unchanged += 1,
    }
    Ok(())
}

enum MemberFilter<'a> {
    All,
    Theme(&'a str),
    /// One active subscriber of the theme.
    AnyOfTheme(&'a str),
    Email(&'a str),
}

impl SqlStore {
    async fn load_members(&self, filter: MemberFilter<'_>) -> StoreResult<Vec<Member>> {
        const COLUMNS: &str = "m.id, m.email, m.company, m.contact_name, m.locale, m.status";
        let (sql, bind) = match filter {
            MemberFilter::All => (format!("SELECT {COLUMNS} FROM members m ORDER BY m.email_norm"), None),
            MemberFilter::Theme(slug) => (
                format!(
                    "SELECT {COLUMNS} FROM members m JOIN member_themes t ON t.member_id = m.id \
                     AND t.theme_slug = $1 AND t.subscribed = 1 ORDER BY m.email_norm"
                ),
                Some(slug),
            ),
            MemberFilter::AnyOfTheme(slug) => (
                format!(
                    "SELECT {COLUMNS} FROM members m JOIN member_themes t ON t.member_id = m.id \
                     AND t.theme_slug = $1 AND t.subscribed = 1 WHERE m.status = 'active' LIMIT 1"
                ),
                Some(slug),
            ),
            MemberFilter::Email(norm) => (
                format!("SELECT {COLUMNS} FROM members m WHERE m.email_norm = $1"),
                Some(norm),
            ),
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(value) = bind {
            query = query.bind(value.to_owned());
        }
        let rows = query.fetch_all(&self.pool).await?;
        // One member: its own themes; a list: every subscription in one query rather than one per member.
        let themes_query = match rows.as_slice() {
            [] => return Ok(Vec::new()),
            [one] => sqlx::query(
                "SELECT member_id, theme_slug FROM member_themes WHERE subscribed = 1 AND member_id = $1 \
                 ORDER BY theme_slug",
            )
            .bind(one.try_get::<i64, _>("id")?),
            _ => sqlx::query(
                "SELECT member_id, theme_slug FROM member_themes WHERE subscribed = 1 ORDER BY member_id, theme_slug",
            ),
        };
        let mut themes: HashMap<i64, Vec<String>> = HashMap::new();
        for r in themes_query.fetch_all(&self.pool).await? {
            themes
                .entry(r.try_get("member_id")?)
                .or_default()
                .push(r.try_get("theme_slug")?);
        }
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                Ok(Member {
                    id,
                    email: r.try_get("email")?,
                    company: r.try_get("company")?,
                    contact_name: r.try_get("contact_name")?,
                    locale: r.try_get("locale")?,
                    status: state(r, "status", MemberStatus::parse)?,
                    themes: themes.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn save_plan(&self, plan: &Plan, replace: bool, now: i64, action: &Action) -> StoreResult<PlanSaved> {
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT id, source_sha256 FROM plans WHERE fiscal_year = $1")
            .bind(i64::from(plan.fiscal_year))
            .fetch_optional(&mut *tx)
            .await?;
        let (plan_id, saved) = match existing {
            Some(row) => {
                let id: i64 = row.try_get("id")?;
                let sha: String = row.try_get("source_sha256")?;
                if sha == plan.sha256 {
                    return Ok(PlanSaved::Unchanged);
                }
                if !replace {
                    return Err(StoreError::Conflict(format!(
                        "fiscal year {} already has a plan from another file (sha256 {}); pass --replace to replace it",
                        plan.fiscal_year, sha
                    )));
                }
                sqlx::query("DELETE FROM plan_items WHERE theme_id IN (SELECT id FROM themes WHERE plan_id = $1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM themes WHERE plan_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE plans SET title = $1, source_sha256 = $2, imported_at = $3 WHERE id = $4")
                    .bind(plan.title.clone())
                    .bind(plan.sha256.clone())
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                (id, PlanSaved::Replaced)
            }
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO plans (fiscal_year, title, source_sha256, imported_at) VALUES ($1, $2, $3, $4) \
                     RETURNING id",
                )
                .bind(i64::from(plan.fiscal_year))
                .bind(plan.title.clone())
                .bind(plan.sha256.clone())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                (id, PlanSaved::Created)
            }
        };
        for (position, theme) in plan.themes.iter().enumerate() {
            let theme_id: i64 = sqlx::query(
                "INSERT INTO themes (plan_id, slug, position, title_ja, title_en) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id",
            )
            .bind(plan_id)
            .bind(theme.slug.clone())
            .bind(position as i64)
            .bind(theme.title_ja.clone())
            .bind(theme.title_en.clone())
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
            let tokyo = theme
                .programmes
                .iter()
                .map(|p| ("tokyo", &p.text, &p.sub_items, String::new()));
            let chamber = theme.duties.iter().map(|d| {
                let channels = d.channels.iter().map(|c| c.slug()).collect::<Vec<_>>().join(",");
                ("chamber", &d.text, &d.sub_items, channels)
            });
            let mut positions: HashMap<&str, i64> = HashMap::new();
            for (party, text, sub_items, channels) in tokyo.chain(chamber) {
                let position = positions.entry(party).or_insert(0);
                *position += 1;
                sqlx::query(
                    "INSERT INTO plan_items (theme_id, party, position, text, sub_items, channels) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(theme_id)
                .bind(party)
                .bind(*position)
                .bind(text.clone())
                .bind(serde_json::to_string(sub_items).unwrap_or_else(|_| "[]".into()))
                .bind(channels)
                .execute(&mut *tx)
                .await?;
            }
        }
        if saved != PlanSaved::Unchanged {
            record_action(
                &mut tx,
                action,
                now,
                Some(serde_json::json!({"result": format!("{saved:?}").to_lowercase()})),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(saved)
    }

    async fn plan(&self, fiscal_year: Option<i32>) -> StoreResult<Option<Plan>> {
        let row = match fiscal_year {
            Some(year) => {
                sqlx::query("SELECT id, fiscal_year, title, source_sha256 FROM plans WHERE fiscal_year = $1")
                    .bind(i64::from(year))
                    .fetch_optional(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT id, fiscal_year, title, source_sha256 FROM plans ORDER BY fiscal_year DESC LIMIT 1")
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        let Some(row) = row else { return Ok(None) };
        let plan_id: i64 = row.try_get("id")?;
        let mut themes = Vec::new();
        let mut index: HashMap<i64, usize> = HashMap::new();
        for r in sqlx::query("SELECT id, slug, title_ja, title_en FROM themes WHERE plan_id = $1 ORDER BY position")
            .bind(plan_id)
            .fetch_all(&self.pool)
            .await?
        {
            index.insert(r.try_get("id")?, themes.len());
            themes.push(Theme {
                slug: r.try_get("slug")?,
                title_ja: r.try_get("title_ja")?,
                title_en: r.try_get("title_en")?,
                programmes: Vec::new(),
                duties: Vec::new(),
            });
        }
        for r in sqlx::query(
            "SELECT i.theme_id, i.party, i.text, i.sub_items, i.channels FROM plan_items i \
             JOIN themes t ON t.id = i.theme_id WHERE t.plan_id = $1 ORDER BY i.theme_id, i.party, i.position",
        )
        .bind(plan_id)
        .fetch_all(&self.pool)
        .await?
        {
            let theme_id: i64 = r.try_get("theme_id")?;
            let theme = index
                .get(&theme_id)
                .and_then(|i| themes.get_mut(*i))
                .ok_or_else(|| corrupt("plan item"))?;
            let text: String = r.try_get("text")?;
            let sub_items = json_list(&r.try_get::<String, _>("sub_items")?)?;
            if r.try_get::<String, _>("party")? == "tokyo" {
                theme.programmes.push(PlanItem { text, sub_items });
            } else {
                let channels = channels_from(&r.try_get::<String, _>("channels")?)?;
                theme.duties.push(PlanDuty {
                    text,
                    sub_items,
                    channels,
                });
            }
        }
        Ok(Some(Plan {
            fiscal_year: i32::try_from(row.try_get::<i64, _>("fiscal_year")?).map_err(|_| corrupt("fiscal_year"))?,
            title: row.try_get("title")?,
            sha256: row.try_get("source_sha256")?,
            themes,
        }))
    }

    async fn import_members(
        &self,
        rows: &[MemberRow],
        all_themes: &[String],
        now: i64,
        action: &Action,
    ) -> StoreResult<ImportReport> {
        let mut tx = self.begin_write().await?;
        let mut report = ImportReport::default();
        for row in rows {
            import_member(&mut tx, row, all_themes, now, &mut report).await?;
        }
        record_action(&mut tx, action, now, Some(import_summary(&report))).await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn members(&self, theme_slug: Option<&str>) -> StoreResult<Vec<Member>> {
        match theme_slug {
            Some(slug) => self.load_members(MemberFilter::Theme(slug)).await,
            None => self.load_members(MemberFilter::All).await,
        }
    }

    async fn member_history(&self, member_id: i64) -> StoreResult<Vec<MemberEvent>> {
        sqlx::query(
            "SELECT at, theme_slug, event, source, reason FROM member_events WHERE member_id = $1 ORDER BY at, id",
        )
        .bind(member_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(MemberEvent {
                at: r.try_get("at")?,
                theme_slug: r.try_get("theme_slug")?,
                event: r.try_get("event")?,
                source: r.try_get("source")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect()
    }

    async fn any_member(&self, theme_slug: &str) -> StoreResult<Option<Member>> {
        Ok(self.load_members(MemberFilter::AnyOfTheme(theme_slug)).await?.pop())
    }

    async fn member(&self, email: &str) -> StoreResult<Option<Member>> {
        Ok(self
            .load_members(MemberFilter::Email(&normalize_email(email)))
            .await?
            .pop())
    }

    async fn unsubscribe(
        &self,
        email: &str,
        theme: Option<&str>,
        source: MemberSource,
        now: i64,
        action: &Action,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let Some(id) = member_id(&mut tx, email).await? else {
            return Ok(false);
        };
        match theme {
            Some(theme) => set_theme(&mut tx, id, theme, false, source, now).await?,
            None => {
                sqlx::query("UPDATE members SET status = 'unsubscribed', updated_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                member_event(&mut tx, id, None, "unsubscribed", source, "", now).await?;
            }
        }
        record_action(&mut tx, action, now, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn suppress(
        &self,
        email: &str,
        reason: &str,
        source: MemberSource,
        now: i64,
        action: &Action,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let Some(id) = member_id(&mut tx, email).await? else {
            return Ok(false);
        };
        suppress_member(&mut tx, id, reason, source, now).await?;
        record_action(&mut tx, action, now, None).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn unsuppress(
        &self,
        email: &str,
        reason: &str,
        source: MemberSource,
        now: i64,
        action: &Action,
    ) -> StoreResult<Option<bool>> {
        let mut tx = self.begin_write().await?;
        let Some(id) = member_id(&mut tx, email).await? else {
            return Ok(None);
        };
        // A member who had left everything before the suppression stays gone: lifting it restores, never
        // subscribes.
        let changed = sqlx::query(
            "UPDATE members SET updated_at = $1, status = CASE WHEN EXISTS (SELECT 1 FROM member_events e \
             WHERE e.member_id = members.id AND e.theme_slug IS NULL AND e.event = 'unsubscribed') \
             THEN 'unsubscribed' ELSE 'active' END WHERE id = $2 AND status = 'suppressed'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if changed {
            member_event(&mut tx, id, None, "unsuppressed", source, reason, now).await?;
        }
        if !changed {
            return Ok(Some(false));
        }
        record_action(&mut tx, action, now, None).await?;
        tx.commit().await?;
        Ok(Some(changed))
    }

    async fn import_advisors(&self, rows: &[AdvisorRow], now: i64, action: &Action) -> StoreResult<ImportReport> {
        let mut tx = self.begin_write().await?;
        let mut report = ImportReport::default();
        for row in rows {
            let norm = normalize_email(&row.email);
            let existing = sqlx::query("SELECT id, email, name, branch, active FROM advisors WHERE email_norm = $1")
                .bind(norm.clone())
                .fetch_optional(&mut *tx)
                .await?;
            match existing {
                None => {
                    sqlx::query(
                        "INSERT INTO advisors (email, email_norm, name, branch, active, updated_at) \
                         VALUES ($1, $2, $3, $4, 1, $5)",
                    )
                    .bind(row.email.clone())
                    .bind(norm)
                    .bind(row.name.clone())
                    .bind(row.branch.clone())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    report.created += 1;
                }
                Some(r) => {
                    let same = r.try_get::<String, _>("email")? == row.email
                        && r.try_get::<String, _>("name")? == row.name
                        && r.try_get::<String, _>("branch")? == row.branch
                        && r.try_get::<i64, _>("active")? == 1;
                    if same {
                        report.unchanged += 1;
                        continue;
                    }
                    sqlx::query(
                        "UPDATE advisors SET email = $1, name = $2, branch = $3, active = 1, updated_at = $4 \
                         WHERE email_norm = $5",
                    )
                    .bind(row.email.clone())
                    .bind(row.name.clone())
                    .bind(row.branch.clone())
                    .bind(now)
                    .bind(norm)
                    .execute(&mut *tx)
                    .await?;
                    report.updated += 1;
                }
            }
        }
        record_action(&mut tx, action, now, Some(import_summary(&report))).await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn advisors(&self) -> StoreResult<Vec<Advisor>> {
        sqlx::query("SELECT id, email, name, branch FROM advisors WHERE active = 1 ORDER BY email_norm")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(Advisor {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    name: r.try_get("name")?,
                    branch: r.try_get("branch")?,
                })
            })
            .collect()
    }

    async fn create_campaign(&self, c: &NewCampaign, now: i64, action: &Action) -> StoreResult<i64> {
        let (at_ms, cron, time_zone) = match &c.schedule {
            Schedule::Once { at_ms } => (Some(*at_ms), None, String::new()),
            Schedule::Cron { expr, time_zone, .. } => (None, Some(expr.clone()), time_zone.clone()),
        };
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO campaigns (name, fiscal_year, theme_slug, duty, channel, template, at_ms, cron, time_zone, \
             from_ms, until_ms, state, state_reason, settled_ms, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'scheduled', '', $12, $13, $13) RETURNING id",
        )
        .bind(c.name.clone())
        .bind(i64::from(c.fiscal_year))
        .bind(c.theme_slug.clone())
        .bind(c.duty.clone())
        .bind(c.channel.slug())
        .bind(c.template.clone())
        .bind(at_ms)
        .bind(cron)
        .bind(time_zone)
        .bind(c.from_ms)
        .bind(c.until_ms)
        .bind(c.settled_ms)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let mut action = action.clone();
        if action.target.is_empty() {
            action.target = format!("campaign {id}");
        }
        record_action(&mut tx, &action, now, None).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn campaign(&self, id: i64) -> StoreResult<Option<Campaign>> {
        sqlx::query("SELECT * FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(campaign_from)
            .transpose()
    }

    async fn campaigns(&self) -> StoreResult<Vec<Campaign>> {
        sqlx::query("SELECT * FROM campaigns ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(campaign_from)
            .collect()
    }

    async fn scheduled_campaigns(&self) -> StoreResult<Vec<Campaign>> {
        sqlx::query("SELECT * FROM campaigns WHERE state = 'scheduled' ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(campaign_from)
            .collect()
    }

    async fn set_campaign_state(&self, id: i64, t: &Transition<'_>, now: i64, action: &Action) -> StoreResult<bool> {
        let to = t.to;
        let states = t
            .from
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(",");
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE campaigns SET state = $1, state_reason = $2, updated_at = $3, \
             settled_ms = CASE WHEN $4 > settled_ms THEN $4 ELSE settled_ms END WHERE id = $5 AND state IN ({states})"
        );
        let changed = sqlx::query(AssertSqlSafe(sql))
            .bind(to.as_str())
            .bind(t.reason.to_owned())
            .bind(now)
            .bind(t.settled_ms.unwrap_or(i64::MIN))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if changed && to == CampaignState::Cancelled {
            // Nothing of a cancelled campaign goes out any more; what was already sent stays in the log.
            sqlx::query(
                "UPDATE deliveries SET status = 'cancelled', updated_at = $1 WHERE status = 'queued' \
                 AND run_id IN (SELECT id FROM runs WHERE campaign_id = $2)",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        if !changed {
            return Ok(false);
        }
        record_action(&mut tx, action, now, None).await?;
        tx.commit().await?;
        Ok(changed)
    }

    async fn settle(&self, id: i64, previous_ms: i64, settled_ms: i64) -> StoreResult<bool> {
        Ok(
            sqlx::query("UPDATE campaigns SET settled_ms = $1 WHERE id = $2 AND settled_ms = $3")
                .bind(settled_ms)
                .bind(id)
                .bind(previous_ms)
                .execute(&self.pool)
                .await?
                .rows_affected()
                == 1,
        )
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
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "INSERT INTO runs (campaign_id, scheduled_for, trigger, status, audience, created_at) \
             VALUES ($1, $2, $3, 'sending', 0, $4) ON CONFLICT (campaign_id, scheduled_for) DO NOTHING \
             RETURNING {RUN_COLUMNS}"
        );
        let Some(row) = sqlx::query(AssertSqlSafe(sql))
            .bind(campaign_id)
            .bind(scheduled_for)
            .bind(trigger.as_str())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(None);
        };
        let mut run = run_from(&row)?;
        // Set-based, so the audience is never held in memory; ON CONFLICT keeps each address once.
        let frozen = match audience {
            Audience::Members { theme_slug } => sqlx::query(
                "INSERT INTO deliveries (run_id, recipient_kind, recipient_id, email, email_norm, status, attempts, \
                     next_attempt_at, updated_at) \
                     SELECT $1, 'member', m.id, m.email, m.email_norm, 'queued', 0, $2, $2 FROM members m \
                     JOIN member_themes t ON t.member_id = m.id AND t.theme_slug = $3 AND t.subscribed = 1 \
                     WHERE m.status = 'active' ON CONFLICT (run_id, email_norm) DO NOTHING",
            )
            .bind(run.id)
            .bind(now)
            .bind(theme_slug.clone())
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Audience::Advisors => sqlx::query(
                "INSERT INTO deliveries (run_id, recipient_kind, recipient_id, email, email_norm, status, attempts, \
                     next_attempt_at, updated_at) \
                     SELECT $1, 'advisor', a.id, a.email, a.email_norm, 'queued', 0, $2, $2 FROM advisors a \
                     WHERE a.active = 1 ON CONFLICT (run_id, email_norm) DO NOTHING",
            )
            .bind(run.id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Audience::Addresses(addresses) => {
                let mut n = 0;
                for address in addresses {
                    n += sqlx::query(
                        "INSERT INTO deliveries (run_id, recipient_kind, recipient_id, email, email_norm, status, \
                         attempts, next_attempt_at, updated_at) VALUES ($1, 'editorial', NULL, $2, $3, 'queued', 0, $4, $4) \
                         ON CONFLICT (run_id, email_norm) DO NOTHING",
                    )
                    .bind(run.id)
                    .bind(address.trim().to_owned())
                    .bind(normalize_email(address))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                }
                n
            }
        };
        run.audience = i64::try_from(frozen).map_err(|_| corrupt("audience size"))?;
        sqlx::query("UPDATE runs SET audience = $1 WHERE id = $2")
            .bind(run.audience)
            .bind(run.id)
            .execute(&mut *tx)
            .await?;
        if let Some(action) = action {
            record_action(
                &mut tx,
                action,
                now,
                Some(serde_json::json!({"run": run.id, "recipients": run.audience})),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(Some(run))
    }

    async fn runs(&self, campaign_id: Option<i64>) -> StoreResult<Vec<Run>> {
        let rows = match campaign_id {
            Some(id) => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {RUN_COLUMNS} FROM runs WHERE campaign_id = $1 ORDER BY scheduled_for, id"
                )))
                .bind(id)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {RUN_COLUMNS} FROM runs ORDER BY scheduled_for, id"
                )))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(run_from).collect()
    }

    async fn run_counts(&self, run_id: i64) -> StoreResult<RunCounts> {
        let mut counts = RunCounts::default();
        for r in sqlx::query("SELECT status, COUNT(*) AS n FROM deliveries WHERE run_id = $1 GROUP BY status")
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?
        {
            let n: i64 = r.try_get("n")?;
            match r.try_get::<String, _>("status")?.as_str() {
                "queued" => counts.queued = n,
                "sending" => counts.sending = n,
                "sent" => counts.sent = n,
                "failed" => counts.failed = n,
                "cancelled" => counts.cancelled = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    async fn finish_runs(&self, now: i64) -> StoreResult<Vec<i64>> {
        let mut tx = self.begin_write().await?;
        let done: Vec<i64> = sqlx::query(
            "UPDATE runs SET status = 'done', finished_at = $1 WHERE status = 'sending' AND NOT EXISTS \
             (SELECT 1 FROM deliveries d WHERE d.run_id = runs.id AND d.status IN ('queued', 'sending')) RETURNING id",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        if !done.is_empty() {
            sqlx::query(
                "UPDATE campaigns SET state = 'finished', updated_at = $1 WHERE state = 'scheduled' \
                 AND at_ms IS NOT NULL AND EXISTS (SELECT 1 FROM runs r WHERE r.campaign_id = campaigns.id \
                 AND r.status = 'done' AND r.trigger <> 'manual')",
            )
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    async fn claim(&self, owner: &str, now: i64, lease: Lease, limit: u32) -> StoreResult<Vec<ClaimedDelivery>> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let db_now = self.backend.now_ms();
        let mut tx = self.begin_write().await?;
        let mut ids: Vec<i64> = Vec::new();
        for due in due_parts("$3", db_now, "$5") {
            let room = i64::from(limit) - ids.len() as i64;
            if room <= 0 {
                break;
            }
            let sql = format!(
                "UPDATE deliveries SET status = 'sending', lease_owner = $1, lease_until = {db_now} + $2, \
                 attempts = attempts + 1, updated_at = $3 \
                 WHERE id IN (SELECT d.id FROM deliveries d WHERE {due} \
                 ORDER BY d.next_attempt_at, d.id LIMIT $4 {lock}) RETURNING id"
            );
            for row in sqlx::query(AssertSqlSafe(sql))
                .bind(owner.to_owned())
                .bind(lease.ms)
                .bind(now)
                .bind(room)
                .bind(lease.instance_timeout_ms)
                .fetch_all(&mut *tx)
                .await?
            {
                ids.push(row.try_get("id")?);
            }
        }
        tx.commit().await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT d.id, d.run_id, r.campaign_id, r.scheduled_for, d.attempts, d.email, d.recipient_kind, \
             d.recipient_id, COALESCE(m.contact_name, a.name, '') AS name, COALESCE(m.company, '') AS company, \
             COALESCE(a.branch, '') AS branch, \
             CASE d.recipient_kind WHEN 'member' THEN (CASE WHEN m.status = 'active' AND t.subscribed = 1 \
             THEN 1 ELSE 0 END) WHEN 'advisor' THEN COALESCE(a.active, 0) ELSE 1 END AS still_wanted \
             FROM deliveries d JOIN runs r ON r.id = d.run_id JOIN campaigns c ON c.id = r.campaign_id \
             LEFT JOIN members m ON d.recipient_kind = 'member' AND m.id = d.recipient_id \
             LEFT JOIN member_themes t ON t.member_id = m.id AND t.theme_slug = c.theme_slug \
             LEFT JOIN advisors a ON d.recipient_kind = 'advisor' AND a.id = d.recipient_id \
             WHERE d.id IN ({}) ORDER BY d.id",
            id_list(&ids)
        );
        sqlx::query(AssertSqlSafe(sql))
            // A new text every batch: caching it as a prepared statement would only grow memory.
            .persistent(false)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(ClaimedDelivery {
                    id: r.try_get("id")?,
                    run_id: r.try_get("run_id")?,
                    campaign_id: r.try_get("campaign_id")?,
                    scheduled_for: r.try_get("scheduled_for")?,
                    attempt: r.try_get("attempts")?,
                    email: r.try_get("email")?,
                    recipient_kind: r.try_get("recipient_kind")?,
                    recipient_id: r.try_get("recipient_id")?,
                    name: r.try_get("name")?,
                    company: r.try_get("company")?,
                    branch: r.try_get("branch")?,
                    still_wanted: r.try_get::<i64, _>("still_wanted")? == 1,
                })
            })
            .collect()
    }

    async fn record_attempts(&self, records: &[AttemptRecord]) -> StoreResult<()> {
        // In delivery order: every writer of leased rows locks them in id order, so none deadlocks another.
        let mut ordered: Vec<&AttemptRecord> = records.iter().collect();
        ordered.sort_by_key(|a| (a.delivery_id, a.attempt));
        let mut tx = self.begin_write().await?;
        for a in ordered {
            record_one(&mut tx, a).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn due_count(&self, now: i64, lease: Lease) -> StoreResult<i64> {
        let mut total = 0;
        for due in due_parts("$1", self.backend.now_ms(), "$2") {
            let sql = format!("SELECT COUNT(*) AS n FROM deliveries d WHERE {due}");
            total += sqlx::query(AssertSqlSafe(sql))
                .bind(now)
                .bind(lease.instance_timeout_ms)
                .fetch_one(&self.pool)
                .await?
                .try_get::<i64, _>("n")?;
        }
        Ok(total)
    }

    async fn release(&self, owner: &str, ids: Option<&[i64]>, now: i64) -> StoreResult<()> {
        let which = match ids {
            Some([]) => return Ok(()),
            Some(ids) => format!("AND id IN ({})", id_list(ids)),
            None => String::new(),
        };
        // Rows locked in id order, like every other writer of leased rows (no deadlock with the heartbeat).
        let lock = match self.backend {
            Backend::Postgres => "ORDER BY id FOR UPDATE",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE deliveries SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, \
             updated_at = $1 WHERE id IN (SELECT id FROM deliveries WHERE status = 'sending' AND lease_owner = $2 \
             {which} {lock})"
        );
        sqlx::query(AssertSqlSafe(sql))
            // A new text every batch: caching it as a prepared statement would only grow memory.
            .persistent(false)
            .bind(now)
            .bind(owner.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
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
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE deliveries SET status = 'queued', next_attempt_at = $1, updated_at = $1 \
             WHERE run_id = $2 AND status = 'failed'",
        )
        .bind(now)
        .bind(run_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            sqlx::query("UPDATE runs SET status = 'sending', finished_at = NULL WHERE id = $1")
                .bind(run_id)
                .execute(&mut *tx)
                .await?;
        }
        record_action(&mut tx, action, now, Some(serde_json::json!({"queued_again": n}))).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn send_log(&self, filter: &LogFilter, after_id: i64, limit: u32) -> StoreResult<Vec<LogEntry>> {
        let mut clauses = vec!["id > $1".to_owned()];
        let mut n = 1;
        let mut next = |column: &str, op: &str| {
            n += 1;
            clauses.push(format!("{column} {op} ${n}"));
        };
        // Same order as the binds below.
        if filter.campaign_id.is_some() {
            next("campaign_id", "=");
        }
        if filter.theme_slug.is_some() {
            next("theme_slug", "=");
        }
        if filter.channel.is_some() {
            next("channel", "=");
        }
        if filter.recipient.is_some() {
            next("LOWER(recipient)", "=");
        }
        if filter.outcome.is_some() {
            next("outcome", "=");
        }
        if filter.from_ms.is_some() {
            next("at", ">=");
        }
        if filter.to_ms.is_some() {
            next("at", "<");
        }
        let sql = format!(
            "SELECT {LOG_COLUMNS} FROM send_log WHERE {} ORDER BY id LIMIT {}",
            clauses.join(" AND "),
            limit
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(after_id);
        if let Some(v) = filter.campaign_id {
            query = query.bind(v);
        }
        for v in [&filter.theme_slug, &filter.channel].into_iter().flatten() {
            query = query.bind(v.clone());
        }
        if let Some(v) = &filter.recipient {
            query = query.bind(normalize_email(v));
        }
        if let Some(v) = filter.outcome {
            query = query.bind(v.as_str());
        }
        for v in [filter.from_ms, filter.to_ms].into_iter().flatten() {
            query = query.bind(v);
        }
        query.fetch_all(&self.pool).await?.iter().map(log_from).collect()
    }
}

/// What an import did, for the staff-action log.
fn import_summary(report: &ImportReport) -> serde_json::Value {
    serde_json::json!({
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "kept_unsubscribed": report.kept_unsubscribed.len(),
    })
}

/// The id of the member with this address (any case), if any.
async fn member_id(tx: &mut Tx, email: &str) -> StoreResult<Option<i64>> {
    Ok(sqlx::query("SELECT id FROM members WHERE email_norm = $1")
        .bind(normalize_email(email))
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get("id"))
        .transpose()?)
}

async fn suppress_member(tx: &mut Tx, member_id: i64, reason: &str, source: MemberSource, now: i64) -> StoreResult<()> {
    let changed = sqlx::query(
        "UPDATE members SET status = 'suppressed', updated_at = $1 WHERE id = $2 AND status <> 'suppressed'",
    )
    .bind(now)
    .bind(member_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if changed == 1 {
        member_event(tx, member_id, None, "suppressed", source, reason, now).await?;
    }
    Ok(())
}

/// One attempt inside a group commit: the delivery's new state, the member's suppression, the log row.
async fn record_one(tx: &mut Tx, a: &AttemptRecord) -> StoreResult<()> {
    let status = match a.outcome {
        Outcome::Sent => "sent",
        Outcome::Deferred => "queued",
        Outcome::Failed => "failed",
        Outcome::Skipped => "cancelled",
    };
    let owned = sqlx::query(
        "UPDATE deliveries SET status = $1, attempts = $2, next_attempt_at = $3, last_code = $4, last_reply = $5, \
             lease_owner = NULL, lease_until = NULL, updated_at = $6 \
             WHERE id = $7 AND status = 'sending' AND lease_owner = $8 AND attempts = $2",
    )
    .bind(status)
    .bind(a.attempt)
    .bind(a.next_attempt_at)
    .bind(a.smtp_code)
    .bind(a.smtp_reply.clone())
    .bind(a.at)
    .bind(a.delivery_id)
    .bind(a.owner.clone())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if owned == 0 {
        tracing::warn!(
            delivery = a.delivery_id,
            attempt = a.attempt,
            "lease lost before the outcome was recorded (another instance took the delivery over); \
             logging the attempt only"
        );
    }
    if let Some(member_id) = a.suppress_member {
        suppress_member(tx, member_id, &a.smtp_reply, MemberSource::Smtp, a.at).await?;
    }
    sqlx::query(
        "INSERT INTO send_log (at, delivery_id, attempt, run_id, campaign_id, theme_slug, duty, channel, recipient, \
             message_id, template, content_sha256, smtp_code, smtp_reply, sender, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
             ON CONFLICT (delivery_id, attempt) DO NOTHING",
    )
    .bind(a.at)
    .bind(a.delivery_id)
    .bind(a.attempt)
    .bind(a.run_id)
    .bind(a.campaign_id)
    .bind(a.theme_slug.clone())
    .bind(a.duty.clone())
    .bind(a.channel.clone())
    .bind(a.recipient.clone())
    .bind(a.message_id.clone())
    .bind(a.template.clone())
    .bind(a.content_sha256.clone())
    .bind(a.smtp_code)
    .bind(a.smtp_reply.clone())
    .bind(a.owner.clone())
    .bind(a.outcome.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
