//! Understanding latency and model load, on the 2-core reference machine.
//!
//! Targets (issue 9): model load at most 200 ms; at most 5 ms per message at the 99th percentile.
//! The longest message the chat accepts (20,000 characters) is the worst case, so its time bounds
//! the p99 of every message; `frontdoor eval` also prints the median and p99 over a whole set.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use frontdoor::rules::load_embedded;
use frontdoor::understanding::{Understanding, MAX_CHARS};

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
    c.bench_function("load the shipped model (Understanding::builtin)", |b| {
        b.iter(|| match Understanding::builtin(black_box(&rules.needs)) {
            Ok(u) => u,
            Err(e) => panic!("shipped model unusable: {e}"),
        })
    });
    let understanding = match Understanding::builtin(&rules.needs) {
        Ok(u) => u,
        Err(e) => panic!("shipped model unusable: {e}"),
    };
    c.bench_function("read one short message", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % MESSAGES.len();
            black_box(understanding.read(black_box(MESSAGES[i]), None))
        })
    });
    let message_400 = "School nurse here. 14yo girl, head lice for months untreated, two dental abscesses, clothes filthy and too small, peers say she eats from the bins at lunch. She's tired all the time and has no coat. Parents ignore all letters and didn't turn up to the meeting we arranged. Mum's partner drinks most nights and there were police at the house last month. Attendance 82% and falling.";
    c.bench_function("read a 400-character message", |b| {
        b.iter(|| black_box(understanding.read(black_box(message_400), None)))
    });
    let sentence = "worried about him, missing school, dad drinking, a bruise on his arm he would not explain. ";
    let longest: String = sentence
        .repeat(MAX_CHARS / sentence.len() + 1)
        .chars()
        .take(MAX_CHARS)
        .collect();
    c.bench_function("read the longest message (20,000 characters)", |b| {
        b.iter(|| black_box(understanding.read(black_box(&longest), Some(7.0))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
