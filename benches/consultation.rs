//! A full consultation through engine and store, with every step flushed to disk.
//!
//! Criterion measures one whole consultation (about 24 steps). After it, a plain report gives
//! steps per second and p50/p99 step latency, and the data directory's size after
//! `FRONTDOOR_BENCH_CONSULTATIONS` consultations (default 10,000). `frontdoor bench` gives the
//! same figures from the binary.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, Criterion};
use frontdoor::app::App;
use frontdoor::config::Config;
use frontdoor::dialogue::{sample, Input, Reply};

fn open(dir: &Path) -> App {
    let config = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    App::open(config, Utc::now()).expect("the app opens on the built-in rules")
}

/// Runs one consultation; returns each step's latency.
fn consult(app: &App, key: &str, answers: &[String]) -> Vec<Duration> {
    let now = Utc
        .with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
        .single()
        .expect("time");
    let mut latencies = Vec::with_capacity(answers.len() + 1);
    for input in std::iter::once(Input::Start).chain(answers.iter().map(|a| Input::parse(a))) {
        let t = Instant::now();
        let replies = app.handle(key, input, now).expect("step");
        latencies.push(t.elapsed());
        if replies.iter().any(|r| matches!(r, Reply::Finished(_))) {
            break;
        }
    }
    latencies
}

fn transcripts(app: &App) -> Vec<Vec<String>> {
    app.engine().rules().areas().map(sample::answers).collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(dir.path());
    let all = transcripts(&app);
    let mut n = 0usize;
    c.bench_function("full consultation (durable)", |b| {
        b.iter(|| {
            n += 1;
            consult(&app, &format!("bench:{n}"), &all[n % all.len()])
        })
    });
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn report() {
    let count: usize = std::env::var("FRONTDOOR_BENCH_CONSULTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let app = open(dir.path());
    let all = transcripts(&app);
    let mut latencies = Vec::new();
    let started = Instant::now();
    for n in 0..count {
        latencies.extend(consult(&app, &format!("bench:{n}"), &all[n % all.len()]));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let q = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    app.store().flush().expect("flush");
    println!(
        "\n{count} consultations, {} steps in {elapsed:.2?}",
        latencies.len()
    );
    println!(
        "steps/s: {:.0}",
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!("step latency: p50 {:.2?}, p99 {:.2?}", q(0.5), q(0.99));
    println!(
        "data directory after {count} consultations: {:.1} MiB",
        dir_size(dir.path()) as f64 / 1_048_576.0
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
