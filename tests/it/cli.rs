//! The command line as staff use it: the real binary, on SQLite and PostgreSQL, with every bad input's
//! message and exit code.

use crate::common;

use common::TestEnv;

const PLAN: &str = include_str!("../../config/plans/fy2020.tsv");

fn ok(env: &TestEnv, args: &[&str]) -> String {
    let (code, out, err) = env.run(args);
    assert_eq!(code, 0, "outreach {args:?} failed: {err}");
    out
}

both_backends!(init_then_plan_show_lists_seven_themes, |env: TestEnv| async move {
    ok(&env, &["init"]);
    let json: serde_json::Value = serde_json::from_str(&ok(&env, &["plan", "show", "--format", "json"])).unwrap();
    let themes = json["themes"].as_array().unwrap();
    let slugs: Vec<&str> = themes.iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(
        slugs,
        [
            "work-style-reform",
            "telework",
            "smooth-biz",
            "life-work-balance",
            "women-advancement",
            "volunteer-leave",
            "sme-talent"
        ]
    );
    for theme in themes {
        let duties = theme["duties"].as_array().unwrap();
        assert!(!duties.is_empty());
        assert_eq!(
            duties[0]["channels"],
            serde_json::json!(["newsletter", "tosho-shimbun", "advisor-handout"])
        );
    }
    let table = ok(&env, &["plan", "show"]);
    assert!(table.contains("channels: newsletter, tosho-shimbun, advisor-handout"));
    assert!(table.contains("no mail channel"));
    // Importing the same file again changes nothing; init again does nothing.
    let file = env.write("plan.tsv", PLAN);
    assert!(ok(&env, &["plan", "import", &file, "--fiscal-year", "2020"]).contains("unchanged"));
    assert!(!ok(&env, &["init"]).contains("imported"));
});

both_backends!(malformed_plan_is_rejected_whole, |env: TestEnv| async move {
    // A data row with two cells instead of three, on line 8.
    let mut lines: Vec<String> = PLAN.lines().map(str::to_owned).collect();
    let cells: Vec<&str> = lines[7].split('\t').collect();
    lines[7] = format!("{}\t{}", cells[0], cells[1]);
    let file = env.write("broken.tsv", lines.join("\n"));
    let (code, _, err) = env.run(&["plan", "import", &file, "--fiscal-year", "2020"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("broken.tsv: line 8:"), "{err}");
    // Nothing half-written: no plan at all.
    let (code, _, err) = env.run(&["plan", "show", "--fiscal-year", "2020"]);
    assert_eq!(code, 1);
    assert!(err.contains("no plan for fiscal year 2020"), "{err}");
    // The title names 2020; another year is refused.
    let good = env.write("plan.tsv", PLAN);
    let (code, _, err) = env.run(&["plan", "import", &good, "--fiscal-year", "2021"]);
    assert_eq!(code, 1);
    assert!(err.contains("line 3: the title says fiscal year 2020"), "{err}");
    // Invalid UTF-8.
    let bad = env.write("latin1.tsv", b"\n\n\xe9t\xe9\n");
    let (code, _, err) = env.run(&["plan", "import", &bad, "--fiscal-year", "2020"]);
    assert_eq!(code, 1);
    assert!(err.contains("line 3: invalid UTF-8"), "{err}");
    // Another file for a year that has a plan needs --replace.
    ok(&env, &["plan", "import", &good, "--fiscal-year", "2020"]);
    let changed = env.write(
        "changed.tsv",
        PLAN.replace("テレワーク推進デスクの設置・周知協力", "テレワーク推進デスクの設置"),
    );
    let (code, _, err) = env.run(&["plan", "import", &changed, "--fiscal-year", "2020"]);
    assert_eq!(code, 1);
    assert!(err.contains("--replace"), "{err}");
    assert!(
        ok(
            &env,
            &["plan", "import", &changed, "--fiscal-year", "2020", "--replace"]
        )
        .contains("replaced")
    );
    assert!(ok(&env, &["plan", "show"]).contains("テレワーク推進デスクの設置\n"));
});

const MEMBERS: &str = "email,company,contact_name,themes,locale\n\
    a@example.co.jp,株式会社エー,青木 一郎,telework;sme-talent,ja\n\
    b@example.co.jp,ビー商事,馬場 二郎,*,\n\
    c@example.co.jp,シー工業,千葉 三郎,women-advancement,en\n";

both_backends!(members_import_all_or_nothing, |env: TestEnv| async move {
    ok(&env, &["init"]);
    let mut bytes = "email,company,contact_name,themes,locale\n\
         good@example.co.jp,株式会社グッド,山田 太郎,telework,ja\n\
         not-an-address,株式会社バッド,山田 花子,telework,ja\n\
         x@example.co.jp,株式会社エックス,佐藤 次郎,golf,ja\n\
         GOOD@example.co.jp,株式会社グッド,山田 太郎,telework,ja\n\
         y@example.co.jp,株式会社ワイ,鈴木 三郎,telework\n\
         z@example.co.jp,株式会社ゼット,高橋 四郎,telework,fr\n\
         w@example.co.jp,株式会社ダブリュー,田中 五郎,telework,ja,extra\n"
        .as_bytes()
        .to_vec();
    // A row of bytes that are not UTF-8 (and a UTF-8 file around it, so not Shift_JIS either).
    bytes.extend_from_slice(b"v@example.co.jp,\xff\xfe\xfd,broken,telework,ja\n");
    let bad = env.write("bad.csv", bytes);
    let (code, _, err) = env.run(&["members", "import", &bad]);
    assert_eq!(code, 1, "{err}");
    for expected in [
        "line 3: ",
        "not-an-address",
        "line 4: ",
        "unknown theme \"golf\"",
        "line 5: duplicate address",
        "(first on line 2)",
        "line 6: expected 5 fields, found 4",
        "line 7: ",
        "unknown locale",
        "line 8: expected 5 fields, found 6",
        "line 9: invalid UTF-8",
        "7 bad rows; nothing imported",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in: {err}");
    }
    assert_eq!(
        ok(&env, &["members", "list"]),
        "",
        "nothing may be imported from a bad file"
    );

    // --dry-run writes nothing, --skip-invalid imports the good row.
    assert!(ok(&env, &["members", "import", &bad, "--dry-run", "--skip-invalid"]).contains("dry run"));
    assert_eq!(ok(&env, &["members", "list"]), "");
    let out = ok(&env, &["members", "import", &bad, "--skip-invalid"]);
    assert!(out.contains("1 created") && out.contains("7 rejected"), "{out}");
    assert_eq!(ok(&env, &["members", "list"]).lines().count(), 1);

    // Missing file.
    let (code, _, err) = env.run(&["members", "import", "/nonexistent/members.csv"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/members.csv"), "{err}");
    // Bad header.
    let header = env.write("header.csv", "mail,company\nx@example.org,X\n");
    let (code, _, err) = env.run(&["members", "import", &header]);
    assert_eq!(code, 1);
    assert!(
        err.contains("line 1:") && err.contains("email,company,contact_name,themes,locale"),
        "{err}"
    );
});

both_backends!(
    members_reimport_updates_and_keeps_unsubscribes,
    |env: TestEnv| async move {
        ok(&env, &["init"]);
        let file = env.write("members.csv", MEMBERS);
        assert!(ok(&env, &["members", "import", &file]).contains("3 created"));
        assert_eq!(ok(&env, &["members", "list", "--theme", "telework"]).lines().count(), 2);
        ok(
            &env,
            &["members", "unsubscribe", "A@example.co.jp", "--theme", "telework"],
        );
        // Re-import by address, case-insensitively, with a changed company name.
        let again = env.write(
            "again.csv",
            MEMBERS.replace("a@example.co.jp,株式会社エー", "A@Example.co.jp,株式会社エー改"),
        );
        let out = ok(&env, &["members", "import", &again]);
        assert!(out.contains("0 created, 1 updated, 2 unchanged"), "{out}");
        assert!(out.contains("left unsubscribed from telework"), "{out}");
        let list = ok(&env, &["members", "list"]);
        assert_eq!(list.lines().count(), 3, "{list}");
        assert!(list.contains("株式会社エー改"));
        let telework = ok(&env, &["members", "list", "--theme", "telework"]);
        assert!(
            !telework.contains("example.co.jp\t株式会社エー改"),
            "unsubscribed member came back: {telework}"
        );
        let history = ok(&env, &["members", "show", "a@example.co.jp"]);
        assert!(history.contains("themes: sme-talent"), "{history}");
        for expected in [
            "created (by import)",
            "subscribed telework (by import)",
            "unsubscribed telework (by staff)",
            "updated (by import)",
        ] {
            assert!(history.contains(expected), "missing {expected:?}: {history}");
        }
        let (code, _, err) = env.run(&["members", "show", "nobody@example.co.jp"]);
        assert_eq!(
            (code, err.contains("no member nobody@example.co.jp")),
            (1, true),
            "{err}"
        );
        let export = ok(&env, &["members", "export"]);
        assert!(export.starts_with("\u{feff}email,company,contact_name,themes,locale,status\n"));
        assert_eq!(export.lines().count(), 4);
    }
);

both_backends!(excel_encodings_are_read, |env: TestEnv| async move {
    ok(&env, &["init"]);
    let (sjis, _, failed) = encoding_rs::SHIFT_JIS.encode(MEMBERS);
    assert!(!failed);
    let file = env.write("sjis.csv", sjis.as_ref());
    assert!(ok(&env, &["members", "import", &file]).contains("3 created"));
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(MEMBERS.replace("ビー商事", "ビー商事BOM").as_bytes());
    let file = env.write("bom.csv", bom);
    ok(&env, &["members", "import", &file]);
    let list = ok(&env, &["members", "list"]);
    assert!(list.contains("株式会社エー") && list.contains("ビー商事BOM"), "{list}");
});

both_backends!(advisors_import, |env: TestEnv| async move {
    ok(&env, &["init"]);
    let file = env.write(
        "advisors.csv",
        "email,name,branch\nsato@tokyo-cci.example,佐藤 花子,中央支部\n",
    );
    assert!(ok(&env, &["advisors", "import", &file]).contains("1 created"));
    assert!(ok(&env, &["advisors", "import", &file]).contains("1 unchanged"));
    let bad = env.write(
        "bad.csv",
        "email,name,branch\nsato@tokyo-cci.example,,中央支部\nbroken,鈴木,北支部\n",
    );
    let (code, _, err) = env.run(&["advisors", "import", &bad]);
    assert_eq!(code, 1);
    assert!(err.contains("line 2:") && err.contains("line 3:"), "{err}");
    assert_eq!(ok(&env, &["advisors", "list"]).lines().count(), 1);
});

both_backends!(campaigns_are_checked_at_create, |env: TestEnv| async move {
    ok(&env, &["init"]);
    let create = |schedule: &[&str]| env.create_campaign("telework", "newsletter", schedule);
    let (code, _, err) = create(&["--cron", "0 9 * *"]);
    assert_eq!((code, err.contains("expected 5 fields")), (1, true), "{err}");
    let (code, _, err) = create(&[
        "--cron",
        "0 9 * * MON#1",
        "--from",
        "2020-04-01",
        "--until",
        "2021-03-31",
    ]);
    assert_eq!((code, err.contains("never fires")), (1, true), "{err}");
    let (code, _, err) = create(&["--at", "2020-06-01T09:00"]);
    assert_eq!((code, err.contains("never fires")), (1, true), "{err}");
    let (code, _, err) = create(&["--at", "tomorrow"]);
    assert_eq!((code, err.contains("--at")), (1, true), "{err}");
    let (code, _, err) = env.create_campaign("golf", "newsletter", &["--cron", "0 9 * * *"]);
    assert_eq!((code, err.contains("unknown theme \"golf\"")), (1, true), "{err}");
    let (code, _, err) = env.create_campaign("telework", "tosho-shimbun", &["--cron", "0 9 * * *"]);
    // Configuration, not input: exit 2, naming the key.
    assert_eq!(
        (
            code,
            err.contains("tosho_shimbun.editorial_desk") && err.contains("editorial desk")
        ),
        (2, true),
        "{err}"
    );
    // An unknown channel is bad input like an unknown theme (clap's own usage code would be 2).
    let (code, _, err) = env.create_campaign("telework", "fax", &["--cron", "0 9 * * *"]);
    assert_eq!((code, err.contains("fax")), (1, true), "{err}");

    let (code, id, err) = env.create_campaign("telework", "newsletter", &["--cron", "0 9 * * MON#1"]);
    assert_eq!(code, 0, "{err}");
    let id = id.trim();
    let show = ok(&env, &["campaign", "show", id]);
    assert_eq!(
        show.lines()
            .filter(|l| l.starts_with("  20") && l.contains("09:00:00 JST"))
            .count(),
        5,
        "{show}"
    );
    ok(&env, &["campaign", "pause", id]);
    let (code, _, err) = env.run(&["campaign", "pause", id]);
    assert_eq!((code, err.contains("is paused")), (1, true), "{err}");
    ok(&env, &["campaign", "resume", id]);
    ok(&env, &["campaign", "cancel", id]);
    assert!(ok(&env, &["campaign", "list"]).contains("cancelled"));
    let (code, _, err) = env.run(&["campaign", "show", "999"]);
    assert_eq!((code, err.contains("no campaign 999")), (1, true), "{err}");
    // The bounds a campaign was created with are shown.
    let (code, id, err) = env.create_campaign(
        "telework",
        "newsletter",
        &["--cron", "0 9 * * *", "--from", "2030-04-01", "--until", "2031-03-31"],
    );
    assert_eq!(code, 0, "{err}");
    let show = ok(&env, &["campaign", "show", id.trim()]);
    assert!(
        show.contains("fires only: from 2030-04-01 00:00:00 JST until 2031-03-31 23:59:59 JST"),
        "{show}"
    );
});

#[tokio::test]
async fn configuration_errors_exit_2_naming_the_key() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    env.set("OUTREACH_SMTP__PORT", "seventy");
    let (code, _, err) = env.run(&["plan", "show"]);
    assert_eq!(code, 2);
    assert!(err.contains("smtp.port"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    let env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    let (code, _, err) = env.run(&["--config", "/nonexistent.toml", "plan", "show"]);
    assert_eq!((code, err.contains("--config")), (2, true), "{err}");
    let bad = env.write("site.toml", "[schedule]\ncatch_up = \"sometimes\"\n");
    let (code, _, err) = env.run(&["--config", &bad, "plan", "show"]);
    assert_eq!((code, err.contains("schedule.catch_up")), (2, true), "{err}");
}

#[tokio::test]
async fn template_with_unknown_variable_fails_with_file_and_line() {
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    let dir = env.path().join("templates");
    copy_dir(&common::repo().join("templates/email"), &dir);
    let text = dir.join("newsletter/telework/text.hbs");
    let mut body = std::fs::read_to_string(&text).unwrap();
    body.insert_str(0, "\n\n{{recipient.nickname}}\n");
    std::fs::write(&text, body).unwrap();
    env.set("OUTREACH_TEMPLATES__DIR", dir.display().to_string());
    assert_eq!(env.run(&["init"]).0, 0);
    let (code, _, err) = env.run(&["template", "check"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("newsletter/telework/text.hbs:3"), "{err}");
    assert!(err.contains("nickname"), "{err}");
    // A campaign whose mail does not render is refused when it is created, not when it is due.
    let (code, _, err) = env.create_campaign("telework", "newsletter", &["--cron", "0 9 * * *"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("does not render") && err.contains("text.hbs:3"), "{err}");
    assert_eq!(env.run(&["campaign", "list"]).1, "", "nothing stored");
    // The shipped templates pass.
    let env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    assert_eq!(env.run(&["init"]).0, 0);
    let (code, out, err) = env.run(&["template", "check"]);
    assert_eq!(code, 0, "{err}");
    // 21 Japanese mails (7 themes × 3 channels) and 7 English newsletters.
    assert!(out.contains("28 mails"), "{out}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

both_backends!(
    exports_open_safely_in_excel_and_import_back,
    |env: TestEnv| async move {
        ok(&env, &["init"]);
        let members = "email,company,contact_name,themes,locale\n\
                   evil@example.co.jp,=cmd|' /C calc'!A0,@SUM(1+1),telework,ja\n\
                   jp@example.co.jp,株式会社東京テスト,山田 太郎,telework;sme-talent,ja\n\
                   en@example.co.jp,Tokyo Test Ltd.,John Smith,*,en\n";
        let file = env.write("members.csv", members);
        assert!(ok(&env, &["members", "import", &file]).contains("3 created"));

        // Formulas come out as text; the default is UTF-8 with a byte order mark, for Excel in Japan.
        let export = ok(&env, &["members", "export"]);
        assert!(export.starts_with('\u{feff}'), "{export:?}");
        assert!(export.contains(",'=cmd|' /C calc'!A0,'@SUM(1+1),"), "{export}");
        assert!(!export.contains(",=") && !export.contains(",@"), "{export}");

        // Edited and imported back, in either encoding Excel writes: nothing changes.
        for encoding in ["utf-8-bom", "shift_jis"] {
            let (code, bytes, err) = env.run_bytes(&["members", "export", "--for-import", "--encoding", encoding]);
            assert_eq!(code, 0, "{err}");
            if encoding == "shift_jis" {
                let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
                assert!(!bad && text.contains("株式会社東京テスト"), "{text}");
            }
            let file = env.write(&format!("back-{encoding}.csv"), &bytes);
            let report = ok(&env, &["members", "import", &file]);
            assert!(
                report.contains("0 created, 0 updated, 3 unchanged"),
                "{encoding}: {report}"
            );
        }
        let list = ok(&env, &["members", "list"]);
        assert!(
            list.contains("=cmd|' /C calc'!A0\t@SUM(1+1)"),
            "stored as typed: {list}"
        );

        // A character Shift_JIS lacks is an error naming the row, never a `?`.
        let file = env.write(
            "emoji.csv",
            "email,company,contact_name,themes,locale\nsushi@example.co.jp,寿司🍣株式会社,担当,telework,ja\n",
        );
        ok(&env, &["members", "import", &file]);
        let (code, _, err) = env.run_bytes(&["members", "export", "--encoding", "shift_jis"]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("Shift_JIS has no \"🍣\""), "{err}");

        // The send log and the action log export the same way, with ISO 8601 times.
        let actions = ok(&env, &["actions", "list", "--format", "csv", "--encoding", "utf-8"]);
        let mut reader = csv::Reader::from_reader(actions.as_bytes());
        let at = reader.headers().unwrap().iter().position(|h| h == "at").unwrap();
        let first = reader.records().next().unwrap().unwrap();
        assert!(
            first[at].ends_with("+09:00") && first[at].contains('T'),
            "{}",
            &first[at]
        );
    }
);

both_backends!(
    a_star_member_gets_the_themes_known_at_import_only,
    |env: TestEnv| async move {
        ok(&env, &["init"]);
        let file = env.write(
            "star.csv",
            "email,company,contact_name,themes,locale\nstar@example.co.jp,株式会社星,担当,*,ja\n",
        );
        ok(&env, &["members", "import", &file]);
        let themes = |env: &TestEnv| -> usize {
            let show = ok(env, &["members", "show", "star@example.co.jp"]);
            let line = show.lines().find(|l| l.starts_with("themes: ")).unwrap().to_owned();
            line.split(", ").count()
        };
        assert_eq!(themes(&env), 7);
        // A later plan adds a theme: the member is not subscribed to it without asking.
        let mut lines: Vec<String> = PLAN
            .replacen("(2020)", "(2021)", 1)
            .lines()
            .map(str::to_owned)
            .collect();
        let row = lines[7].replacen(lines[7].split('\t').next().unwrap(), "新しい取組の推進", 1);
        lines.push(row);
        let file = env.write("fy2021.tsv", lines.join("\n"));
        ok(&env, &["plan", "import", &file, "--fiscal-year", "2021"]);
        let slugs: serde_json::Value = serde_json::from_str(&ok(&env, &["plan", "show", "--format", "json"])).unwrap();
        assert_eq!(
            slugs["themes"].as_array().unwrap().len(),
            8,
            "the new plan has the new theme"
        );
        assert_eq!(themes(&env), 7);
        // A file imported after the new plan reads `*` then: it names the eight themes.
        let file = env.write(
            "star2.csv",
            "email,company,contact_name,themes,locale\nstar@example.co.jp,株式会社星,担当,*,ja\n",
        );
        ok(&env, &["members", "import", &file]);
        assert_eq!(themes(&env), 8);
    }
);

both_backends!(
    what_does_not_exist_is_refused_and_repeats_record_nothing,
    |env: TestEnv| async move {
        ok(&env, &["init"]);
        let file = env.write(
            "m.csv",
            "email,company,contact_name,themes,locale\nm@example.co.jp,株式会社エム,担当,telework;sme-talent,ja\n",
        );
        ok(&env, &["members", "import", &file]);
        let refused = |args: &[&str], says: &str| {
            let (code, out, err) = env.run(args);
            assert_eq!((code, out.as_str()), (1, ""), "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
        };
        let actions = || ok(&env, &["actions", "list"]).lines().count();
        let before = actions();
        refused(
            &["members", "unsubscribe", "m@example.co.jp", "--theme", "nope"],
            "unknown theme \"nope\" (known: work-style-reform, telework,",
        );
        refused(&["members", "list", "--theme", "nope"], "unknown theme \"nope\"");
        refused(&["log", "list", "--campaign", "999"], "no campaign 999");
        refused(
            &["log", "export", "--format", "csv", "--theme", "nope"],
            "unknown theme \"nope\"",
        );
        refused(&["members", "suppress", "m@example.co.jp", "--reason", " "], "--reason");
        refused(
            &[
                "campaign",
                "create",
                "--name",
                " ",
                "--theme",
                "telework",
                "--channel",
                "newsletter",
                "--cron",
                "0 9 * * *",
            ],
            "--name",
        );
        refused(
            &["members", "unsubscribe", "nobody@example.co.jp"],
            "no member nobody@example.co.jp",
        );
        assert_eq!(actions(), before, "nothing refused is recorded");

        // A change made twice is recorded once, and the second time says so.
        let history = || ok(&env, &["members", "show", "m@example.co.jp"]).lines().count();
        let out = ok(
            &env,
            &["members", "unsubscribe", "m@example.co.jp", "--theme", "telework"],
        );
        assert!(out.contains("unsubscribed from telework"), "{out}");
        let (events, logged) = (history(), actions());
        let out = ok(
            &env,
            &["members", "unsubscribe", "m@example.co.jp", "--theme", "telework"],
        );
        assert!(
            out.contains("already unsubscribed from telework; nothing changed"),
            "{out}"
        );
        ok(
            &env,
            &["members", "suppress", "m@example.co.jp", "--reason", "宛先不明"],
        );
        let (events2, logged2) = (history(), actions());
        let out = ok(
            &env,
            &["members", "suppress", "m@example.co.jp", "--reason", "宛先不明"],
        );
        assert!(out.contains("already suppressed; nothing changed"), "{out}");
        assert_eq!(
            (events2, logged2),
            (events + 1, logged + 1),
            "the first suppression only"
        );
        assert_eq!((history(), actions()), (events2, logged2), "the repeats left no trace");
    }
);

#[tokio::test]
async fn a_closed_output_ends_quietly() {
    use std::io::Read;
    let env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    ok(&env, &["init"]);
    let rows: String = (0..3000)
        .map(|i| format!("m{i}@example.co.jp,株式会社{i},担当,*,ja\n"))
        .collect();
    let file = env.write("many.csv", format!("email,company,contact_name,themes,locale\n{rows}"));
    ok(&env, &["members", "import", &file]);
    // Like `outreach members list | head -1`: read one line, then close the pipe.
    let mut child = env
        .command(&["members", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let status = child.wait().unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(
        (status.code(), err.as_str()),
        (Some(0), ""),
        "a closed pipe is no error"
    );
}

/// A database that cannot be used is named with the driver's reason, at once, in one line (exit 3).
#[tokio::test]
async fn a_database_that_cannot_be_opened_is_named_with_its_cause() {
    let mut cases = Vec::new();
    let env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    let junk = env.write("junk.db", "this is a text file, not SQLite ".repeat(200));
    cases.push((format!("sqlite://{junk}"), "file is not a database"));
    cases.push(("postgres://outreach:secret@127.0.0.1:1/test".to_owned(), "refused"));
    if let Ok(pg) = std::env::var("OUTREACH_TEST_POSTGRES_URL") {
        let (base, _) = pg.rsplit_once('/').unwrap();
        cases.push((format!("{base}/no_such_database"), "does not exist"));
    }
    for (url, cause) in cases {
        let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
        env.set("OUTREACH_DATABASE__URL", url.as_str());
        let (code, _, err) = env.run(&["plan", "show"]);
        assert_eq!(code, 3, "{url}: {err}");
        assert!(
            err.contains("cannot open the database") && err.contains(cause),
            "{url}: {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line, no stack of retries: {err}");
        assert!(!err.contains("secret"), "the password is never printed: {err}");
    }
}

#[tokio::test]
async fn logs_say_where_things_are_and_how_runs_end() {
    use std::io::{BufRead, BufReader};
    let mut env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    env.set("OUTREACH_LOG", "info");
    ok(&env, &["init"]);
    let file = env.write(
        "m.csv",
        "email,company,contact_name,themes,locale\nlog@example.co.jp,株式会社ログ,担当,telework,ja\n",
    );
    ok(&env, &["members", "import", &file]);
    let (code, id, err) = env.create_campaign("telework", "newsletter", &["--cron", "0 9 * * *"]);
    assert_eq!(code, 0, "{err}");
    let id = id
        .split_whitespace()
        .find_map(|w| w.parse::<i64>().ok())
        .unwrap()
        .to_string();
    ok(&env, &["campaign", "send-now", &id]);

    // JSON lines for a log collector: the run's end, with its counts.
    env.set("OUTREACH_LOG_FORMAT", "json");
    let (code, _, err) = env.run(&["send-due"]);
    assert_eq!(code, 0, "{err}");
    let finished: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|l| l["fields"]["message"] == "run finished")
        .collect();
    assert_eq!(finished.len(), 1, "{err}");
    assert_eq!(
        (
            finished[0]["fields"]["sent"].as_i64(),
            finished[0]["fields"]["failed"].as_i64()
        ),
        (Some(1), Some(0))
    );

    // Text for a person, without colour codes when standard error is not a terminal; the start line says
    // which database, where mail goes, the data folder and the version.
    env.set("OUTREACH_LOG_FORMAT", "text");
    let mut serve = env
        .command(&["serve"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(serve.stderr.take().unwrap());
    let start = stderr
        .lines()
        .map(|l| l.unwrap())
        .find(|l| l.contains("serving"))
        .unwrap();
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(!start.contains('\u{1b}'), "no escape codes: {start:?}");
    for part in [
        &format!("version={}", env!("CARGO_PKG_VERSION")),
        "database=sqlite://",
        "mail=outbox ",
        &format!("data={}", env.path().join("data").display()),
    ] {
        assert!(start.contains(part), "{part} in {start}");
    }
}

#[test]
fn every_command_and_option_says_what_it_is_for() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() {
                missing.push(path.clone());
            }
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if !matches!(id, "help" | "version") && arg.get_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            walk(sub, &path, missing);
        }
    }
    let mut missing = Vec::new();
    walk(&outreach::cli::Cli::command(), "outreach", &mut missing);
    assert!(missing.is_empty(), "without a description: {missing:?}");

    // `campaign create --help` names every configured theme and gives the two examples.
    let mut cli = outreach::cli::Cli::command();
    let create = cli
        .find_subcommand_mut("campaign")
        .unwrap()
        .find_subcommand_mut("create")
        .unwrap();
    let help = create.render_long_help().to_string();
    let settings = outreach::config::Settings::load_from(None, Vec::new()).unwrap();
    for theme in &settings.themes {
        assert!(help.contains(&theme.slug), "{} missing from:\n{help}", theme.slug);
    }
    assert!(
        help.contains("--at 2020-06-01T09:00") && help.contains("MON#1"),
        "{help}"
    );
}

#[tokio::test]
async fn a_refused_file_is_named_and_its_header_shortened() {
    let env = TestEnv::new(common::Db::Sqlite).await.unwrap();
    ok(&env, &["init"]);
    let empty = env.write("empty.csv", "");
    let (code, _, err) = env.run(&["members", "import", &empty]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("empty.csv: line 1: empty file"), "{err}");
    let binary: Vec<u8> = (0..6000u32).map(|i| (i * 7919 % 251) as u8 | 0x80).collect();
    let file = env.write("binary.csv", binary);
    let (code, _, err) = env.run(&["members", "import", &file]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.starts_with(&format!("error: {file}: line 1: invalid header")),
        "{err}"
    );
    assert!(err.len() < 800, "the header is not echoed whole: {} bytes", err.len());
}

const THEMES: [&str; 7] = [
    "work-style-reform",
    "telework",
    "smooth-biz",
    "life-work-balance",
    "women-advancement",
    "volunteer-leave",
    "sme-talent",
];

/// `preview` output split into (subject, text, html).
fn preview_parts(out: &str) -> (String, String, String) {
    let (head, rest) = out.split_once("\n--- text ---\n").expect("a text part");
    let (text, html) = rest.split_once("\n--- html ---\n").expect("an html part");
    (
        head.trim_start_matches("Subject: ").trim().to_owned(),
        text.to_owned(),
        html.to_owned(),
    )
}

// Every newsletter, in Japanese and in English, HTML and text, ends with its closing line (結び) before the
// footer; the Japanese ones say 「ご案内いたします」, and a member whose locale is `en` previews in English.
both_backends!(
    newsletters_close_politely_in_both_languages,
    |env: TestEnv| async move {
        ok(&env, &["init"]);
        let members = env.write(
            "m.csv",
            "email,company,contact_name,themes,locale\n\
         ja@example.co.jp,株式会社サンプル,山田 太郎,*,ja\n\
         en@example.co.jp,Sample Trading Co.,Jane Doe,*,en\n",
        );
        ok(&env, &["members", "import", &members]);
        let ja_closing = "今後とも東京商工会議所をよろしくお願い申し上げます。";
        let en_closing = "Thank you for your continued support of the Tokyo Chamber of Commerce and Industry.";
        for theme in THEMES {
            let preview = |member: &str| {
                preview_parts(&ok(
                    &env,
                    &[
                        "preview",
                        "--theme",
                        theme,
                        "--channel",
                        "newsletter",
                        "--member",
                        member,
                    ],
                ))
            };
            let (subject, text, html) = preview("ja@example.co.jp");
            assert!(subject.starts_with("【東商メールマガジン】"), "{subject}");
            for part in [&text, &html] {
                assert!(part.contains(ja_closing), "{theme}: no closing line in\n{part}");
                assert!(!part.contains("ご案内します"), "{theme}: ご案内いたします in\n{part}");
                assert!(
                    part.find(ja_closing) < part.find("配信停止"),
                    "{theme}: closing before the footer"
                );
            }
            let (subject, text, html) = preview("en@example.co.jp");
            assert!(
                subject.starts_with("[TCCI Newsletter] ") && subject.is_ascii(),
                "{subject}"
            );
            assert!(text.contains("Dear Jane Doe,"), "{theme}:\n{text}");
            assert!(html.contains("<html lang=\"en\">"), "{theme}");
            for part in [&text, &html] {
                assert!(part.contains(en_closing), "{theme}: no closing line in\n{part}");
                assert!(
                    part.find(en_closing) < part.find("Leave this theme"),
                    "{theme}: closing before the footer"
                );
                assert!(
                    !part.contains("いつもお世話になっております"),
                    "{theme}: Japanese in\n{part}"
                );
            }
        }
        // `template check` renders the English mails too: 21 Japanese mails and 7 English newsletters.
        assert!(ok(&env, &["template", "check"]).contains("28 mails"));
    }
);

// Staff name a campaign for themselves and may give members a title and the manuscript an issue: both are
// stored, shown and recorded in the staff-action log.
both_backends!(campaign_title_and_issue_are_kept, |mut env: TestEnv| async move {
    env.set("OUTREACH_TOSHO_SHIMBUN__EDITORIAL_DESK", "desk@shimbun.example");
    ok(&env, &["init"]);
    let create = |extra: &[&str]| {
        let mut args = vec![
            "campaign",
            "create",
            "--name",
            "nl",
            "--theme",
            "telework",
            "--cron",
            "0 9 * * *",
        ];
        args.extend_from_slice(extra);
        ok(&env, &args).trim().to_owned()
    };
    let titled = create(&["--channel", "newsletter", "--title", "テレワーク特集"]);
    let show = ok(&env, &["campaign", "show", &titled]);
    assert!(show.contains("title: テレワーク特集"), "{show}");
    let untitled = create(&["--channel", "newsletter"]);
    let show = ok(&env, &["campaign", "show", &untitled]);
    assert!(show.contains("title: (the theme's title) テレワークの推進"), "{show}");
    let issue = create(&["--channel", "tosho-shimbun", "--issue", "6月1日号"]);
    let show = ok(&env, &["campaign", "show", &issue]);
    assert!(show.contains("issue: 6月1日号"), "{show}");
    let actions = ok(
        &env,
        &["actions", "list", "--action", "campaign.create", "--format", "json"],
    );
    let rows: Vec<serde_json::Value> = actions.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 3, "{actions}");
    assert_eq!(rows[0]["summary"]["title"], "テレワーク特集", "{actions}");
    assert!(rows[1]["summary"].get("title").is_none(), "{actions}");
    assert_eq!(rows[2]["summary"]["issue"], "6月1日号", "{actions}");
    // An issue is for manuscripts only; an empty title is refused rather than stored.
    let (code, _, err) = env.run(&[
        "campaign",
        "create",
        "--name",
        "nl",
        "--theme",
        "telework",
        "--channel",
        "newsletter",
        "--cron",
        "0 9 * * *",
        "--issue",
        "6月1日号",
    ]);
    assert_eq!((code, err.contains("--issue")), (1, true), "{err}");
    let (code, _, err) = env.run(&[
        "campaign",
        "create",
        "--name",
        "nl",
        "--theme",
        "telework",
        "--channel",
        "newsletter",
        "--cron",
        "0 9 * * *",
        "--title",
        " ",
    ]);
    assert_eq!((code, err.contains("--title")), (1, true), "{err}");
});
