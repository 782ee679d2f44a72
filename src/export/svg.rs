//! Charts drawn on the server as SVG text: no script, no inline style (the pages' Content-Security-Policy
//! forbids both), readable without colour — every value is written as a number, every row and column named —
//! and with a `<title>` and `<desc>` for screen readers. The same text is a page's inline figure or a file.
//!
//! Written by hand: it is a few elements, and every text that enters it goes through [`escape`] (the `svg`
//! crate escaped text nodes only from 0.15, bodoni/svg#76, and adds nothing else these charts need).

use std::fmt::Write;

/// A table of counts to draw: one row per thing counted (a theme), one column per period (a month).
#[derive(Debug, Clone)]
pub struct Grid {
    /// The chart's name (`<title>`) and what it shows, in words (`<desc>`).
    pub title: String,
    pub description: String,
    pub columns: Vec<String>,
    pub rows: Vec<GridRow>,
    /// A column to mark (the current month): its label is bold and underlined.
    pub marked_column: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct GridRow {
    pub label: String,
    /// One per column; missing ones count as 0.
    pub values: Vec<i64>,
}

/// `text` for SVG (XML) text or an attribute value in double quotes. Characters XML 1.0 cannot hold at all
/// (control characters other than tab and newline) are dropped: the text rules refuse them at input, and a
/// file with one would not open.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `1234567` as `1,234,567` (Japanese writes thousands the same way).
pub fn group_digits(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

const COLUMN: i64 = 46;
const LEFT: i64 = 24;
const BAR_HEIGHT: i64 = 32;
/// A row: its label (18), room for the tallest bar's value (16), the bars, a gap.
const ROW: i64 = 18 + 16 + BAR_HEIGHT + 10;
const HEAD: i64 = 30;
const FONT: &str = "system-ui, &quot;Hiragino Sans&quot;, &quot;Noto Sans JP&quot;, sans-serif";

/// The grid as rows of bars, one small chart per row on one scale (the largest value of all), each bar with
/// its value above it and the column names above and below: a reader without colour, or on paper, reads the
/// numbers. `id` prefixes the ids of `<title>` and `<desc>` (unique on the page that shows it).
pub fn bar_rows(grid: &Grid, id: &str) -> String {
    let columns = i64::try_from(grid.columns.len()).unwrap_or(0);
    let width = 2 * LEFT + columns * COLUMN;
    let rows = i64::try_from(grid.rows.len()).unwrap_or(0);
    let height = HEAD + rows * ROW + 24;
    let max = grid
        .rows
        .iter()
        .flat_map(|r| r.values.iter())
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let id = escape(id);
    let mut svg = String::new();
    // `write!` to a String cannot fail.
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\" aria-labelledby=\"{id}-title\" aria-describedby=\"{id}-desc\" \
         class=\"chart\" font-family=\"{FONT}\" font-size=\"12\" fill=\"#1a1a1a\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(&grid.title),
        escape(&grid.description)
    );
    column_labels(&mut svg, grid, 18);
    for (r, row) in grid.rows.iter().enumerate() {
        let top = HEAD + i64::try_from(r).unwrap_or(0) * ROW;
        let base = top + 18 + 16 + BAR_HEIGHT;
        let _ = write!(
            svg,
            "<g class=\"row\"><text x=\"{LEFT}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\" class=\"label\">{}</text>\
             <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#767676\" stroke-width=\"1\"/>",
            top + 14,
            escape(&row.label),
            width - LEFT
        );
        for c in 0..grid.columns.len() {
            let value = row.values.get(c).copied().unwrap_or(0);
            let x = LEFT + i64::try_from(c).unwrap_or(0) * COLUMN;
            // At least a pixel for any mail, so a small count is not drawn as none.
            let h = if value > 0 {
                (value * BAR_HEIGHT / max).max(1)
            } else {
                0
            };
            if h > 0 {
                let _ = write!(
                    svg,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\" fill=\"#0b4f8a\" class=\"bar\"/>",
                    x + 7,
                    base - h,
                    COLUMN - 14
                );
            }
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" class=\"value\"{}>{}</text>",
                x + COLUMN / 2,
                base - h - 3,
                if value == 0 { " fill=\"#595959\"" } else { "" },
                group_digits(value)
            );
        }
        svg.push_str("</g>");
    }
    column_labels(&mut svg, grid, HEAD + rows * ROW + 14);
    svg.push_str("</svg>");
    svg
}

/// The column names in a line at `y`, the marked one bold and underlined (not by colour alone).
fn column_labels(svg: &mut String, grid: &Grid, y: i64) {
    svg.push_str("<g class=\"columns\">");
    for (c, label) in grid.columns.iter().enumerate() {
        let x = LEFT + i64::try_from(c).unwrap_or(0) * COLUMN + COLUMN / 2;
        let mark = if grid.marked_column == Some(c) {
            " font-weight=\"bold\" text-decoration=\"underline\""
        } else {
            ""
        };
        let _ = write!(
            svg,
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"middle\"{mark}>{}</text>",
            escape(label)
        );
    }
    svg.push_str("</g>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(label: &str) -> Grid {
        Grid {
            title: "送信数 <月別>".into(),
            description: "A & B".into(),
            columns: vec!["4月".into(), "5月".into()],
            rows: vec![GridRow {
                label: label.into(),
                values: vec![1234, 0],
            }],
            marked_column: Some(1),
        }
    }

    #[test]
    fn every_text_is_escaped() {
        let svg = bar_rows(&grid("<script>alert(\"x\")</script>&'"), "c\"1");
        assert!(!svg.contains("<script"), "{svg}");
        assert!(
            svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"),
            "{svg}"
        );
        assert!(
            svg.contains("送信数 &lt;月別&gt;") && svg.contains("A &amp; B"),
            "{svg}"
        );
        assert!(svg.contains("id=\"c&quot;1-title\""), "{svg}");
        assert_eq!(escape("a\u{0}b\u{1b}c\td"), "abc\td");
    }

    #[test]
    fn values_are_written_and_nothing_is_styled_inline() {
        let svg = bar_rows(&grid("テレワークの推進"), "c");
        assert!(svg.contains(">1,234</text>") && svg.contains(">0</text>"), "{svg}");
        assert!(
            svg.contains("<title id=\"c-title\">") && svg.contains("<desc id=\"c-desc\">"),
            "{svg}"
        );
        assert!(!svg.contains("style="), "{svg}");
        assert_eq!(svg.matches("<rect").count(), 1, "no bar for 0: {svg}");
        assert!(
            svg.contains("font-weight=\"bold\" text-decoration=\"underline\">5月"),
            "{svg}"
        );
    }

    #[test]
    fn digits_are_grouped_by_three() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (1234567, "1,234,567"),
            (-12345, "-12,345"),
        ] {
            assert_eq!(group_digits(n), text);
        }
        assert_eq!(group_digits(i64::MIN), "-9,223,372,036,854,775,808");
    }
}
