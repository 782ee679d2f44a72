//! Finding members by a part of their address, company or contact name, a page at a time.

use sqlx::Row;

use super::sql::*;
use super::*;
use crate::domain::MemberStatus;
use crate::domain::member::Member;

/// `text` as a LIKE pattern matching it anywhere, its own `%`, `_` and `\` taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// Members whose address, company or contact name contains `text` (any case), ordered by address, after
    /// `after_email` (the normalised address the previous page ended with), at most `limit`. Themes are not
    /// loaded (`themes` is empty): the list does not show them.
    pub async fn search_members(&self, text: &str, after_email: &str, limit: u32) -> StoreResult<Vec<Member>> {
        let sql = format!(
            "SELECT id, email, email_norm, company, contact_name, locale, status FROM members \
             WHERE email_norm > $1 AND (email_norm LIKE $2 ESCAPE '\\' OR LOWER(company) LIKE $2 ESCAPE '\\' \
             OR LOWER(contact_name) LIKE $2 ESCAPE '\\') ORDER BY email_norm LIMIT {limit}"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after_email.to_owned())
            .bind(contains_pattern(text))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(Member {
                    id: r.try_get("id")?,
                    email: r.try_get("email")?,
                    company: r.try_get("company")?,
                    contact_name: r.try_get("contact_name")?,
                    locale: r.try_get("locale")?,
                    status: state(r, "status", MemberStatus::parse)?,
                    themes: Vec::new(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn wildcards_are_taken_literally() {
        assert_eq!(contains_pattern(" Ab "), "%ab%");
        assert_eq!(contains_pattern("100%_\\"), "%100\\%\\_\\\\%");
    }
}
