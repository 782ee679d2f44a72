//! CSV written for people: safe to open in Excel, in the encoding Excel in Japan reads. (Charts as SVG: [`svg`].)
//!
//! - A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'` (OWASP's rule
//!   against formula injection), so a spreadsheet shows it as text instead of running it. The member import
//!   removes that one `'` again, so an export edited and imported back is unchanged.
//! - `utf-8-bom` (the default) is what Excel on a Japanese Windows opens as UTF-8; without the mark it guesses
//!   Shift_JIS. `shift_jis` writes Windows-31J; a character it lacks is an error naming the row, never a `?`.
//! - Rows are encoded one at a time, so an export of millions of rows is streamed, not held.
//!
//! Below the command line and the web server, which both export: `outreach log export` writes to standard
//! output, `/audit/log.csv` into the response a batch of rows at a time.

pub mod svg;

use std::io::Write;

use clap::ValueEnum;
use encoding_rs::SHIFT_JIS;

use chrono_tz::Tz;

use crate::domain::ActionRecord;
use crate::domain::campaign::schedule::format_iso;
use crate::error::AppError;
use crate::store::LogEntry;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Encoding {
    #[value(name = "utf-8")]
    Utf8,
    #[default]
    #[value(name = "utf-8-bom")]
    Utf8Bom,
    #[value(name = "shift_jis")]
    ShiftJis,
}

impl Encoding {
    /// The `Content-Type` of a CSV download in this encoding, naming its real charset (IANA's names), so a
    /// browser or a program that reads the header decodes Shift_JIS as Shift_JIS.
    pub fn csv_content_type(self) -> &'static str {
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => "text/csv; charset=utf-8",
            Encoding::ShiftJis => "text/csv; charset=Shift_JIS",
        }
    }
}

/// Cells a spreadsheet would read as a formula start with one of these.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell as a spreadsheet shows it as text.
pub fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_START) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// A CSV writer for people (see the module's rules).
pub struct SafeCsv<W: Write> {
    out: W,
    encoding: Encoding,
    started: bool,
    /// Records written, the header included: the row a refusal names.
    row: usize,
}

impl<W: Write> SafeCsv<W> {
    pub fn new(out: W, encoding: Encoding) -> Self {
        Self {
            out,
            encoding,
            started: false,
            row: 0,
        }
    }

    pub fn write<I, S>(&mut self, cells: I) -> Result<(), AppError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut record = csv::Writer::from_writer(Vec::new());
        record
            .write_record(cells.into_iter().map(|c| neutralised(c.as_ref()).into_owned()))
            .map_err(|e| AppError::Io(e.to_string()))?;
        let text = record.into_inner().map_err(|e| AppError::Io(e.to_string()))?;
        self.row += 1;
        if !self.started {
            self.started = true;
            if self.encoding == Encoding::Utf8Bom {
                self.put(b"\xEF\xBB\xBF")?;
            }
        }
        match self.encoding {
            Encoding::Utf8 | Encoding::Utf8Bom => self.put(&text),
            Encoding::ShiftJis => {
                let text = String::from_utf8_lossy(&text);
                let (bytes, _, unmappable) = SHIFT_JIS.encode(&text);
                if unmappable {
                    let missing: String = text
                        .chars()
                        .filter(|c| SHIFT_JIS.encode(&c.to_string()).2)
                        .take(5)
                        .collect();
                    return Err(AppError::input(format!(
                        "row {}: Shift_JIS has no {missing:?}; export with --encoding utf-8-bom",
                        self.row
                    )));
                }
                self.put(&bytes)
            }
        }
    }

    /// The writer, e.g. to take the bytes written so far out of a `Vec`.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), AppError> {
        self.out.write_all(bytes).map_err(output_error)
    }
}

/// A failed write; a closed pipe is told apart, so the command line ends quietly.
pub fn output_error(e: std::io::Error) -> AppError {
    AppError::from_output(e)
}

/// The send log's columns, as both exports write them.
pub const LOG_COLUMNS: [&str; 17] = [
    "id",
    "at",
    "delivery_id",
    "attempt",
    "run_id",
    "campaign_id",
    "theme_slug",
    "duty",
    "channel",
    "recipient",
    "message_id",
    "template",
    "content_sha256",
    "smtp_code",
    "smtp_reply",
    "sender",
    "outcome",
];

/// One send-log row under [`LOG_COLUMNS`], its time in ISO 8601 with the zone's offset.
pub fn log_row(e: &LogEntry, tz: Tz) -> [String; 17] {
    [
        e.id.to_string(),
        format_iso(e.at, tz),
        e.delivery_id.to_string(),
        e.attempt.to_string(),
        e.run_id.to_string(),
        e.campaign_id.to_string(),
        e.theme_slug.clone(),
        e.duty.clone(),
        e.channel.clone(),
        e.recipient.clone(),
        e.message_id.clone(),
        e.template.clone(),
        e.content_sha256.clone(),
        e.smtp_code.map(|c| c.to_string()).unwrap_or_default(),
        e.smtp_reply.clone(),
        e.sender.clone(),
        e.outcome.as_str().to_owned(),
    ]
}

/// The staff-action log's columns, as both exports write them.
pub const ACTION_COLUMNS: [&str; 8] = [
    "id",
    "at",
    "actor_kind",
    "actor",
    "address",
    "action",
    "target",
    "summary",
];

/// One staff-action row under [`ACTION_COLUMNS`].
pub fn action_row(a: &ActionRecord, tz: Tz) -> [String; 8] {
    [
        a.id.to_string(),
        format_iso(a.at, tz),
        a.actor_kind.clone(),
        a.actor.clone(),
        a.address.clone(),
        a.action.clone(),
        a.target.clone(),
        a.summary.clone(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(encoding: Encoding, rows: &[&[&str]]) -> Result<Vec<u8>, AppError> {
        let mut out = Vec::new();
        let mut w = SafeCsv::new(&mut out, encoding);
        for row in rows {
            w.write(row.iter())?;
        }
        Ok(out)
    }

    #[test]
    fn formulas_become_text() {
        let out = written(
            Encoding::Utf8,
            &[&["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1", "-2", "\tx", "ok", "a=b"]],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "'=cmd|' /C calc'!A0,'@SUM(1+1),'+1,'-2,'\tx,ok,a=b\n"
        );
    }

    #[test]
    fn a_byte_order_mark_once_and_shift_jis_or_a_named_row() {
        let bom = written(Encoding::Utf8Bom, &[&["会社"], &["東京"]]).unwrap();
        assert_eq!(&bom[..3], b"\xEF\xBB\xBF");
        assert_eq!(String::from_utf8(bom[3..].to_vec()).unwrap(), "会社\n東京\n");
        let sjis = written(Encoding::ShiftJis, &[&["会社"], &["東京商工会議所"]]).unwrap();
        assert_eq!(SHIFT_JIS.decode(&sjis).0, "会社\n東京商工会議所\n");
        let err = written(Encoding::ShiftJis, &[&["会社"], &["ok"], &["🍣寿司"]]).unwrap_err();
        assert!(err.to_string().starts_with("row 3: Shift_JIS has no \"🍣\""), "{err}");
    }
}
