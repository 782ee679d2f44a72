//! Accounts, browser sessions and API tokens. Secrets are stored as hashes only: the password as argon2id
//! (made by the service), the session id and API token as SHA-256 (made here, they are long random values).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::sql::{Store, Tx, flag, flag_value};
use super::{StoreError, StoreResult};
use crate::domain::Refusal;
use crate::domain::account::{ApiToken, Role, User};

/// SHA-256 of a long random secret (session id, API token), hex.
pub fn secret_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

fn user_of(row: &AnyRow) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("user role {role:?}")))?,
        active: flag(row, "active")?,
        created_at: row.try_get("created_at")?,
    })
}

const USER_COLUMNS: &str = "id, email, role, active, created_at";

pub async fn add_user(tx: &mut Tx, email: &str, role: Role, password_hash: &str, now: i64) -> StoreResult<User> {
    let taken = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(email.to_owned())
        .fetch_optional(&mut **tx)
        .await?;
    if taken.is_some() {
        return Err(Refusal::AccountExists(email.to_owned()).into());
    }
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO users (email, role, password_hash, active, created_at) VALUES ($1, $2, $3, 1, $4) \
         RETURNING {USER_COLUMNS}"
    )))
    .bind(email.to_owned())
    .bind(role.as_str())
    .bind(password_hash.to_owned())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    user_of(&row)
}

/// The user with this address and their password hash: the statement, and its row read back.
fn with_hash_sql() -> String {
    format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE email = $1")
}

fn with_hash(row: Option<AnyRow>) -> StoreResult<Option<(User, String)>> {
    row.map(|r| Ok((user_of(&r)?, r.try_get("password_hash")?))).transpose()
}

/// Ends a session: the statement both the sign-out and an expired session use.
const END_SESSION: &str = "DELETE FROM sessions WHERE id_hash = $1";

/// The user with this address, if any, with their password hash.
pub async fn user_by_email(tx: &mut Tx, email: &str) -> StoreResult<Option<(User, String)>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(with_hash_sql()))
        .bind(email.to_owned())
        .fetch_optional(&mut **tx)
        .await?;
    with_hash(row)
}

impl Store {
    /// A user and their password hash, read outside any transaction: signing in checks a password (slow, on
    /// purpose) and must not hold a write lock meanwhile.
    pub async fn user_with_hash(&self, email: &str) -> StoreResult<Option<(User, String)>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(with_hash_sql()))
            .bind(email.to_owned())
            .fetch_optional(self.pool())
            .await?;
        with_hash(row)
    }
}

/// Sets a user's role, active flag or password hash; ending their sessions when they lose access or change
/// password. Whether anything changed.
pub async fn update_user(tx: &mut Tx, id: i64, change: &UserChange<'_>) -> StoreResult<bool> {
    let (query, end_sessions) = match change {
        UserChange::Role(role) => (
            sqlx::query("UPDATE users SET role = $1 WHERE id = $2 AND role <> $1").bind(role.as_str()),
            true,
        ),
        UserChange::Password(hash) => (
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2").bind((*hash).to_owned()),
            true,
        ),
        UserChange::Active(active) => (
            sqlx::query("UPDATE users SET active = $1 WHERE id = $2 AND active <> $1").bind(flag_value(*active)),
            !active,
        ),
    };
    let changed = query.bind(id).execute(&mut **tx).await?.rows_affected() > 0;
    if changed && end_sessions {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(changed)
}

/// One change to an account.
#[derive(Debug, Clone, Copy)]
pub enum UserChange<'a> {
    Role(Role),
    Active(bool),
    Password(&'a str),
}

impl Store {
    pub async fn users(&self) -> StoreResult<Vec<User>> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY email"
        )))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(user_of)
        .collect()
    }

    /// The active user whose session this is, and the session's CSRF token, if the session has been seen
    /// within `idle_ms` and began within `absolute_ms`; marks it seen now. An ended session is deleted.
    pub async fn session(
        &self,
        id: &str,
        now: i64,
        idle_ms: i64,
        absolute_ms: i64,
    ) -> StoreResult<Option<(User, String)>> {
        let hash = secret_hash(id);
        let row = sqlx::query(
            "SELECT u.id, u.email, u.role, u.active, u.created_at, s.csrf, s.created_at AS began, s.seen_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
        )
        .bind(hash.clone())
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user = user_of(&row)?;
        let began: i64 = row.try_get("began")?;
        let seen: i64 = row.try_get("seen_at")?;
        let live = user.active && now.saturating_sub(seen) < idle_ms && now.saturating_sub(began) < absolute_ms;
        if !live {
            self.end_session(id).await?;
            return Ok(None);
        }
        // Marking every request would make every page a write; a minute's precision is enough for an idle timeout.
        if now.saturating_sub(seen) > 60_000 {
            sqlx::query("UPDATE sessions SET seen_at = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(hash)
                .execute(self.pool())
                .await?;
        }
        Ok(Some((user, row.try_get("csrf")?)))
    }

    /// Ends an expired session (no one signed out: nothing to record).
    async fn end_session(&self, id: &str) -> StoreResult<bool> {
        Ok(sqlx::query(END_SESSION)
            .bind(secret_hash(id))
            .execute(self.pool())
            .await?
            .rows_affected()
            > 0)
    }

    /// The active user an API token belongs to, if it is neither revoked nor expired; notes its use.
    pub async fn token_user(&self, token: &str, now: i64) -> StoreResult<Option<User>> {
        let hash = secret_hash(token);
        let row = sqlx::query(
            "SELECT u.id, u.email, u.role, u.active, u.created_at, t.last_used_at FROM api_tokens t \
             JOIN users u ON u.id = t.user_id \
             WHERE t.hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
        )
        .bind(hash.clone())
        .bind(now)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user = user_of(&row)?;
        let last: Option<i64> = row.try_get("last_used_at")?;
        if last.is_none_or(|l| now.saturating_sub(l) > 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE hash = $2")
                .bind(now)
                .bind(hash)
                .execute(self.pool())
                .await?;
        }
        Ok(user.active.then_some(user))
    }

    pub async fn api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT t.id, u.email, t.name, t.created_at, t.expires_at, t.revoked_at, t.last_used_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.try_get("id")?,
                    user_email: r.try_get("email")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }
}

/// Starts a session for the user: `id` is the cookie's value (only its hash is stored).
pub async fn start_session(tx: &mut Tx, id: &str, user_id: i64, csrf: &str, now: i64) -> StoreResult<()> {
    sqlx::query("INSERT INTO sessions (id_hash, user_id, csrf, created_at, seen_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(secret_hash(id))
        .bind(user_id)
        .bind(csrf.to_owned())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stores a new API token (only its hash); its id.
pub async fn add_token(
    tx: &mut Tx,
    user_id: i64,
    token: &str,
    name: &str,
    now: i64,
    expires_at: Option<i64>,
) -> StoreResult<i64> {
    let row = sqlx::query(
        "INSERT INTO api_tokens (user_id, hash, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(secret_hash(token))
    .bind(name.to_owned())
    .bind(now)
    .bind(expires_at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}

/// Revokes a token; whether it was live.
pub async fn revoke_token(tx: &mut Tx, id: i64, now: i64) -> StoreResult<bool> {
    Ok(
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            > 0,
    )
}

/// Ends a session in the transaction that records the sign-out; false if it had already ended.
pub async fn sign_out(tx: &mut Tx, id: &str) -> StoreResult<bool> {
    Ok(sqlx::query(END_SESSION)
        .bind(secret_hash(id))
        .execute(&mut **tx)
        .await?
        .rows_affected()
        > 0)
}
