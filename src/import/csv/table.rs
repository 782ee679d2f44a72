//! The file as records: decoded (see the encoding rule of the module documentation), split by the CSV reader
//! with each record's physical line, its header checked against the expected columns.

use std::collections::HashMap;

use encoding_rs::SHIFT_JIS;

use super::{Column, Excerpt, RowError, RowProblem, SourceEncoding, UTF8_BOM};

/// A data record with its fields trimmed and in the order of the expected
/// columns, or the reason it could not be read.
pub(super) struct RawRow {
    pub(super) line: usize,
    pub(super) fields: Result<Vec<String>, RowProblem>,
}

pub(super) struct Table {
    pub(super) rows: Vec<RawRow>,
    pub(super) encoding: SourceEncoding,
}

struct Decoded {
    text: String,
    encoding: SourceEncoding,
    /// 1-based physical lines that are not valid UTF-8 (only for UTF-8 input).
    bad_lines: Vec<usize>,
}

/// Applies the encoding rule of the module documentation.
fn decode(bytes: &[u8]) -> Decoded {
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return decode_utf8_lossy(rest, SourceEncoding::Utf8Bom);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Decoded {
            text: text.to_owned(),
            encoding: SourceEncoding::Utf8,
            bad_lines: Vec::new(),
        };
    }
    let some_line_is_utf8 = bytes
        .split(|&b| b == b'\n')
        .any(|line| !line.is_ascii() && std::str::from_utf8(line).is_ok());
    if !some_line_is_utf8 && let Some(text) = SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
        return Decoded {
            text: text.into_owned(),
            encoding: SourceEncoding::ShiftJis,
            bad_lines: Vec::new(),
        };
    }
    decode_utf8_lossy(bytes, SourceEncoding::Utf8)
}

/// Decodes as UTF-8, replacing invalid sequences (newlines, quotes and commas
/// survive, so the record structure is kept), and notes the broken lines.
fn decode_utf8_lossy(bytes: &[u8], encoding: SourceEncoding) -> Decoded {
    let bad_lines = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, line)| std::str::from_utf8(line).is_err())
        .map(|(i, _)| i + 1)
        .collect();
    Decoded {
        text: String::from_utf8_lossy(bytes).into_owned(),
        encoding,
        bad_lines,
    }
}

/// Maps byte offsets of the decoded text to physical 1-based lines.
///
/// The `csv` crate records a record's position where reading for it began,
/// i.e. before the line terminator of the previous record (for CRLF) and before
/// skipped blank lines, so its line number can be too small. We therefore take
/// its byte offset, skip the `\r`/`\n` bytes the reader skips, and count the
/// newlines before that.
struct LineIndex<'a> {
    text: &'a [u8],
    newlines: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a [u8]) -> Self {
        let newlines = text
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        LineIndex { text, newlines }
    }

    fn line(&self, pos: Option<&::csv::Position>) -> Option<usize> {
        let mut start = usize::try_from(pos?.byte()).ok()?;
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        Some(self.newlines.partition_point(|&nl| nl < start) + 1)
    }
}

/// A cell our exports (and careful staff) protected from spreadsheet formulas, `'=…`, `'+…`, `'-…`, `'@…`,
/// read as it was typed: the export's leading `'` is not part of the value.
fn unneutralised(field: &str) -> &str {
    match field.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => field,
    }
}

/// Decodes, splits into records, checks the header against `columns`, and
/// returns the data records.
pub(super) fn read_table(bytes: &[u8], columns: &'static [Column]) -> Result<Table, RowError> {
    let decoded = decode(bytes);
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(decoded.text.as_bytes());

    // (start line, fields or the CSV reader's message), blank records left out.
    let mut records: Vec<(usize, Result<Vec<String>, String>)> = Vec::new();
    let lines = LineIndex::new(decoded.text.as_bytes());
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = lines.line(record.position()).unwrap_or(1);
                let fields: Vec<String> = record.iter().map(|f| unneutralised(f.trim()).to_owned()).collect();
                if fields.iter().all(String::is_empty) {
                    continue;
                }
                records.push((line, Ok(fields)));
            }
            Err(e) => {
                // Not expected for in-memory UTF-8 input with flexible records;
                // report it on its row rather than give up on the file.
                let line = lines
                    .line(e.position())
                    .or_else(|| records.last().map(|(l, _)| l + 1))
                    .unwrap_or(1);
                let recoverable = matches!(
                    e.kind(),
                    ::csv::ErrorKind::Utf8 { .. } | ::csv::ErrorKind::UnequalLengths { .. }
                );
                records.push((line, Err(e.to_string())));
                if !recoverable {
                    break;
                }
            }
        }
    }

    let mut records = records.into_iter();
    let Some((header_line, header)) = records.next() else {
        return Err(RowError::new(1, RowProblem::EmptyFile { expected: columns }));
    };
    let header_is_broken = decoded.bad_lines.iter().any(|&l| l <= header_line);
    let header = header.map_err(|detail| {
        RowError::new(
            header_line,
            RowProblem::UnreadableHeader {
                detail,
                expected: columns,
            },
        )
    })?;
    let order = column_order(&header, columns).map_err(|mismatch| {
        RowError::new(
            header_line,
            RowProblem::InvalidHeader {
                header: Excerpt::of(&header.join(",")),
                undecodable: header_is_broken,
                expected: columns,
                missing: mismatch.missing,
                unexpected: mismatch.unexpected,
                duplicated: mismatch.duplicated,
            },
        )
    })?;

    let records: Vec<(usize, Result<Vec<String>, String>)> = records.collect();
    // Each broken line belongs to the last record starting at or before it.
    let mut broken: HashMap<usize, Vec<usize>> = HashMap::new();
    for &bad in &decoded.bad_lines {
        let idx = records.partition_point(|(start, _)| *start <= bad);
        if let Some(i) = idx.checked_sub(1) {
            broken.entry(i).or_default().push(bad);
        }
    }

    let rows = records
        .into_iter()
        .enumerate()
        .map(|(i, (line, fields))| {
            let fields = match broken.get(&i) {
                Some(bad) => Err(RowProblem::InvalidUtf8 {
                    record_line: line,
                    lines: bad.clone(),
                }),
                None => fields
                    .map_err(|detail| RowProblem::Unreadable { detail })
                    .and_then(|f| reorder(f, &order)),
            };
            RawRow { line, fields }
        })
        .collect();
    Ok(Table {
        rows,
        encoding: decoded.encoding,
    })
}

/// What is wrong with a header: the columns it lacks, the names it should not have (lower-cased), the columns it
/// names twice.
#[derive(Default)]
struct Mismatch {
    missing: Vec<Column>,
    unexpected: Vec<Excerpt>,
    duplicated: Vec<Column>,
}

/// For each expected column, its index in the header; or what is wrong.
fn column_order(header: &[String], columns: &[Column]) -> Result<Vec<usize>, Mismatch> {
    let names: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
    let mismatch = Mismatch {
        missing: columns
            .iter()
            .copied()
            .filter(|c| !names.iter().any(|n| n == c.as_str()))
            .collect(),
        unexpected: names
            .iter()
            .filter(|n| !columns.iter().any(|c| c.as_str() == n.as_str()))
            .map(|n| Excerpt::of(n))
            .collect(),
        duplicated: columns
            .iter()
            .copied()
            .filter(|c| names.iter().filter(|n| *n == c.as_str()).count() > 1)
            .collect(),
    };
    if !(mismatch.missing.is_empty() && mismatch.unexpected.is_empty() && mismatch.duplicated.is_empty()) {
        return Err(mismatch);
    }
    columns
        .iter()
        .map(|c| {
            names.iter().position(|n| n == c.as_str()).ok_or_else(|| Mismatch {
                missing: vec![*c],
                ..Mismatch::default()
            })
        })
        .collect()
}

fn reorder(fields: Vec<String>, order: &[usize]) -> Result<Vec<String>, RowProblem> {
    let count = RowProblem::FieldCount {
        expected: order.len(),
        found: fields.len(),
    };
    if fields.len() != order.len() {
        return Err(count);
    }
    order
        .iter()
        .map(|&i| fields.get(i).cloned().ok_or_else(|| count.clone()))
        .collect()
}
