//! Accounts, sign-in and API tokens. Passwords are hashed with argon2id off the async threads; a failed sign-in
//! says the same whether the address or the password was wrong, and takes as long.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::Application;
use crate::domain::account::{ApiToken, Role, User, check_password};
use crate::domain::member::normalize_email;
use crate::domain::text;
use crate::domain::{Action, Actor, Field, FieldError, Problem, Refusal};
use crate::error::AppError;
use crate::store::accounts::{self as accounts_store, UserChange};

/// A session just begun: the cookie's value (only its hash is stored) and the token its forms carry.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session_id: String,
    pub csrf: String,
    pub user: User,
}

/// The one answer to a failed sign-in, whatever failed.
pub const SIGN_IN_REFUSED: &str = "the address or the password is wrong";

/// A long random secret, URL-safe.
fn secret(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()))
}

/// An account's address as stored and looked up: the normalised form members' addresses have too (lower case, the
/// domain in its ASCII form), so a spelling with full-width letters names the same account, and plausibly an
/// address.
fn account_email(email: &str) -> Result<String, AppError> {
    let email = normalize_email(super::typed_address(email)?);
    let plausible = email.len() <= 254
        && !email.chars().any(|c| c.is_control() || c.is_whitespace())
        && email
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'));
    if plausible {
        Ok(email)
    } else {
        Err(FieldError::new(Field::Email, Problem::NotAnAddress(email)).into())
    }
}

async fn hash_password(password: &str) -> Result<String, AppError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
            .map_err(|e| AppError::Internal(format!("password salt: {e}")))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("password hash: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(format!("password hash: {e}")))?
}

/// Whether `password` matches `hash`; a hash that does not parse matches nothing.
async fn password_matches(password: &str, hash: String) -> Result<bool, AppError> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .map_err(|e| AppError::Internal(format!("password check: {e}")))
}

/// Compared against when the address is unknown, so that a wrong address takes as long as a wrong password.
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$rxiWNJ9ZyO0bSQE8dGmvIXOTuBj0pIKh3jBuJ3Ho9Jk";

impl Application {
    pub async fn add_user(&self, actor: &Actor, email: &str, role: Role, password: &str) -> Result<User, AppError> {
        let email = account_email(email)?;
        check_password(password, &email).map_err(|p| FieldError::new(Field::Password, p))?;
        let action = self
            .permitted(actor, "user.add", email.clone())?
            .with("role", role.as_str());
        let hash = hash_password(password).await?;
        let now = self.now();
        Ok(self
            .store
            .change(now, async |tx| {
                let user = accounts_store::add_user(tx, &email, role, &hash, now).await?;
                Ok((user, Some(action)))
            })
            .await?)
    }

    pub async fn users(&self) -> Result<Vec<User>, AppError> {
        Ok(self.store.users().await?)
    }

    /// Disables or enables an account (disabling ends its sessions); false when it already was.
    pub async fn set_user_active(&self, actor: &Actor, email: &str, active: bool) -> Result<bool, AppError> {
        let verb = if active { "user.enable" } else { "user.disable" };
        self.change_user(actor, email, verb, UserChange::Active(active), None)
            .await
    }

    /// Gives an account another role (ending its sessions); false when it already had it.
    pub async fn set_user_role(&self, actor: &Actor, email: &str, role: Role) -> Result<bool, AppError> {
        self.change_user(
            actor,
            email,
            "user.set_role",
            UserChange::Role(role),
            Some(("role", role.as_str())),
        )
        .await
    }

    /// Sets a new password (ending the account's sessions).
    pub async fn reset_password(&self, actor: &Actor, email: &str, password: &str) -> Result<bool, AppError> {
        let email = account_email(email)?;
        check_password(password, &email).map_err(|p| FieldError::new(Field::Password, p))?;
        let hash = hash_password(password).await?;
        self.change_user(actor, &email, "user.reset_password", UserChange::Password(&hash), None)
            .await
    }

    async fn change_user(
        &self,
        actor: &Actor,
        email: &str,
        verb: &'static str,
        change: UserChange<'_>,
        detail: Option<(&str, &str)>,
    ) -> Result<bool, AppError> {
        let email = account_email(email)?;
        let mut action = self.permitted(actor, verb, email.clone())?;
        if let Some((key, value)) = detail {
            action = action.with(key, value);
        }
        let now = self.now();
        Ok(self
            .store
            .change(now, async |tx| {
                let Some((user, _)) = accounts_store::user_by_email(tx, &email).await? else {
                    return Err(crate::store::StoreError::NotFound(format!("no account {email}")));
                };
                let changed = accounts_store::update_user(tx, user.id, &change).await?;
                Ok((changed, changed.then_some(action)))
            })
            .await?)
    }

    /// Signs in: a new session with a new id (never one the browser brought). Success and failure are both
    /// recorded, with the client's address; the failure's message is the same for every cause.
    pub async fn sign_in(&self, email: &str, password: &str, address: &str) -> Result<SignedIn, AppError> {
        let now = self.now();
        if let Err(refused) = Field::Email.check(email) {
            // Never a valid address, so saying so tells nothing; the attempt is still on record, without the
            // characters no log should hold.
            let typed = text::cleaned(email, Field::Email.max_chars());
            let visitor = Actor::User {
                email: typed.clone(),
                role: Role::Auditor,
            };
            let action = Action::new(&visitor, "user.sign_in_failed", typed).from_address(address);
            self.store.change(now, async |_| Ok(((), Some(action)))).await?;
            return Err(refused.into());
        }
        let email = normalize_email(email);
        let found = self.store.user_with_hash(&email).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, DECOY_HASH.to_owned()),
        };
        let matches = password_matches(password, hash).await?;
        let visitor = Actor::User {
            email: email.chars().take(254).filter(|c| !c.is_control()).collect(),
            role: user.as_ref().map_or(Role::Auditor, |u| u.role),
        };
        match user.filter(|u| matches && u.active) {
            Some(user) => {
                let signed_in = SignedIn {
                    session_id: secret(""),
                    csrf: secret(""),
                    user,
                };
                let action = Action::new(&visitor, "user.sign_in", signed_in.user.email.clone()).from_address(address);
                self.store
                    .change(now, async |tx| {
                        accounts_store::start_session(
                            tx,
                            &signed_in.session_id,
                            signed_in.user.id,
                            &signed_in.csrf,
                            now,
                        )
                        .await?;
                        Ok(((), Some(action)))
                    })
                    .await?;
                Ok(signed_in)
            }
            None => {
                let action = Action::new(&visitor, "user.sign_in_failed", visitor.name()).from_address(address);
                self.store.change(now, async |_| Ok(((), Some(action)))).await?;
                Err(AppError::Unauthorized(SIGN_IN_REFUSED.to_owned()))
            }
        }
    }

    /// The signed-in user of a session and its CSRF token, if the session is live.
    pub async fn session(&self, session_id: &str) -> Result<Option<(User, String)>, AppError> {
        let web = &self.settings.web;
        let idle = crate::config::millis(web.session_idle_minutes.saturating_mul(60));
        let absolute = crate::config::millis(web.session_absolute_hours.saturating_mul(3600));
        Ok(self.store.session(session_id, self.now(), idle, absolute).await?)
    }

    /// Ends a session on the server; recorded when it was live.
    pub async fn sign_out(&self, session_id: &str, user: &User, address: &str) -> Result<(), AppError> {
        let actor = Actor::User {
            email: user.email.clone(),
            role: user.role,
        };
        let action = Action::new(&actor, "user.sign_out", user.email.clone()).from_address(address);
        // The session ends and its record is written in one transaction; a session already gone records nothing.
        self.store
            .change(self.now(), async |tx| {
                let ended = accounts_store::sign_out(tx, session_id).await?;
                Ok(((), ended.then_some(action)))
            })
            .await?;
        Ok(())
    }

    /// Creates an API token for a user, carrying their role; the secret is returned once and never stored.
    pub async fn create_token(
        &self,
        actor: &Actor,
        email: &str,
        name: &str,
        expires_days: Option<u32>,
    ) -> Result<(i64, String), AppError> {
        let email = account_email(email)?;
        let name = Field::TokenName.check(name)?;
        let expires_at = expires_days
            .map(|d| {
                if (1..=3650).contains(&d) {
                    Ok(self.now().saturating_add(crate::config::millis(u64::from(d) * 86_400)))
                } else {
                    Err(FieldError::new(Field::Expires, Problem::ExpiresDays(d)))
                }
            })
            .transpose()?;
        let action = self
            .permitted(actor, "token.create", email.clone())?
            .with("name", name)
            .with("expires_days", expires_days);
        let token = secret("otk_");
        let now = self.now();
        let id = self
            .store
            .change(now, async |tx| {
                let Some((user, _)) = accounts_store::user_by_email(tx, &email).await? else {
                    return Err(crate::store::StoreError::NotFound(format!("no account {email}")));
                };
                let id = accounts_store::add_token(tx, user.id, &token, name, now, expires_at).await?;
                Ok((id, Some(action.with("token", id))))
            })
            .await?;
        Ok((id, token))
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>, AppError> {
        Ok(self.store.api_tokens().await?)
    }

    /// Revokes a token; false when it already was revoked.
    pub async fn revoke_token(&self, actor: &Actor, id: i64) -> Result<bool, AppError> {
        let action = self.permitted(actor, "token.revoke", format!("token {id}"))?;
        let now = self.now();
        let known = self.store.api_tokens().await?.iter().any(|t| t.id == id);
        if !known {
            return Err(Refusal::NoToken(id).into());
        }
        Ok(self
            .store
            .change(now, async |tx| {
                let revoked = accounts_store::revoke_token(tx, id, now).await?;
                Ok((revoked, revoked.then_some(action)))
            })
            .await?)
    }

    /// The user a bearer token acts for, if it is live.
    pub async fn token_user(&self, token: &str) -> Result<Option<User>, AppError> {
        Ok(self.store.token_user(token, self.now()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoy_hash_parses() {
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
    }

    #[test]
    fn account_addresses_are_trimmed_lowered_and_checked() {
        assert_eq!(account_email(" Staff@Example.JP ").unwrap(), "staff@example.jp");
        assert!(account_email("no-at-sign").is_err());
        assert!(account_email("a@b.jp\u{7}").is_err());
    }
}
