//! Helpers that write values for the pages: `{{num count}}` writes a count with thousands separators
//! (`12,345`), in the same way in Japanese and in English.

use handlebars::{Context, Handlebars, Helper, HelperDef, RenderContext, RenderError, ScopedJson};
use serde_json::Value;

use crate::export::svg::group_digits;

/// The `num` helper: an integer (or a string of one) with thousands separators; anything else as it is, and
/// nothing for a missing value. It returns a value, so handlebars escapes it like any other, and it can be
/// given to another helper: `{{t "imported" created=(num done.created)}}`.
pub(crate) struct Number;

impl HelperDef for Number {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let text = h.param(0).map(|p| written(p.value())).unwrap_or_default();
        Ok(ScopedJson::Derived(Value::String(text)))
    }
}

/// A value as the pages write it: integers grouped by thousands.
fn written(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => group_digits(i),
            (None, Some(u)) => grouped_text(&u.to_string()),
            _ => n.to_string(),
        },
        Value::String(s) => grouped_text(s),
        other => other.to_string(),
    }
}

/// A string of digits (with an optional minus) grouped; any other string unchanged.
fn grouped_text(s: &str) -> String {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + digits.len() / 3);
    if digits.len() < s.len() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn render(template: &str, data: &Value) -> String {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_helper("num", Box::new(Number));
        hb.register_helper("t", Box::new(super::super::catalogue::Translate));
        hb.render_template(template, data).expect("renders")
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        let data = json!({"a": 0, "b": 999, "c": 1000, "d": 12345, "e": -1234567, "f": u64::MAX, "g": "98765",
                          "h": "12 件", "i": null, "j": 1.5});
        assert_eq!(
            render("{{num a}}|{{num b}}|{{num c}}|{{num d}}|{{num e}}", &data),
            "0|999|1,000|12,345|-1,234,567"
        );
        assert_eq!(render("{{num f}}", &data), "18,446,744,073,709,551,615");
        assert_eq!(
            render("{{num g}}|{{num h}}|{{num i}}|{{num j}}", &data),
            "98,765|12 件||1.5"
        );
    }

    #[test]
    fn a_grouped_count_goes_into_a_message() {
        let data = json!({"lang": "ja", "done": {"created": 1234, "updated": 5, "unchanged": 0, "kept": 1000}});
        let text = render(
            r#"{{t "imported-created-new-updated-updated-unchanged" created=(num done.created) updated=(num done.updated) unchanged=(num done.unchanged) kept=(num done.kept)}}"#,
            &data,
        );
        assert!(
            text.contains("新規 1,234 件") && text.contains("配信停止のまま 1,000 件"),
            "{text}"
        );
    }
}
