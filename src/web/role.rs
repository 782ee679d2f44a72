//! The least role a route needs, as a type: a signed-in page takes `Signed<R>` (`session`), an API route
//! `Caller<R>` (`api`), and a user below `R` is refused before the handler runs, so no handler can forget the
//! check and both ways in make it with [`admits`]. The services check each action again.

use crate::domain::account::Role;

/// A role as a type parameter.
pub(crate) trait Least: Send + Sync + 'static {
    const ROLE: Role;
}

/// Any signed-in user or token: auditors (reads) and up.
pub(crate) enum Auditor {}
/// Staff and admins: changes.
pub(crate) enum Staff {}
/// Admins only: accounts, tokens, the configuration.
pub(crate) enum Admin {}

impl Least for Auditor {
    const ROLE: Role = Role::Auditor;
}

impl Least for Staff {
    const ROLE: Role = Role::Staff;
}

impl Least for Admin {
    const ROLE: Role = Role::Admin;
}

/// Whether a user of `role` may use what needs at least `R` (auditor < staff < admin).
pub(crate) fn admits<R: Least>(role: Role) -> bool {
    role >= R::ROLE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_is_admitted_at_and_below_its_own() {
        assert!(admits::<Auditor>(Role::Auditor) && admits::<Auditor>(Role::Admin));
        assert!(!admits::<Staff>(Role::Auditor) && admits::<Staff>(Role::Staff));
        assert!(!admits::<Admin>(Role::Staff) && admits::<Admin>(Role::Admin));
    }
}
