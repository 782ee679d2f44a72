//! What SQLite and PostgreSQL write differently; the rest of the SQL is shared.

use super::Backend;

impl Backend {
    /// The database's clock as epoch milliseconds, in SQL.
    pub(super) fn now_ms(self) -> &'static str {
        match self {
            Backend::Postgres => "(CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT))",
            Backend::Sqlite => "(CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER))",
        }
    }

    /// Locks the selected leased rows in id order. Every writer of leased rows locks this way, so two never
    /// deadlock (PostgreSQL; SQLite has one writer at a time).
    pub(super) fn lock_in_id_order(self) -> &'static str {
        match self {
            Backend::Postgres => "ORDER BY id FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    /// Locks the selected rows, passing over those another transaction holds (the claim).
    pub(super) fn lock_skipping_locked(self) -> &'static str {
        match self {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        }
    }
}
