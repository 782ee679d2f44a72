//! Property: whatever the wake-up times (with sub-second jitter), restarts and two schedulers racing on one
//! database with clocks a little apart, the runs made are exactly the schedule's ticks, each once.

use crate::common;

use std::collections::BTreeSet;
use std::sync::Arc;

use outreach::Application;
use outreach::clock::ManualClock;
use outreach::domain::campaign::schedule::parse_local_datetime;
use outreach::domain::plan::Channel;
use outreach::services::CampaignRequest;
use proptest::prelude::*;

const CRONS: [&str; 6] = [
    "* * * * *",
    "*/2 * * * *",
    "0,7,30 * * * *",
    "15-18 * * * *",
    "*/5 8-9 * * *",
    "59 8 * * *",
];

fn start_ms() -> i64 {
    parse_local_datetime("test", "2020-06-01T08:40", chrono_tz::Asia::Tokyo).unwrap()
}

async fn open(env: &common::TestEnv, clock: &ManualClock) -> Application {
    env.app(Arc::new(clock.clone())).await
}

async fn scenario(cron: usize, at_offset_ms: i64, wakes: Vec<(i64, bool, bool)>, skew_ms: i64) {
    let env = common::TestEnv::new(common::Db::Sqlite).await.expect("sqlite env");
    let start = start_ms();
    let (clock_a, clock_b) = (ManualClock::at(start), ManualClock::at(start + skew_ms));
    let a = open(&env, &clock_a).await;
    let csv = "email,company,contact_name,themes,locale\nr@example.co.jp,株式会社競争,担当,telework,ja\n";
    a.import_members(&common::tester(), csv.as_bytes(), false, false)
        .await
        .unwrap();
    let templates = a.templates().unwrap();
    let at = outreach::domain::campaign::schedule::format_local(start + 1000 + at_offset_ms, chrono_tz::Asia::Tokyo);
    let mut request = CampaignRequest {
        name: "race".into(),
        title: None,
        issue: None,
        theme_slug: "telework".into(),
        channel: Channel::Newsletter,
        at: None,
        cron: Some(CRONS[cron].into()),
        from: None,
        until: None,
        fiscal_year: None,
    };
    let recurring = a
        .create_campaign(&common::tester(), &templates, &request)
        .await
        .unwrap();
    request.cron = None;
    request.at = Some(at[..19].replace(' ', "T"));
    let once = a
        .create_campaign(&common::tester(), &templates, &request)
        .await
        .unwrap();
    let mut b = Some(open(&env, &clock_b).await);
    let mut now = start;
    for (step, on_b, restart) in wakes {
        now += step;
        clock_a.set(now);
        clock_b.set(now + skew_ms);
        if restart {
            // A restart of instance B: a new process on the same database.
            b = Some(open(&env, &clock_b).await);
        }
        let app = if on_b { b.as_ref().unwrap() } else { &a };
        app.scheduler().fire_due().await.unwrap();
    }
    // Every wake-up was on time (steps under a minute), so every tick up to the last wake-up fired: once.
    let last = now.max(now + skew_ms);
    let fired = |id: i64| {
        let store = a.store.clone();
        async move {
            store
                .runs(Some(id))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.scheduled_for)
                .collect::<Vec<_>>()
        }
    };
    let campaign = a.campaign(recurring).await.unwrap();
    let ticks: Vec<i64> = campaign.ticks_after(campaign.created_at, 10_000);
    let runs = fired(recurring).await;
    let unique: BTreeSet<i64> = runs.iter().copied().collect();
    assert_eq!(unique.len(), runs.len(), "a tick fired twice: {runs:?}");
    for tick in &ticks {
        if *tick <= now.min(now + skew_ms) {
            assert!(unique.contains(tick), "tick {tick} never fired");
        } else if *tick > last {
            assert!(!unique.contains(tick), "tick {tick} fired before its time");
        }
    }
    assert!(
        unique.iter().all(|t| ticks.contains(t)),
        "a run that is no tick: {runs:?}"
    );
    let once_runs = fired(once).await;
    // --at is read to the second.
    let at_ms = start + 1000 + at_offset_ms;
    let at_ms = at_ms - at_ms.rem_euclid(1000);
    if at_ms <= now.min(now + skew_ms) {
        assert_eq!(once_runs, [at_ms], "the one-time campaign fires once");
    } else {
        assert!(once_runs.len() <= 1, "{once_runs:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn runs_are_exactly_the_ticks(
        cron in 0..CRONS.len(),
        at_offset_ms in 60_000i64..1_200_000,
        wakes in proptest::collection::vec((200i64..50_000, any::<bool>(), proptest::bool::weighted(0.1)), 20..60),
        skew_ms in -1500i64..1500,
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(scenario(cron, at_offset_ms, wakes, skew_ms));
    }
}
