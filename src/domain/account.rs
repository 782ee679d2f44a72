//! People who sign in (staff, auditors, admins), what each role may do, and the rules a password must meet.

use serde::Serialize;

use super::problem::Problem;

/// What a signed-in person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads the send log, the staff-action log and the reports; changes nothing.
    Auditor,
    /// Runs campaigns, members and advisors.
    Staff,
    /// Everything staff do, plus accounts and API tokens.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Staff, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Whether this role may make the change named `action` (`campaign.pause`, `user.add`, …). Reading is
    /// open to every role; accounts and tokens are the admin's; every other change is staff work.
    pub fn may(self, action: &str) -> bool {
        match self {
            Role::Admin => true,
            Role::Staff => !is_admin_action(action),
            Role::Auditor => false,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_admin_action(action: &str) -> bool {
    // Erasing personal data cannot be undone: an administrator's decision, like accounts.
    action.starts_with("user.")
        || action.starts_with("token.")
        || action.starts_with("audit.")
        || action == "member.erase"
}

/// An account as stored, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub active: bool,
    pub created_at: i64,
}

/// An API token as listed (its secret is shown once, at creation, and only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_email: String,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// Shorter passwords are refused.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Passwords that lead every leaked-password list; refused whatever their length (compared ignoring case).
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Why a password is refused, in words for the person choosing it.
pub fn check_password(password: &str, email: &str) -> Result<(), Problem> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(Problem::PasswordShort {
            chars,
            min: MIN_PASSWORD_CHARS,
        });
    }
    if password.chars().any(char::is_control) {
        return Err(Problem::PasswordControl);
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .any(|common| common == lower)
    {
        return Err(Problem::PasswordCommon);
    }
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    if !local.is_empty() && lower.contains(&local) && local.chars().count() * 2 >= chars {
        return Err(Problem::PasswordLikeAddress);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_split_reading_staff_work_and_accounts() {
        assert!(Role::Admin.may("user.add"));
        assert!(Role::Staff.may("campaign.pause"));
        assert!(!Role::Staff.may("user.add"));
        assert!(!Role::Staff.may("token.create"));
        assert!(!Role::Auditor.may("campaign.pause"));
        assert_eq!(Role::parse("auditor"), Some(Role::Auditor));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn passwords_short_common_or_the_address_are_refused() {
        assert_eq!(
            check_password("short", "a@b.jp"),
            Err(Problem::PasswordShort { chars: 5, min: 12 })
        );
        assert_eq!(check_password("Password1234", "a@b.jp"), Err(Problem::PasswordCommon));
        assert_eq!(
            check_password("yamada.taro!", "yamada.taro@b.jp"),
            Err(Problem::PasswordLikeAddress)
        );
        assert!(check_password("correct horse battery", "a@b.jp").is_ok());
    }
}
