//! Members, their themes and history, and business advisors.

use std::collections::HashMap;

use sqlx::{AssertSqlSafe, Row};

use super::sql::*;
use super::*;
use crate::domain::MemberEventKind;
use crate::domain::MemberStatus;
use crate::domain::member::{
    Advisor, AdvisorRow, ImportReport, Member, MemberEvent, MemberRow, MemberSource, ThemeSelection, normalize_email,
};

pub(super) async fn member_event(
    tx: &mut Tx,
    member_id: i64,
    theme: Option<&str>,
    event: MemberEventKind,
    source: MemberSource,
    reason: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO member_events (member_id, theme_slug, event, source, reason, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(member_id)
    .bind(theme.map(str::to_owned))
    .bind(event.as_str())
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
    .bind(flag_value(subscribed))
    .bind(source.as_str())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let event = if subscribed {
        MemberEventKind::Subscribed
    } else {
        MemberEventKind::Unsubscribed
    };
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
            member_event(tx, id, None, MemberEventKind::Created, MemberSource::Import, "", now).await?;
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
                member_event(tx, id, None, MemberEventKind::Updated, MemberSource::Import, "", now).await?;
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
            (flag(&r, "subscribed")?, r.try_get("source")?),
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

enum Bind<'a> {
    Text(&'a str),
    Id(i64),
}

enum MemberFilter<'a> {
    All,
    Theme(&'a str),
    /// One active subscriber of the theme.
    AnyOfTheme(&'a str),
    Email(&'a str),
    Id(i64),
}

impl Store {
    async fn load_members(&self, filter: MemberFilter<'_>) -> StoreResult<Vec<Member>> {
        const COLUMNS: &str = "m.id, m.email, m.company, m.contact_name, m.locale, m.status";
        let (sql, bind) = match filter {
            MemberFilter::All => (format!("SELECT {COLUMNS} FROM members m ORDER BY m.email_norm"), None),
            MemberFilter::Theme(slug) => (
                format!(
                    "SELECT {COLUMNS} FROM members m JOIN member_themes t ON t.member_id = m.id \
                     AND t.theme_slug = $1 AND t.subscribed = 1 ORDER BY m.email_norm"
                ),
                Some(Bind::Text(slug)),
            ),
            MemberFilter::AnyOfTheme(slug) => (
                format!(
                    "SELECT {COLUMNS} FROM members m JOIN member_themes t ON t.member_id = m.id \
                     AND t.theme_slug = $1 AND t.subscribed = 1 WHERE m.status = 'active' LIMIT 1"
                ),
                Some(Bind::Text(slug)),
            ),
            MemberFilter::Email(norm) => (
                format!("SELECT {COLUMNS} FROM members m WHERE m.email_norm = $1"),
                Some(Bind::Text(norm)),
            ),
            MemberFilter::Id(id) => (
                format!("SELECT {COLUMNS} FROM members m WHERE m.id = $1"),
                Some(Bind::Id(id)),
            ),
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        match bind {
            Some(Bind::Text(value)) => query = query.bind(value.to_owned()),
            Some(Bind::Id(id)) => query = query.bind(id),
            None => {}
        }
        let rows = query.fetch_all(self.pool()).await?;
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
        for r in themes_query.fetch_all(self.pool()).await? {
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

/// The id of the member with this address (any case), if any.
async fn member_id(tx: &mut Tx, email: &str) -> StoreResult<Option<i64>> {
    Ok(sqlx::query("SELECT id FROM members WHERE email_norm = $1")
        .bind(normalize_email(email))
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get("id"))
        .transpose()?)
}

/// Whether the member receives the theme (a theme they never had counts as not).
async fn subscribed_to(tx: &mut Tx, member_id: i64, theme: &str) -> StoreResult<bool> {
    Ok(
        sqlx::query("SELECT subscribed FROM member_themes WHERE member_id = $1 AND theme_slug = $2")
            .bind(member_id)
            .bind(theme.to_owned())
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| flag(&r, "subscribed"))
            .transpose()?
            .unwrap_or(false),
    )
}

/// Suppresses the member; false when they already were.
pub(super) async fn suppress_member(
    tx: &mut Tx,
    member_id: i64,
    reason: &str,
    source: MemberSource,
    now: i64,
) -> StoreResult<bool> {
    let changed = sqlx::query(
        "UPDATE members SET status = 'suppressed', updated_at = $1 WHERE id = $2 AND status <> 'suppressed'",
    )
    .bind(now)
    .bind(member_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if changed == 1 {
        member_event(tx, member_id, None, MemberEventKind::Suppressed, source, reason, now).await?;
    }
    Ok(changed == 1)
}

impl Store {
    pub async fn members(&self, theme_slug: Option<&str>) -> StoreResult<Vec<Member>> {
        match theme_slug {
            Some(slug) => self.load_members(MemberFilter::Theme(slug)).await,
            None => self.load_members(MemberFilter::All).await,
        }
    }

    pub async fn member_history(&self, member_id: i64) -> StoreResult<Vec<MemberEvent>> {
        sqlx::query(
            "SELECT at, theme_slug, event, source, reason FROM member_events WHERE member_id = $1 ORDER BY at, id",
        )
        .bind(member_id)
        .fetch_all(self.pool())
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

    pub async fn any_member(&self, theme_slug: &str) -> StoreResult<Option<Member>> {
        Ok(self.load_members(MemberFilter::AnyOfTheme(theme_slug)).await?.pop())
    }

    pub async fn member(&self, email: &str) -> StoreResult<Option<Member>> {
        Ok(self
            .load_members(MemberFilter::Email(&normalize_email(email)))
            .await?
            .pop())
    }

    pub async fn member_by_id(&self, id: i64) -> StoreResult<Option<Member>> {
        Ok(self.load_members(MemberFilter::Id(id)).await?.pop())
    }

    pub async fn advisors(&self) -> StoreResult<Vec<Advisor>> {
        sqlx::query("SELECT id, email, name, branch, active FROM advisors ORDER BY email_norm")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(Advisor {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    name: r.try_get("name")?,
                    branch: r.try_get("branch")?,
                    active: flag(r, "active")?,
                })
            })
            .collect()
    }
}

pub async fn import_members(
    tx: &mut Tx,
    rows: &[MemberRow],
    all_themes: &[String],
    now: i64,
) -> StoreResult<ImportReport> {
    let mut report = ImportReport::default();
    for row in rows {
        import_member(tx, row, all_themes, now, &mut report).await?;
    }
    Ok(report)
}

/// Unsubscribes from one theme, or from everything with `None`. A member already out changes nothing and
/// gets no second history event. A suppressed member who leaves everything stays suppressed; the event
/// is kept, so lifting the suppression later leaves them out.
pub async fn unsubscribe(
    tx: &mut Tx,
    email: &str,
    theme: Option<&str>,
    source: MemberSource,
    now: i64,
) -> StoreResult<MemberChange> {
    let Some(id) = member_id(tx, email).await? else {
        return Ok(MemberChange::NoSuchMember);
    };
    match theme {
        Some(theme) => {
            if !subscribed_to(tx, id, theme).await? {
                return Ok(MemberChange::Already);
            }
            set_theme(tx, id, theme, false, source, now).await?;
        }
        None => {
            let status = sqlx::query("SELECT status FROM members WHERE id = $1")
                .bind(id)
                .fetch_one(&mut **tx)
                .await?;
            let status = state(&status, "status", MemberStatus::parse)?;
            let left_before = sqlx::query(
                "SELECT 1 FROM member_events WHERE member_id = $1 AND theme_slug IS NULL AND event = 'unsubscribed'",
            )
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
            match status {
                MemberStatus::Unsubscribed => return Ok(MemberChange::Already),
                MemberStatus::Suppressed if left_before => return Ok(MemberChange::Already),
                MemberStatus::Suppressed => {}
                MemberStatus::Active => {
                    sqlx::query("UPDATE members SET status = 'unsubscribed', updated_at = $1 WHERE id = $2")
                        .bind(now)
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            member_event(tx, id, None, MemberEventKind::Unsubscribed, source, "", now).await?;
        }
    }
    Ok(MemberChange::Done)
}

pub async fn suppress(
    tx: &mut Tx,
    email: &str,
    reason: &str,
    source: MemberSource,
    now: i64,
) -> StoreResult<MemberChange> {
    let Some(id) = member_id(tx, email).await? else {
        return Ok(MemberChange::NoSuchMember);
    };
    Ok(if suppress_member(tx, id, reason, source, now).await? {
        MemberChange::Done
    } else {
        MemberChange::Already
    })
}

pub async fn unsuppress(
    tx: &mut Tx,
    email: &str,
    reason: &str,
    source: MemberSource,
    now: i64,
) -> StoreResult<Option<bool>> {
    let Some(id) = member_id(tx, email).await? else {
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
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1;
    if changed {
        member_event(tx, id, None, MemberEventKind::Unsuppressed, source, reason, now).await?;
    }
    if !changed {
        return Ok(Some(false));
    }
    Ok(Some(changed))
}

pub async fn import_advisors(tx: &mut Tx, rows: &[AdvisorRow], now: i64) -> StoreResult<ImportReport> {
    let mut report = ImportReport::default();
    for row in rows {
        let norm = normalize_email(&row.email);
        let existing = sqlx::query("SELECT id, email, name, branch, active FROM advisors WHERE email_norm = $1")
            .bind(norm.clone())
            .fetch_optional(&mut **tx)
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
                .execute(&mut **tx)
                .await?;
                report.created += 1;
            }
            Some(r) => {
                let same = r.try_get::<String, _>("email")? == row.email
                    && r.try_get::<String, _>("name")? == row.name
                    && r.try_get::<String, _>("branch")? == row.branch;
                if same {
                    report.unchanged += 1;
                    continue;
                }
                sqlx::query(
                    "UPDATE advisors SET email = $1, name = $2, branch = $3, updated_at = $4 \
                     WHERE email_norm = $5",
                )
                .bind(row.email.clone())
                .bind(row.name.clone())
                .bind(row.branch.clone())
                .bind(now)
                .bind(norm)
                .execute(&mut **tx)
                .await?;
                report.updated += 1;
            }
        }
    }
    Ok(report)
}

/// Activates or deactivates an advisor. An import never reactivates one: only staff do, here.
pub async fn set_advisor_active(tx: &mut Tx, email: &str, active: bool, now: i64) -> StoreResult<MemberChange> {
    let norm = normalize_email(email);
    let Some(row) = sqlx::query("SELECT id, active FROM advisors WHERE email_norm = $1")
        .bind(norm)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(MemberChange::NoSuchMember);
    };
    if flag(&row, "active")? == active {
        return Ok(MemberChange::Already);
    }
    let id: i64 = row.try_get("id")?;
    sqlx::query("UPDATE advisors SET active = $1, updated_at = $2 WHERE id = $3")
        .bind(flag_value(active))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(MemberChange::Done)
}

/// The member joins a theme by their own request (the preferences page). A member who had left everything
/// is active again: this is their own opt-in. A suppressed member is not: only staff lift a suppression.
pub async fn join(tx: &mut Tx, member_id: i64, theme: &str, now: i64) -> StoreResult<MemberChange> {
    let Some(row) = sqlx::query("SELECT status FROM members WHERE id = $1")
        .bind(member_id)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(MemberChange::NoSuchMember);
    };
    let status = state(&row, "status", MemberStatus::parse)?;
    let subscribed = subscribed_to(tx, member_id, theme).await?;
    match status {
        MemberStatus::Suppressed => return Ok(MemberChange::Already),
        MemberStatus::Active if subscribed => return Ok(MemberChange::Already),
        MemberStatus::Active => {}
        MemberStatus::Unsubscribed => {
            // Back with this theme only: the themes chosen before leaving everything stay off.
            sqlx::query("UPDATE members SET status = 'active', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(member_id)
                .execute(&mut **tx)
                .await?;
            let turned_off: Vec<String> = sqlx::query(
                "UPDATE member_themes SET subscribed = 0, source = 'member', changed_at = $1 \
                 WHERE member_id = $2 AND theme_slug <> $3 AND subscribed = 1 RETURNING theme_slug",
            )
            .bind(now)
            .bind(member_id)
            .bind(theme.to_owned())
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get("theme_slug"))
            .collect::<Result<_, _>>()?;
            // Each theme turned off is a consent change of its own in the history.
            for slug in &turned_off {
                member_event(
                    tx,
                    member_id,
                    Some(slug),
                    MemberEventKind::Unsubscribed,
                    MemberSource::Member,
                    "",
                    now,
                )
                .await?;
            }
            member_event(
                tx,
                member_id,
                None,
                MemberEventKind::Resubscribed,
                MemberSource::Member,
                theme,
                now,
            )
            .await?;
            set_theme(tx, member_id, theme, true, MemberSource::Member, now).await?;
            return Ok(MemberChange::Done);
        }
    }
    if !subscribed {
        set_theme(tx, member_id, theme, true, MemberSource::Member, now).await?;
    }
    Ok(MemberChange::Done)
}
