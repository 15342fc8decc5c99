//! Matcher latency against the largest area (Stoke-on-Trent, 342 indicators).
//! Target: p99 under 1 ms per message on the 2-core reference machine.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use frontdoor::matcher::Matcher;
use frontdoor::rules::load_embedded;

const MESSAGES: &[&str] = &[
    "yr 9 girl missing 3x this month, older bf picks her up, new phone",
    "mum DV victim, dad back in the house",
    "baby 4mo bruise on ear, no explanation",
    "Y4 teacher: attendance 98%, on track with reading, parents come to every parents evening, asking about clubs",
    "Housing officer. 5 in a 2 bed flat, damp and mould, rent arrears building up, eviction notice threatened, mum stressed and low",
    "14yo smoking cannabis daily, missing lessons, excluded twice this term, hanging round with older lads, new trainers and cash",
];

fn bench(c: &mut Criterion) {
    let rules = match load_embedded() {
        Ok(r) => r,
        Err(e) => panic!("built-in rules invalid: {e}"),
    };
    let Some(area) = rules.area("stoke-on-trent") else {
        panic!("no stoke-on-trent area")
    };
    c.bench_function("matcher::new stoke-on-trent", |b| {
        b.iter(|| Matcher::new(black_box(area)))
    });
    let matcher = Matcher::new(area);
    c.bench_function("analyse one message (stoke-on-trent)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % MESSAGES.len();
            black_box(matcher.analyse(black_box(MESSAGES[i])))
        })
    });
    // The slowest messages are the longest: practitioners' messages run to about 400 characters.
    let message_400 = "School nurse here. 14yo girl, head lice for months untreated, two dental abscesses, clothes filthy and too small, peers say she eats from the bins at lunch. She's tired all the time and has no coat. Parents ignore all letters and didn't turn up to the meeting we arranged. Mum's partner drinks most nights and there were police at the house last month. Attendance 82% and falling.";
    c.bench_function("analyse a 400-character message (stoke-on-trent)", |b| {
        b.iter(|| black_box(matcher.analyse(black_box(message_400))))
    });
    let long = "worried about him, missing school, dad drinking. ".repeat(200);
    c.bench_function("analyse a 10,000-character message", |b| {
        b.iter(|| black_box(matcher.analyse(black_box(&long))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
