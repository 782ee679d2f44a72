//! Parser for the collaboration plan table (連携内容一覧) between the Tokyo Metropolitan
//! Government (甲) and the Tokyo Chamber of Commerce and Industry (乙).
//!
//! The input is the public table as it is published (shipped as `config/plans/fy2020.tsv`):
//! blank lines, a title line, blank lines, a tab-separated header row
//! (`項目`, `甲(東京都)が実施すること`, `乙(東京商工会議所)が実施すること`) and one line per theme.
//! The two right-hand cells hold unclosed HTML list fragments: `<ul ...>` opens a list,
//! `○` starts an item, `・` starts a sub-item of the item before it and a nested `<ul ...>`
//! opens the sub-list; nothing is ever closed.
//!
//! The parser is pure (no I/O). It is tolerant of CRLF line endings, a UTF-8 BOM and
//! trailing newlines / blank lines, and strict about everything else: the first structural
//! problem rejects the whole file with a [`PlanParseError`] naming the 1-based physical line.
//!
//! Marker rules: `○` and `・` are list markers only at the start of a cell's content, after
//! whitespace, or right after an HTML tag (tags count as whitespace). A `・` inside a word
//! such as `ライフ・ワーク・バランス` or `周知協力・後援` is text, not a marker.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ThemeName;
pub use crate::domain::Channel;
use crate::domain::plan::{Plan, Theme};
pub use crate::domain::plan::{PlanDuty, PlanItem};

/// The three expected header columns, in order.
const HEADER: [&str; 3] = ["項目", "甲(東京都)が実施すること", "乙(東京商工会議所)が実施すること"];

const PROGRAMMES_CELL: &str = "programmes cell (甲(東京都)が実施すること)";
const DUTIES_CELL: &str = "duties cell (乙(東京商工会議所)が実施すること)";

/// One theme (data row) of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRow {
    /// 1-based physical line of the row in the file.
    pub line: usize,
    /// The theme (項目) as written, whitespace-normalised.
    pub title_ja: String,
    /// What Tokyo (甲) does.
    pub programmes: Vec<PlanItem>,
    /// What the Chamber (乙) does.
    pub duties: Vec<PlanDuty>,
}

/// A whole plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedPlan {
    /// The title line, whitespace-normalised.
    pub title: String,
    /// The Western year written as `(2020)年度` in the title, if any.
    pub fiscal_year: Option<i32>,
    pub rows: Vec<PlanRow>,
    /// Lowercase hex SHA-256 of the input bytes exactly as given.
    pub sha256: String,
}

impl ParsedPlan {
    /// The plan, its themes named from the configured slugs; an unknown title gets a stable generated slug.
    pub fn into_plan(self, fiscal_year: i32, names: &[ThemeName]) -> Plan {
        let themes = self
            .rows
            .into_iter()
            .map(|row| {
                let known = names.iter().find(|n| n.title_ja == row.title_ja);
                Theme {
                    slug: known.map_or_else(|| generated_slug(&row.title_ja), |n| n.slug.clone()),
                    title_en: known.map_or_else(String::new, |n| n.title_en.clone()),
                    title_ja: row.title_ja,
                    programmes: row.programmes,
                    duties: row.duties,
                }
            })
            .collect();
        Plan {
            fiscal_year,
            title: self.title,
            sha256: self.sha256,
            themes,
        }
    }
}

/// Why a plan file was rejected; `line` is the 1-based physical line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct PlanParseError {
    pub line: usize,
    pub reason: String,
}

fn err(line: usize, reason: impl Into<String>) -> PlanParseError {
    PlanParseError {
        line,
        reason: reason.into(),
    }
}

/// Parses a plan table. Rejects the whole file on the first structural error.
pub fn parse_plan(text: &str) -> Result<ParsedPlan, PlanParseError> {
    let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = body
        .split('\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));

    let Some((title_line, title_raw)) = next_non_blank(&mut lines) else {
        return Err(err(1, "empty input: expected a title line, a header row and data rows"));
    };
    if title_raw.contains('\t') {
        return Err(err(
            title_line,
            "missing title line: expected a title line such as \
             連携内容一覧(令和2(2020)年度事業計画) before the header row, \
             found a tab-separated row",
        ));
    }
    let title = normalize_ws(title_raw);
    let fiscal_year = fiscal_year_of(&title);

    let Some((header_line, header_raw)) = next_non_blank(&mut lines) else {
        return Err(err(
            title_line,
            format!(
                "missing header row after the title: expected the tab-separated columns {}",
                expected_header()
            ),
        ));
    };
    check_header(header_line, header_raw)?;

    let Some((first_line, first_raw)) = next_non_blank(&mut lines) else {
        return Err(err(
            header_line,
            "no data rows after the header: expected one tab-separated row per theme",
        ));
    };
    let mut rows = vec![parse_row(first_line, first_raw)?];
    for (line, raw) in lines.by_ref() {
        if is_blank(raw) {
            break;
        }
        let row = parse_row(line, raw)?;
        if let Some(first) = rows.iter().find(|r| r.title_ja == row.title_ja) {
            return Err(err(
                line,
                format!(
                    "duplicate theme {:?}: already defined on line {}",
                    row.title_ja, first.line
                ),
            ));
        }
        rows.push(row);
    }

    if let Some((line, raw)) = next_non_blank(&mut lines) {
        return Err(err(
            line,
            format!(
                "stray text after the data rows (rows must be contiguous and nothing but \
                 blank lines may follow them): found {:?}",
                excerpt(raw)
            ),
        ));
    }

    Ok(ParsedPlan {
        title,
        fiscal_year,
        rows,
        sha256,
    })
}

/// A stable slug for a theme that configuration does not name:
/// `"theme-"` followed by the first 10 hex characters of SHA-256 of the trimmed title.
pub fn generated_slug(title_ja: &str) -> String {
    let digest = hex::encode(Sha256::digest(title_ja.trim().as_bytes()));
    let prefix: String = digest.chars().take(10).collect();
    format!("theme-{prefix}")
}

/// The mail channels a duty names.
///
/// Every parenthesised group of the duty text (ASCII `(...)` or full-width `（...）`, at any
/// nesting depth, in the order the groups open) is split on `、`; each part that is exactly
/// a channel name, optionally followed by `等`, names that channel. Channels keep the order
/// in which they are first written; repeats are dropped.
///
/// Mixed groups: a group such as `(メールマガジン、ホームページ等)` that names some known
/// channels alongside unknown words contributes its known channels; a group with no known
/// channel contributes nothing. We chose this over "every part must be a channel" because
/// the two mistakes do not cost the same: each part has to match a channel name exactly, so
/// a wrong match is very unlikely, and if one ever happens it shows up as an extra campaign
/// in reports. The strict rule, by contrast, would silently drop a channel the plan
/// explicitly obliges the Chamber to use as soon as the plan adds one channel we do not
/// model, and nobody would notice the missing mailing. The unknown parts are not lost:
/// [`PlanDuty::text`] keeps the parenthesis as written for auditors.
fn duty_channels(text: &str) -> Vec<Channel> {
    let mut out: Vec<Channel> = Vec::new();
    for group in paren_groups(text) {
        for channel in group.split('、').filter_map(Channel::from_japanese) {
            if !out.contains(&channel) {
                out.push(channel);
            }
        }
    }
    out
}

/// Contents of every parenthesised group, ordered by where the group opens.
/// Unmatched brackets are ignored (items are checked for balance before this runs).
fn paren_groups(text: &str) -> Vec<&str> {
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut groups: Vec<(usize, &str)> = Vec::new();
    for (idx, c) in text.char_indices() {
        if is_open(c) {
            open.push((c, idx + c.len_utf8()));
        } else if let Some(want) = opener_of(c)
            && let Some(&(o, start)) = open.last()
            && o == want
        {
            open.pop();
            if let Some(inner) = text.get(start..idx) {
                groups.push((start, inner));
            }
        }
    }
    groups.sort_by_key(|&(start, _)| start);
    groups.into_iter().map(|(_, g)| g).collect()
}

fn is_open(c: char) -> bool {
    matches!(c, '(' | '（')
}

fn opener_of(c: char) -> Option<char> {
    match c {
        ')' => Some('('),
        '）' => Some('（'),
        _ => None,
    }
}

/// Checks that `(`/`)` and `（`/`）` are balanced and properly nested.
fn check_parens(line: usize, what: &str, text: &str) -> Result<(), PlanParseError> {
    let mut open: Vec<char> = Vec::new();
    for c in text.chars() {
        if is_open(c) {
            open.push(c);
        } else if let Some(want) = opener_of(c) {
            match open.pop() {
                Some(o) if o == want => {}
                Some(o) => {
                    return Err(err(
                        line,
                        format!(
                            "unbalanced parenthesis in {what} {:?}: '{o}' closed by '{c}'",
                            excerpt(text)
                        ),
                    ));
                }
                None => {
                    return Err(err(
                        line,
                        format!(
                            "unbalanced parenthesis in {what} {:?}: '{c}' without a matching '{want}'",
                            excerpt(text)
                        ),
                    ));
                }
            }
        }
    }
    if let Some(o) = open.last() {
        return Err(err(
            line,
            format!(
                "unbalanced parenthesis in {what} {:?}: '{o}' is never closed",
                excerpt(text)
            ),
        ));
    }
    Ok(())
}

fn next_non_blank<'a>(lines: &mut impl Iterator<Item = (usize, &'a str)>) -> Option<(usize, &'a str)> {
    lines.find(|(_, l)| !is_blank(l))
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Trims and collapses every run of whitespace (ideographic space included) to one space.
fn normalize_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first 40 characters of `s`, for error messages.
fn excerpt(s: &str) -> String {
    let s = s.trim();
    let mut out: String = s.chars().take(40).collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

fn expected_header() -> String {
    HEADER.iter().map(|h| format!("「{h}」")).collect::<Vec<_>>().join(", ")
}

/// The year `NNNN` of the first `(NNNN)年度` (ASCII or full-width parentheses) in `title`.
fn fiscal_year_of(title: &str) -> Option<i32> {
    title.match_indices("年度").find_map(|(idx, _)| {
        let before = title.get(..idx)?;
        let before = before.strip_suffix(')').or_else(|| before.strip_suffix('）'))?;
        let rest = before.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = before.get(rest.len()..)?;
        if digits.is_empty() || !(rest.ends_with('(') || rest.ends_with('（')) {
            return None;
        }
        digits.parse().ok()
    })
}

fn check_header(line: usize, raw: &str) -> Result<(), PlanParseError> {
    let cells: Vec<&str> = raw.split('\t').map(str::trim).collect();
    if cells.as_slice() == HEADER.as_slice() {
        return Ok(());
    }
    Err(err(
        line,
        format!(
            "wrong header row: expected the tab-separated columns {}, found {} cell(s): {}",
            expected_header(),
            cells.len(),
            cells
                .iter()
                .map(|c| format!("「{}」", excerpt(c)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

fn parse_row(line: usize, raw: &str) -> Result<PlanRow, PlanParseError> {
    let cells: Vec<&str> = raw.split('\t').collect();
    let [theme, programmes, duties] = cells.as_slice() else {
        return Err(err(
            line,
            format!(
                "expected 3 tab-separated cells (theme, programmes, duties), found {}",
                cells.len()
            ),
        ));
    };
    let title_ja = normalize_ws(theme);
    if title_ja.is_empty() {
        return Err(err(line, "empty theme cell (項目): every row needs a theme"));
    }
    check_parens(line, "the theme", &title_ja)?;
    let programmes = parse_cell(line, PROGRAMMES_CELL, programmes)?;
    let duties = parse_cell(line, DUTIES_CELL, duties)?
        .into_iter()
        .map(|item| PlanDuty {
            channels: duty_channels(&item.text),
            text: item.text,
            sub_items: item.sub_items,
        })
        .collect();
    Ok(PlanRow {
        line,
        title_ja,
        programmes,
        duties,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SegKind {
    /// Text before the first marker.
    Lead,
    /// After a `○`.
    Item,
    /// After a `・`.
    Sub,
}

/// Splits a list cell into its lead text and its marker-introduced segments.
/// HTML tags are replaced by a space.
fn segments(line: usize, column: &str, raw: &str) -> Result<Vec<(SegKind, String)>, PlanParseError> {
    let mut done: Vec<(SegKind, String)> = Vec::new();
    let mut current = (SegKind::Lead, String::new());
    let mut after_space = true;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '<' => {
                if !chars.by_ref().any(|t| t == '>') {
                    return Err(err(
                        line,
                        format!("unterminated HTML tag in the {column}: '<' without '>'"),
                    ));
                }
                current.1.push(' ');
                after_space = true;
            }
            '○' | '・' if after_space => {
                let kind = if c == '○' { SegKind::Item } else { SegKind::Sub };
                done.push(std::mem::replace(&mut current, (kind, String::new())));
                after_space = false;
            }
            _ => {
                current.1.push(c);
                after_space = c.is_whitespace();
            }
        }
    }
    done.push(current);
    Ok(done)
}

fn parse_cell(line: usize, column: &str, raw: &str) -> Result<Vec<PlanItem>, PlanParseError> {
    let trimmed = raw.trim();
    let starts_with_ul = trimmed
        .strip_prefix("<ul")
        .is_some_and(|rest| rest.starts_with(|c: char| c == '>' || c.is_whitespace()));
    if !starts_with_ul {
        return Err(err(
            line,
            format!("the {column} must start with <ul ...>, found {:?}", excerpt(trimmed)),
        ));
    }

    let segs = segments(line, column, trimmed)?;
    let has_item = segs.iter().any(|(k, _)| *k == SegKind::Item);
    let no_item = || {
        err(
            line,
            format!("the {column} has no ○ item: expected at least one item starting with ○"),
        )
    };

    let mut items: Vec<PlanItem> = Vec::new();
    for (kind, raw_text) in segs {
        let text = normalize_ws(&raw_text);
        match kind {
            SegKind::Lead => {
                if !text.is_empty() {
                    if !has_item {
                        return Err(no_item());
                    }
                    return Err(err(
                        line,
                        format!(
                            "unexpected text before the first ○ item in the {column}: {:?}",
                            excerpt(&text)
                        ),
                    ));
                }
            }
            SegKind::Item => {
                if text.is_empty() {
                    return Err(err(line, format!("empty ○ item in the {column}")));
                }
                check_parens(line, "item", &text)?;
                items.push(PlanItem {
                    text,
                    sub_items: Vec::new(),
                });
            }
            SegKind::Sub => {
                let Some(parent) = items.last_mut() else {
                    return Err(err(
                        line,
                        format!(
                            "・ sub-item {:?} before any ○ item in the {column}: \
                             a sub-item must follow the item it belongs to",
                            excerpt(&text)
                        ),
                    ));
                };
                if text.is_empty() {
                    return Err(err(line, format!("empty ・ sub-item in the {column}")));
                }
                check_parens(line, "sub-item", &text)?;
                parent.sub_items.push(text);
            }
        }
    }
    if items.is_empty() {
        return Err(no_item());
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = include_str!("../../config/plans/fy2020.tsv");
    const REAL_SHA256: &str = "b864baeff42f20184772acf51540a369ebfd099131919cdec05702e8172b602c";
    const HEADER_LINE: &str = "項目\t甲(東京都)が実施すること\t乙(東京商工会議所)が実施すること";
    const ALL3: [Channel; 3] = [Channel::Newsletter, Channel::ToshoShimbun, Channel::AdvisorHandout];

    const TITLES: [&str; 7] = [
        "「働き方改革」の取組の推進",
        "テレワークの推進",
        "スムーズビズの推進(TDM、テレワーク、時差Biz等の一体的な推進)",
        "ライフ・ワーク・バランスの推進",
        "女性の活躍推進",
        "ボランティア休暇制度の整備促進",
        "中小企業の人材確保",
    ];

    fn real() -> ParsedPlan {
        match parse_plan(REAL) {
            Ok(p) => p,
            Err(e) => panic!("real plan failed to parse: {e}"),
        }
    }

    /// Title on line 3, header on line 5, the given rows from line 6 on.
    fn doc(rows: &[&str]) -> String {
        format!("\n\nタイトル(2021)年度\n\n{HEADER_LINE}\n{}", rows.join("\n"))
    }

    fn fails(text: &str) -> PlanParseError {
        match parse_plan(text) {
            Ok(p) => panic!("expected an error, got {} rows", p.rows.len()),
            Err(e) => e,
        }
    }

    fn assert_err(text: &str, line: usize, fragment: &str) {
        let e = fails(text);
        assert_eq!(e.line, line, "wrong line for {e}");
        assert!(e.reason.contains(fragment), "{fragment:?} not in {e}");
    }

    const OK_ROW: &str = "テーマ\t<ul> ○ 施策\t<ul> ○ 周知(メールマガジン)";

    #[test]
    fn real_file_has_the_seven_themes_in_order() {
        let plan = real();
        assert_eq!(plan.title, "連携内容一覧(令和2(2020)年度事業計画)");
        assert_eq!(plan.fiscal_year, Some(2020));
        let titles: Vec<&str> = plan.rows.iter().map(|r| r.title_ja.as_str()).collect();
        assert_eq!(titles, TITLES);
        let lines: Vec<usize> = plan.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![6, 7, 8, 9, 10, 11, 12]);
    }

    #[test]
    fn real_file_item_counts() {
        let plan = real();
        let counts: Vec<(usize, usize)> = plan.rows.iter().map(|r| (r.programmes.len(), r.duties.len())).collect();
        assert_eq!(counts, vec![(2, 4), (5, 6), (2, 4), (6, 4), (3, 3), (1, 1), (5, 5)]);
    }

    #[test]
    fn first_duty_of_each_row_has_all_three_channels_and_others_none() {
        let plan = real();
        for row in &plan.rows {
            let (first, rest) = match row.duties.split_first() {
                Some(x) => x,
                None => panic!("row {} has no duties", row.title_ja),
            };
            assert_eq!(first.channels, ALL3, "first duty of {}", row.title_ja);
            assert!(
                first
                    .text
                    .ends_with("(メールマガジン、東商新聞、経営指導員による資料配布等)")
            );
            for d in rest {
                assert!(d.channels.is_empty(), "{} has {:?}", d.text, d.channels);
            }
        }
    }

    #[test]
    fn duty_text_keeps_the_parenthesis_as_written() {
        let plan = real();
        assert_eq!(
            plan.rows[0].duties[0].text,
            "会員企業に対する都の「働き方改革宣言企業制度」、支援事業等の周知啓発(メールマガジン、東商新聞、経営指導員による資料配布等)"
        );
        assert_eq!(
            plan.rows[6].duties[0].text,
            "都が実施する人材確保支援等の広報(メールマガジン、東商新聞、経営指導員による資料配布等)"
        );
        assert_eq!(plan.rows[0].duties[3].text, "会員企業が独自に行う「働き方改革」の支援");
    }

    #[test]
    fn sub_items_are_attached_to_their_item() {
        let plan = real();
        let work = &plan.rows[0].programmes;
        assert_eq!(work[0].text, "働き方改革宣言企業制度の実施");
        assert_eq!(
            work[0].sub_items,
            vec![
                "多様なメディアの活用による普及啓発",
                "ライフ・ワーク・バランスEXPOにおける宣言企業交流会の開催",
                "働き方改革宣言拡大のための取組の実施",
            ]
        );
        assert_eq!(work[1].text, "企業における働き方改革に向けた気運醸成");
        assert!(work[1].sub_items.is_empty());

        let telework = &plan.rows[1].programmes;
        assert!(telework[0].sub_items.is_empty());
        assert_eq!(telework[1].sub_items.len(), 3);
        assert_eq!(
            telework[1].sub_items[1],
            "テレワーク導入のトライアル実施の支援(コンサルティング、トライアル経費の補助)"
        );
        assert_eq!(
            telework[2].text,
            "商工団体等と連携した普及促進(テレワーク推進デスクの設置)"
        );

        assert_eq!(
            plan.rows[3].programmes[0].sub_items,
            vec!["認定企業の取組発信を通じた普及啓発"]
        );

        let sme = &plan.rows[6].programmes;
        assert_eq!(sme[0].text, "中小企業の人材確保に関する取組を実施");
        assert_eq!(sme[0].sub_items.len(), 3);
        assert_eq!(
            sme[0].sub_items[0],
            "(公財)東京しごと財団に「人材確保相談窓口」を設置し、人材確保に苦慮する中小企業の相談対応や専門家派遣によるコンサルティングを実施"
        );
        assert_eq!(
            sme[0].sub_items[2],
            "企業主導型保育施設設置に関する相談対応、助成制度、セミナー等の実施"
        );
        assert_eq!(
            sme[1].text,
            "中小企業の魅力を若者に紹介する「東京カインシャハッケン伝」の発行"
        );
    }

    #[test]
    fn no_markup_or_markers_survive_in_texts() {
        let plan = real();
        for row in &plan.rows {
            let texts = row
                .programmes
                .iter()
                .flat_map(|i| std::iter::once(&i.text).chain(&i.sub_items))
                .chain(
                    row.duties
                        .iter()
                        .flat_map(|d| std::iter::once(&d.text).chain(&d.sub_items)),
                );
            for t in texts {
                assert!(!t.is_empty());
                assert!(!t.contains(['<', '>', '○', '\t']), "{t}");
                assert!(
                    !t.starts_with('・') && !t.starts_with(' ') && !t.ends_with(' '),
                    "{t:?}"
                );
                assert!(!t.contains("  "), "{t:?}");
            }
        }
        // In-word ・ is text, not a marker.
        assert_eq!(
            plan.rows[3].duties[1].text,
            "都が実施するライフ・ワーク・バランスEXPO(仮称)、その他のイベントに関する周知協力・後援"
        );
    }

    #[test]
    fn sha256_is_of_the_input_bytes_and_stable() {
        assert_eq!(real().sha256, REAL_SHA256);
        assert_eq!(parse_plan(REAL).map(|p| p.sha256), Ok(REAL_SHA256.to_string()));
        let crlf = REAL.replace('\n', "\r\n");
        assert_ne!(parse_plan(&crlf).map(|p| p.sha256), Ok(REAL_SHA256.to_string()));
    }

    #[test]
    fn crlf_and_trailing_newlines_parse_the_same() {
        let plan = real();
        for variant in [
            REAL.replace('\n', "\r\n"),
            format!("{REAL}\n"),
            format!("{}\r\n\r\n", REAL.replace('\n', "\r\n")),
            format!("\u{feff}{REAL}\n \n\t\n"),
        ] {
            let other = match parse_plan(&variant) {
                Ok(p) => p,
                Err(e) => panic!("variant failed: {e}"),
            };
            assert_eq!(other.rows, plan.rows);
            assert_eq!(other.title, plan.title);
            assert_eq!(other.fiscal_year, plan.fiscal_year);
        }
    }

    #[test]
    fn serde_round_trip() {
        let plan = real();
        let json = serde_json::to_string(&plan).unwrap_or_default();
        assert!(json.contains("\"channels\":[\"newsletter\",\"tosho-shimbun\",\"advisor-handout\"]"));
        let back: ParsedPlan = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, plan);
    }

    #[test]
    fn channel_names_and_slugs() {
        assert_eq!(Channel::ALL, ALL3);
        let slugs: Vec<String> = Channel::ALL.iter().map(|c| c.to_string()).collect();
        assert_eq!(slugs, ["newsletter", "tosho-shimbun", "advisor-handout"]);
        for c in Channel::ALL {
            assert_eq!(Channel::from_slug(c.slug()), Some(c));
            assert_eq!(c.slug().parse::<Channel>(), Ok(c));
            assert_eq!(Channel::from_japanese(c.japanese()), Some(c));
            assert_eq!(Channel::from_japanese(&format!(" {}等 ", c.japanese())), Some(c));
            let json = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", c.slug()));
        }
        assert_eq!(Channel::japanese(Channel::AdvisorHandout), "経営指導員による資料配布");
        assert_eq!(
            Channel::from_japanese("経営指導員による資料配布等"),
            Some(Channel::AdvisorHandout)
        );
        assert_eq!(Channel::from_japanese("東商新聞等等"), None);
        assert_eq!(Channel::from_japanese("ホームページ"), None);
        assert_eq!(Channel::from_slug("Newsletter"), None);
        let e = match "fax".parse::<Channel>() {
            Ok(c) => panic!("parsed {c}"),
            Err(e) => e,
        };
        assert!(
            e.contains("fax") && e.contains("newsletter, tosho-shimbun, advisor-handout"),
            "{e}"
        );
    }

    #[test]
    fn channel_rule_for_mixed_and_nested_parentheses() {
        assert_eq!(
            duty_channels("周知(メールマガジン、ホームページ等)"),
            vec![Channel::Newsletter]
        );
        assert_eq!(duty_channels("周知(ホームページ、SNS)"), vec![]);
        assert_eq!(
            duty_channels("周知(東商新聞、メールマガジン)と(メールマガジン)"),
            vec![Channel::ToshoShimbun, Channel::Newsletter]
        );
        assert_eq!(
            duty_channels("広報（経営指導員による資料配布等、東商新聞）"),
            vec![Channel::AdvisorHandout, Channel::ToshoShimbun]
        );
        // Outer group opens first, so its channel comes first.
        assert_eq!(
            duty_channels("周知(東商新聞、記事(メールマガジン))"),
            vec![Channel::ToshoShimbun, Channel::Newsletter]
        );
        // Outside a parenthesis a channel name is just words.
        assert_eq!(duty_channels("メールマガジンの発行"), vec![]);
        assert_eq!(duty_channels("東商新聞に掲載(予定)"), vec![]);
    }

    #[test]
    fn fiscal_year_from_title() {
        assert_eq!(fiscal_year_of("連携内容一覧(令和3(2021)年度事業計画)"), Some(2021));
        assert_eq!(fiscal_year_of("令和4（2022）年度"), Some(2022));
        assert_eq!(fiscal_year_of("連携内容一覧(令和2年度)"), None);
        assert_eq!(fiscal_year_of("連携内容一覧"), None);
        let plan = parse_plan(&format!("連携内容一覧\n{HEADER_LINE}\n{OK_ROW}"));
        assert_eq!(plan.map(|p| p.fiscal_year), Ok(None));
    }

    #[test]
    fn generated_slug_is_stable() {
        assert_eq!(generated_slug("テレワークの推進"), "theme-9ce7c99a8e");
        assert_eq!(generated_slug(" テレワークの推進\n"), "theme-9ce7c99a8e");
        assert_ne!(generated_slug("女性の活躍推進"), generated_slug("テレワークの推進"));
        assert_eq!(generated_slug("x").len(), "theme-".len() + 10);
    }

    #[test]
    fn minimal_document_parses() {
        let plan = match parse_plan(&doc(&[OK_ROW, "二つ目\t<ul> ○ A ・a1 ・a2 ○ B\t<ul> ○ C"])) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(plan.fiscal_year, Some(2021));
        assert_eq!(plan.rows.len(), 2);
        assert_eq!(plan.rows[1].line, 7);
        assert_eq!(plan.rows[1].programmes[0].sub_items, vec!["a1", "a2"]);
        assert_eq!(plan.rows[1].programmes[1].text, "B");
        assert_eq!(plan.rows[0].duties[0].channels, vec![Channel::Newsletter]);
    }

    #[test]
    fn ideographic_space_is_collapsed() {
        let row = "テーマ\u{3000}名\t<ul>\u{3000}○\u{3000}施策\u{3000}\u{3000}A\t<ul> ○ B";
        let plan = parse_plan(&doc(&[row])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.rows[0].title_ja, "テーマ 名");
        assert_eq!(plan.rows[0].programmes[0].text, "施策 A");
    }

    #[test]
    fn tags_count_as_whitespace_and_start_markers() {
        let row = "テーマ\t<ul>○A<ul class=\"s\">・a1<br>続き・a2○B\t<ul>○周知";
        let plan = parse_plan(&doc(&[row])).unwrap_or_else(|e| panic!("{e}"));
        let items = &plan.rows[0].programmes;
        // An in-word ○ or ・ is text, even right after other markup.
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].text, "A");
        assert_eq!(items[0].sub_items, vec!["a1 続き・a2○B"]);
        assert_eq!(plan.rows[0].duties[0].text, "周知");
    }

    #[test]
    fn error_empty_input() {
        assert_err("", 1, "empty input");
        assert_err("\r\n\n  \n", 1, "empty input");
    }

    #[test]
    fn error_missing_title() {
        assert_err(&format!("\n{HEADER_LINE}\n{OK_ROW}"), 2, "missing title line");
    }

    #[test]
    fn error_missing_header() {
        assert_err("\n\n連携内容一覧(令和2(2020)年度事業計画)\n\n", 3, "missing header row");
    }

    #[test]
    fn error_wrong_header() {
        let text = format!("タイトル\n\n項目\t甲が実施すること\t乙(東京商工会議所)が実施すること\n{OK_ROW}");
        let e = fails(&text);
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("wrong header row"), "{e}");
        assert!(
            e.reason
                .contains("「項目」, 「甲(東京都)が実施すること」, 「乙(東京商工会議所)が実施すること」"),
            "{e}"
        );
        // A data row where the header should be.
        assert_err(&format!("タイトル\n{OK_ROW}\n{OK_ROW}"), 2, "found 3 cell(s)");
    }

    #[test]
    fn error_wrong_cell_count() {
        assert_err(
            &doc(&[OK_ROW, "テーマ2\t<ul> ○ 施策"]),
            7,
            "expected 3 tab-separated cells",
        );
        assert_err(&doc(&[OK_ROW, "テーマ2\t<ul> ○ 施策"]), 7, "found 2");
        assert_err(&doc(&[&format!("{OK_ROW}\t")]), 6, "found 4");
    }

    #[test]
    fn error_empty_theme() {
        assert_err(
            &doc(&[OK_ROW, " \u{3000}\t<ul> ○ 施策\t<ul> ○ 周知"]),
            7,
            "empty theme cell",
        );
    }

    #[test]
    fn error_cell_not_starting_with_ul() {
        let e = fails(&doc(&["テーマ\t○ 施策\t<ul> ○ 周知"]));
        assert_eq!(e.line, 6);
        assert!(
            e.reason.contains("programmes cell") && e.reason.contains("must start with <ul"),
            "{e}"
        );
        let e = fails(&doc(&[OK_ROW, "テーマ2\t<ul> ○ 施策\t<li> ○ 周知"]));
        assert_eq!(e.line, 7);
        assert!(
            e.reason.contains("duties cell") && e.reason.contains("must start with <ul"),
            "{e}"
        );
        assert_err(&doc(&["テーマ\t<ulx> ○ 施策\t<ul> ○ 周知"]), 6, "must start with <ul");
    }

    #[test]
    fn error_no_item() {
        assert_err(&doc(&["テーマ\t<ul style=\"x\">\t<ul> ○ 周知"]), 6, "has no ○ item");
        assert_err(&doc(&["テーマ\t<ul> ○ 施策\t<ul> 周知のみ"]), 6, "has no ○ item");
    }

    #[test]
    fn error_sub_item_before_item() {
        let e = fails(&doc(&[
            OK_ROW,
            OK_ROW.replace("テーマ", "別").as_str(),
            "三\t<ul> <ul> ・先 ○ 後\t<ul> ○ 周知",
        ]));
        assert_eq!(e.line, 8);
        assert!(e.reason.contains("・ sub-item \"先\" before any ○ item"), "{e}");
    }

    #[test]
    fn error_unbalanced_parenthesis() {
        assert_err(
            &doc(&["テーマ\t<ul> ○ 施策(未完\t<ul> ○ 周知"]),
            6,
            "unbalanced parenthesis in item",
        );
        assert_err(
            &doc(&["テーマ\t<ul> ○ 施策\t<ul> ○ 周知) ○ 次"]),
            6,
            "unbalanced parenthesis in item",
        );
        assert_err(
            &doc(&["テーマ\t<ul> ○ A <ul> ・B(C\t<ul> ○ 周知"]),
            6,
            "unbalanced parenthesis in sub-item",
        );
        assert_err(&doc(&["テーマ\t<ul> ○ 施策(A）\t<ul> ○ 周知"]), 6, "'(' closed by '）'");
        // On the real file: break the first duty of line 9.
        let broken = REAL.replacen("資料配布等) ○ 都が実施するライフ", "資料配布等 ○ 都が実施するライフ", 1);
        assert_ne!(broken, REAL);
        assert_err(&broken, 9, "unbalanced parenthesis in item");
    }

    #[test]
    fn error_duplicate_theme() {
        let dup = REAL.replacen("\nテレワークの推進\t", "\n「働き方改革」の取組の推進\t", 1);
        assert_ne!(dup, REAL);
        let e = fails(&dup);
        assert_eq!(e.line, 7);
        assert!(
            e.reason.contains("duplicate theme") && e.reason.contains("line 6"),
            "{e}"
        );
        // Whitespace differences do not make a theme new.
        assert_err(
            &doc(&[OK_ROW, &OK_ROW.replace("テーマ", " テーマ ")]),
            7,
            "duplicate theme",
        );
    }

    #[test]
    fn error_no_data_rows() {
        assert_err(&format!("\n\nタイトル\n\n{HEADER_LINE}\n\n"), 5, "no data rows");
        assert_err(&format!("タイトル\n{HEADER_LINE}"), 2, "no data rows");
    }

    #[test]
    fn error_stray_text_after_rows() {
        assert_err(&format!("{REAL}\n\n備考: 以上"), 14, "stray text after the data rows");
        assert_err(
            &format!("{REAL}\r\n\r\n\r\n{OK_ROW}\r\n"),
            15,
            "stray text after the data rows",
        );
    }

    #[test]
    fn error_other_structure() {
        assert_err(
            &doc(&["テーマ\t<ul> ○ 施策 <ul\t<ul> ○ 周知"]),
            6,
            "unterminated HTML tag",
        );
        assert_err(&doc(&["テーマ\t<ul> ○ ○ 施策\t<ul> ○ 周知"]), 6, "empty ○ item");
        assert_err(&doc(&["テーマ\t<ul> ○ 施策 ・ \t<ul> ○ 周知"]), 6, "empty ・ sub-item");
        assert_err(
            &doc(&["テーマ\t<ul> 前文 ○ 施策\t<ul> ○ 周知"]),
            6,
            "text before the first ○ item",
        );
        assert_err(
            &doc(&["テーマ(\t<ul> ○ 施策\t<ul> ○ 周知"]),
            6,
            "unbalanced parenthesis in the theme",
        );
    }

    #[test]
    fn error_display_names_the_line() {
        assert_eq!(err(7, "duplicate theme").to_string(), "line 7: duplicate theme");
    }
}
