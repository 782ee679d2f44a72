//! The staff pages' menu: each entry with the least role that may open it. The page frame shows a user the
//! entries of their role, and sign-in lands a user on the first of them.

use crate::domain::account::Role;

/// One entry of the menu: shown to roles at or above `least`.
pub(super) struct MenuItem {
    pub(super) path: &'static str,
    /// Its label in the message catalogue.
    pub(super) key: &'static str,
    pub(super) least: Role,
}

pub(super) const MENU: &[MenuItem] = &[
    MenuItem {
        path: "/staff",
        key: "menu-dashboard",
        least: Role::Staff,
    },
    MenuItem {
        path: "/staff/campaigns",
        key: "menu-campaigns",
        least: Role::Staff,
    },
    MenuItem {
        path: "/staff/members",
        key: "menu-members",
        least: Role::Staff,
    },
    MenuItem {
        path: "/staff/advisors",
        key: "menu-advisors",
        least: Role::Staff,
    },
    MenuItem {
        path: "/audit/log",
        key: "menu-send-log",
        least: Role::Auditor,
    },
    MenuItem {
        path: "/audit/actions",
        key: "menu-staff-actions",
        least: Role::Auditor,
    },
    MenuItem {
        path: "/admin/users",
        key: "menu-users",
        least: Role::Admin,
    },
    MenuItem {
        path: "/admin/tokens",
        key: "menu-api-tokens",
        least: Role::Admin,
    },
    MenuItem {
        path: "/admin/config",
        key: "menu-configuration",
        least: Role::Admin,
    },
];

/// Where a role lands after signing in: the first page of the menu it may use.
pub(super) fn home_of(role: Role) -> &'static str {
    MENU.iter().find(|m| role >= m.least).map_or("/audit/log", |m| m.path)
}
