//! Bad input refused by name, through the real binary on SQLite and PostgreSQL: a member or advisor file with a
//! control character or an over-long field is refused with its line and field and nothing is stored; an address
//! whose domain is internationalised is stored in its ASCII form and is one member under either spelling.

use crate::common;

use common::TestEnv;

const HEADER: &str = "email,company,contact_name,themes,locale\n";

fn ok(env: &TestEnv, args: &[&str]) -> String {
    let (code, out, err) = env.run(args);
    assert_eq!(code, 0, "outreach {args:?} failed: {err}");
    out
}

/// Imports `body` (after the member header) as `name` and expects it refused whole, with `expected` on stderr.
fn refused(env: &TestEnv, name: &str, body: &str, expected: &str) {
    let file = env.write(name, format!("{HEADER}{body}"));
    let (code, _, err) = env.run(&["members", "import", &file]);
    assert_eq!(code, 1, "{name}: {err}");
    assert!(err.contains(&format!("{name}: {expected}")), "{name}: {err}");
    assert!(err.contains("nothing imported"), "{name}: {err}");
}

both_backends!(
    a_control_character_or_an_over_long_field_is_refused_and_nothing_stored,
    |env: TestEnv| async move {
        ok(&env, &["init"]);
        let good = "b@example.co.jp,株式会社ビー,担当 二,telework,ja\n";
        let cases = [
            (
                "nul.csv",
                format!("a@example.co.jp,株式会社\0ヌル,担当 一,telework,ja\n{good}"),
                "line 2: company: control character U+0000 is not allowed",
            ),
            (
                "crlf.csv",
                format!("a@example.co.jp,\"株式会社エー\r\nBcc: x@evil.example\",担当 一,telework,ja\n{good}"),
                "line 2: company: control character U+000D is not allowed",
            ),
            (
                "long.csv",
                format!(
                    "a@example.co.jp,{},担当 一,telework,ja\n{good}",
                    "株".repeat(10 * 1024 * 1024)
                ),
                "line 2: company: 10485760 characters, longer than the limit of 200",
            ),
        ];
        for (name, body, expected) in cases {
            refused(&env, name, &body, expected);
            assert_eq!(ok(&env, &["members", "list"]), "", "nothing may be stored from {name}");
        }

        let file = env.write(
            "advisors.csv",
            "email,name,branch\nx@example.co.jp,鈴木\0一郎,中央支部\n",
        );
        let (code, _, err) = env.run(&["advisors", "import", &file]);
        assert_eq!(code, 1, "{err}");
        assert!(
            err.contains("advisors.csv: line 2: name: control character U+0000 is not allowed"),
            "{err}"
        );
        assert_eq!(ok(&env, &["advisors", "list"]), "");
    }
);

both_backends!(
    an_idn_domain_is_stored_in_ascii_form_and_is_one_member,
    |env: TestEnv| async move {
        ok(&env, &["init"]);
        let idn = env.write(
            "idn.csv",
            format!("{HEADER}user@例え.jp,株式会社例え,担当,telework,ja\n"),
        );
        let out = ok(&env, &["members", "import", &idn]);
        assert!(out.contains("1 created"), "{out}");
        let list = ok(&env, &["members", "list"]);
        assert!(list.starts_with("user@xn--r8jz45g.jp\t"), "{list}");

        // The ASCII spelling is the same member, and so is the Unicode one again.
        let ascii = env.write(
            "ascii.csv",
            format!("{HEADER}user@xn--r8jz45g.jp,株式会社例え,担当,telework,ja\n"),
        );
        for file in [&ascii, &idn] {
            let out = ok(&env, &["members", "import", file]);
            assert!(out.contains("0 created, 0 updated, 1 unchanged"), "{out}");
        }

        // Staff may type either spelling on the command line.
        ok(&env, &["members", "unsubscribe", "User@例え.JP", "--theme", "telework"]);
        assert_eq!(ok(&env, &["members", "list", "--theme", "telework"]), "");
        assert!(ok(&env, &["members", "show", "user@xn--r8jz45g.jp"]).contains("unsubscribed"));

        // A part before @ that is not ASCII would be deferred for ever: refused with the reason.
        refused(
            &env,
            "utf8.csv",
            "ユーザー@example.jp,株式会社ユー,担当,telework,ja\n",
            "line 2: email: the part before @ is not ASCII; most mail servers cannot deliver to it (no SMTPUTF8)",
        );
        assert_eq!(ok(&env, &["members", "list"]).lines().count(), 1);
    }
);
