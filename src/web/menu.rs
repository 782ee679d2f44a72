//! The staff pages' menu: each entry with the least role that may open it. The page frame shows a user the
//! entries of their role, and sign-in lands a user on the first of them.

use crate::domain::account::Role;

/// One entry of the menu: shown to roles at or above `least`.
pub(super) struct MenuItem {
    pub(super) path: &'static str,
    pub(super) ja: &'static str,
    pub(super) en: &'static str,
    pub(super) least: Role,
}

pub(super) const MENU: &[MenuItem] = &[
    MenuItem {
        path: "/staff",
        ja: "ダッシュボード",
        en: "Dashboard",
        least: Role::Staff,
    },
    MenuItem {
        path: "/staff/campaigns",
        ja: "キャンペーン",
        en: "Campaigns",
        least: Role::Staff,
    },
    MenuItem {
        path: "/staff/members",
        ja: "会員",
        en: "Members",
        least: Role::Staff,
    },
    MenuItem {
        path: "/staff/advisors",
        ja: "経営指導員",
        en: "Advisors",
        least: Role::Staff,
    },
    MenuItem {
        path: "/audit/log",
        ja: "送信ログ",
        en: "Send log",
        least: Role::Auditor,
    },
    MenuItem {
        path: "/audit/actions",
        ja: "操作ログ",
        en: "Staff actions",
        least: Role::Auditor,
    },
    MenuItem {
        path: "/admin/users",
        ja: "ユーザー",
        en: "Users",
        least: Role::Admin,
    },
    MenuItem {
        path: "/admin/tokens",
        ja: "APIトークン",
        en: "API tokens",
        least: Role::Admin,
    },
    MenuItem {
        path: "/admin/config",
        ja: "設定",
        en: "Configuration",
        least: Role::Admin,
    },
];

/// Where a role lands after signing in: the first page of the menu it may use.
pub(super) fn home_of(role: Role) -> &'static str {
    MENU.iter().find(|m| role >= m.least).map_or("/audit/log", |m| m.path)
}
