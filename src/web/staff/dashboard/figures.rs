//! The dashboard's figures of the fiscal year as the page shows them: cards (mails this month and this year,
//! failures, members and mails per theme), the chart of mails per theme and month drawn as SVG by
//! [`crate::export::svg`], and the same counts as a table beside it.

use serde_json::{Value, json};

use super::super::frame::Lang;
use crate::domain::plan::fiscal_year_ja;
use crate::export::svg::{Grid, GridRow, bar_rows, group_digits};
use crate::services::YearFigures;

const MONTHS_EN: [&str; 12] = [
    "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar",
];

/// The name of month `i` of the fiscal year (0 = April): `4月`, or `Apr`.
fn month_name(lang: Lang, i: usize) -> String {
    let month = ((i + 3) % 12 + 1).to_string();
    let month_en = MONTHS_EN.get(i).copied().unwrap_or_default();
    lang.t_with("fiscal-month", &[("month", &month), ("month_en", month_en)])
}

/// `令和8年度（2026年度）`, or `FY2026`.
fn year_name(lang: Lang, figures: &YearFigures) -> String {
    let year = figures.fiscal_year.0;
    lang.t_with(
        "fiscal-year-name",
        &[("era", &fiscal_year_ja(year)), ("year", &year.to_string())],
    )
}

/// The context of the figures' part of the page.
pub(super) fn context(lang: Lang, figures: &YearFigures) -> Value {
    let year = year_name(lang, figures);
    let month = month_name(lang, figures.this_month);
    let title = |t: &crate::services::ThemeFigures| match lang {
        Lang::Ja => t.title_ja.clone(),
        Lang::En => t.title_en.clone(),
    };
    let cards = json!([
        {
            "label": lang.t("mails-this-month"),
            "value": group_digits(figures.sent_in_month(figures.this_month)),
            "note": month,
        },
        {
            "label": lang.t("mails-this-fiscal-year"),
            "value": group_digits(figures.sent_in_year()),
            "note": year,
        },
        {
            "label": lang.t("failures-this-fiscal-year"),
            "value": group_digits(figures.failed_in_year()),
            "note": lang.t("see-the-send-log"),
            "href": "/audit/log?outcome=failed",
        },
    ]);
    let themes: Vec<Value> = figures
        .themes
        .iter()
        .map(|t| {
            json!({
                "title": title(t),
                "members": group_digits(t.members),
                "month": group_digits(t.sent[figures.this_month]),
                "year": group_digits(t.sent_in_year()),
            })
        })
        .collect();
    let columns: Vec<String> = (0..12).map(|i| month_name(lang, i)).collect();
    let grid = Grid {
        title: lang.t_with("chart-title", &[("year", &year)]),
        description: lang.t("for-each-theme-the-mails-sent").to_owned(),
        columns: columns.clone(),
        rows: figures
            .themes
            .iter()
            .map(|t| GridRow {
                label: title(t),
                values: t.sent.to_vec(),
            })
            .collect(),
        marked_column: Some(figures.this_month),
    };
    let rows: Vec<Value> = figures
        .themes
        .iter()
        .map(|t| {
            json!({
                "title": title(t),
                "cells": t.sent.iter().map(|n| group_digits(*n)).collect::<Vec<_>>(),
                "total": group_digits(t.sent_in_year()),
            })
        })
        .collect();
    let totals: Vec<String> = (0..12).map(|m| group_digits(figures.sent_in_month(m))).collect();
    json!({
        "year": year,
        "month": month,
        "cards": cards,
        "themes": themes,
        "chart": bar_rows(&grid, "chart-mails"),
        "table": {
            "columns": columns
                .iter()
                .enumerate()
                .map(|(i, name)| json!({"name": name, "now": i == figures.this_month}))
                .collect::<Vec<_>>(),
            "rows": rows,
            "totals": totals,
            "total": group_digits(figures.sent_in_year()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_in_april() {
        assert_eq!(month_name(Lang::Ja, 0), "4月");
        assert_eq!(month_name(Lang::Ja, 8), "12月");
        assert_eq!(month_name(Lang::Ja, 9), "1月");
        assert_eq!(month_name(Lang::Ja, 11), "3月");
        assert_eq!(month_name(Lang::En, 11), "Mar");
    }
}
