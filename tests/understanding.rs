//! Understanding through the assessment path, in every area: the safety floor, true explanations,
//! the child's age from the consultation, long and hostile input, and the shipped model itself
//! (trained on the current corpus, above its floors on the locked validation set).

use std::collections::HashSet;
use std::path::Path;

use frontdoor::assess::{assess, Assessment};
use frontdoor::contacts::parse_local;
use frontdoor::eval::{self, Prediction};
use frontdoor::rules::{load_embedded, IndicatorKind, RuleSet};
use frontdoor::understanding::corpus::{self, Example};
use frontdoor::understanding::train::{corpus_hash, TrainSettings};
use frontdoor::understanding::{Model, Understanding, MODEL};

fn rules() -> RuleSet {
    load_embedded().expect("built-in rules are valid")
}

fn understanding(rules: &RuleSet) -> Understanding {
    Understanding::builtin(&rules.needs).expect("the shipped model loads")
}

fn run<'a>(
    rules: &'a RuleSet,
    u: &'a Understanding,
    area: &str,
    text: &str,
    age: Option<f32>,
) -> Assessment<'a> {
    let area = rules.area(area).expect("area");
    let at = parse_local("2026-11-24T10:00").expect("time");
    assess(area, u, &rules.bank_holidays, text, age, at).expect("assessment")
}

const AREAS: [&str; 5] = [
    "medway",
    "salford",
    "stoke-on-trent",
    "warwickshire",
    "warwickshire-2018",
];

/// Reads every `*.jsonl` file of a corpus folder, in name order.
fn corpus_dir(rules: &RuleSet, dir: &str) -> Vec<Example> {
    let ids: HashSet<String> = rules.needs.ids().into_iter().collect();
    let refs: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("corpus file");
        let (ex, problems) = corpus::parse(&f.display().to_string(), &text, &refs);
        assert!(problems.is_empty(), "{problems:?}");
        out.extend(ex);
    }
    out
}

/// Child protection in every area, and 999 first where the danger is now. (A disclosure with no
/// word of when the child next sees the person is child protection; whether it is 999 first is
/// the model's call, and either way the bot says to contact the front door at once.)
#[test]
fn child_protection_in_every_area_and_999_where_the_danger_is_now() {
    let rules = rules();
    let u = understanding(&rules);
    let danger_now = [
        "baby 4mo bruise on ear, no explanation",
        "toddler found home alone at 2am, mum not answering phone",
        "15yo carrying a knife in his bag, says he needs it for protection",
        "year 10 girl says she has a plan to take an overdose tonight, has been saving pills",
        "9 year old girl, family flying abroad for a special ceremony to become a woman",
    ];
    let child_protection =
        ["Y3 girl told me her stepdad touched her private parts and said it's their secret"];
    for area in AREAS {
        for m in danger_now {
            let a = run(&rules, &u, area, m, None);
            assert!(a.immediate, "{area}: not immediate: {m}");
            assert_eq!(a.tier, 4, "{area}: {m}");
        }
        for m in child_protection {
            let a = run(&rules, &u, area, m, None);
            assert_eq!(a.tier, 4, "{area}: {m}");
        }
    }
}

/// A negated word is never quoted as what the caller described.
#[test]
fn negated_words_are_never_quoted() {
    let rules = rules();
    let u = understanding(&rules);
    let m = "Y11 boy stressed about exams, denies any thoughts of suicide, no self-harm, sleeping badly";
    let a = run(&rules, &u, "medway", m, None);
    for s in &a.shown {
        for w in &s.your_words {
            let w = w.to_lowercase();
            assert!(
                !w.contains("suicide") && !w.contains("self-harm"),
                "{w:?} quoted for {}",
                s.need.id
            );
        }
    }
}

/// "Your words" are phrases of the caller's, not bare words cut from them: each quote starts and
/// ends with a word that says something, and carries what it is about.
#[test]
fn your_words_are_phrases_that_start_and_end_with_a_word_that_says_something() {
    let rules = rules();
    let u = understanding(&rules);
    let reader = frontdoor::understanding::text::Reader::builtin();
    let m = "HV. 8wk old, bruise on cheek, parents no explanation. not rolling yet.";
    let a = run(&rules, &u, "medway", m, None);
    let quotes: Vec<&str> = a
        .shown
        .iter()
        .flat_map(|s| s.your_words.iter().map(String::as_str))
        .collect();
    assert!(quotes.contains(&"bruise on cheek"), "{quotes:?}");
    let m = "Y6 boy has been late most mornings and hungry, mum's new partner shouts at him";
    let a = run(&rules, &u, "salford", m, None);
    for s in &a.shown {
        for w in &s.your_words {
            let words: Vec<String> = w
                .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
                .filter(|x| !x.is_empty())
                // As the reader reads them: "She's" is "shes".
                .map(|x| x.replace('\'', "").to_lowercase())
                .collect();
            let (Some(first), Some(last)) = (words.first(), words.last()) else {
                panic!("empty quote for {}", s.need.id)
            };
            assert!(
                !reader.is_never_quoted(first) && !reader.is_never_quoted(last),
                "{w:?} for {}",
                s.need.id
            );
        }
    }
}

#[test]
fn explanations_are_true() {
    let rules = rules();
    let u = understanding(&rules);
    let messages = [
        "HV. 8wk old, bruise on cheek, parents no explanation. not rolling yet.",
        "Y4 boy always hungry, takes food from other kids' lunchboxes, uniform dirty and too small",
        "yr 9 girl missing 3x this month, older bf picks her up in a car, new phone",
        "mum drinks most nights, kids (6 and 8) put themselves to bed, house a mess",
        "asking about after-school clubs for a happy, settled 8 year old",
    ];
    for area in AREAS {
        for m in messages {
            let a = run(&rules, &u, area, m, None);
            assert!(!a.shown.is_empty(), "{area}: nothing understood: {m}");
            for s in &a.shown {
                // "Your words" are the caller's words, verbatim.
                for w in &s.your_words {
                    assert!(m.contains(w.as_str()), "{area}: {w:?} is not in {m:?}");
                }
                // A shown indicator is one of the area's indicators of that need.
                if let Some(i) = s.indicator {
                    assert!(
                        i.needs.contains(&s.need.id),
                        "{area}: {} for {}",
                        i.id,
                        s.need.id
                    );
                    assert_eq!(i.kind, IndicatorKind::Indicator, "{area}: {}", i.id);
                }
            }
        }
    }
}

/// A reading at the advice level never claims a need it is unsure of (the message most often
/// raised a worry and set it aside, "it was a pillow fight"): its first need is either one the
/// model is sure of or universal advice. Checked over the training corpus's dev and probe files.
#[test]
fn an_advice_reading_claims_no_need_it_is_unsure_of() {
    use frontdoor::understanding::{ADVICE_NEED, NEED_FLOOR};
    let rules = rules();
    let u = understanding(&rules);
    let mut advice_readings = 0;
    for ex in corpus_dir(&rules, "corpus/train")
        .iter()
        .filter(|e| e.id.starts_with("dev") || e.id.starts_with("probe"))
    {
        let r = u.read(&ex.text, None);
        if r.tier != 1 || !r.red_flags.is_empty() {
            continue;
        }
        advice_readings += 1;
        let first = r.needs.first().expect("an advice reading gives a need");
        assert!(
            first.probability >= NEED_FLOOR || first.id == ADVICE_NEED,
            "{}: {} at {:.2}",
            ex.id,
            first.id,
            first.probability
        );
    }
    assert!(
        advice_readings >= 10,
        "only {advice_readings} advice readings"
    );
}

#[test]
fn the_childs_age_from_the_consultation_is_used() {
    let rules = rules();
    let u = understanding(&rules);
    for area in AREAS {
        let without = run(
            &rules,
            &u,
            area,
            "bruise on his cheek, no explanation",
            None,
        );
        let with = run(
            &rules,
            &u,
            area,
            "bruise on his cheek, no explanation",
            Some(0.2),
        );
        assert!(with.immediate, "{area}: a baby's bruise is immediate");
        assert!(with.tier >= without.tier);
        assert_eq!(with.reading.age, Some(0.2));
    }
}

/// Everything up to the chat's limit is read: words after character 4,000 change the reading.
#[test]
fn everything_a_caller_can_send_is_read() {
    let rules = rules();
    let u = understanding(&rules);
    let background = "We have known the family for a while and they have had support. ".repeat(70);
    assert!(background.chars().count() > 4_000);
    let injury = "Today the 3 month old has a bruise on her ear and nobody can explain it.";
    let before = u.read(&background, None);
    let after = u.read(&format!("{background} {injury}"), None);
    assert_eq!(after.age, Some(0.25), "the age at the end was not read");
    // The words at the end are read (the reading changes). How much one sentence weighs after 70
    // repeats of another is a known limit of reading the message as one bag of features: see
    // model/README.md (a policy may read long messages sentence by sentence).
    assert_ne!(
        after.tier_probabilities, before.tier_probabilities,
        "the injury at the end was not read"
    );
}

/// A serious fact is not diluted by the story around it (the corpus has long messages with the
/// deciding fact in the middle; the policy may also read each sentence alone).
#[test]
fn a_serious_sentence_inside_a_longer_story_is_still_read_as_serious() {
    let rules = rules();
    let u = understanding(&rules);
    let fact = "The baby is 4 months old and has a bruise on her cheek that mum could not explain.";
    let story = format!(
        "I'm the family's health visitor and have known them since the birth. Mum has had support \
         from the children's centre and comes to the baby clinic. {fact} Dad was at work."
    );
    for area in AREAS {
        let alone = run(&rules, &u, area, fact, None);
        let told = run(&rules, &u, area, &story, None);
        assert!(alone.immediate, "{area}: the fact alone is immediate");
        assert!(
            told.immediate,
            "{area}: the same fact inside a story is diluted"
        );
        assert_eq!(told.tier, 4);
    }
}

#[test]
fn hostile_input_gives_a_clear_bounded_answer() {
    let rules = rules();
    let u = understanding(&rules);
    let long = "x".repeat(100_000);
    let inputs = [
        "",
        "   ",
        "🙂🙂🙂",
        "\u{202e}\u{0000}\u{001b}[31m",
        "'''''''",
        long.as_str(),
    ];
    for area in AREAS {
        for i in inputs {
            let a = run(&rules, &u, area, i, None);
            if a.reading.empty {
                assert_eq!(a.tier, 0, "{area}: nothing read must not claim a level");
                assert!(a.outcome.is_none());
            }
            // The number to call is always there.
            assert!(!a.call.now.number.is_empty());
        }
    }
}

#[test]
fn the_shipped_model_is_the_one_the_corpus_gives() {
    let rules = rules();
    let train = corpus_dir(&rules, "corpus/train");
    let model = Model::from_bytes(MODEL).expect("model");
    let hash = corpus_hash(&train, &rules.needs.ids(), &TrainSettings::default());
    assert_eq!(
        model.provenance.corpus_hash, hash,
        "model/understanding.bin was not trained on the current corpus/train: run `frontdoor train`"
    );
    assert_eq!(model.needs, rules.needs.ids());
}

#[test]
fn validation_and_training_sets_are_apart() {
    let rules = rules();
    let train = corpus_dir(&rules, "corpus/train");
    let validation = corpus_dir(&rules, "corpus/validation");
    let train_writers: HashSet<&str> = train.iter().map(|e| e.writer()).collect();
    for v in &validation {
        assert!(
            !train_writers.contains(v.writer()),
            "{} is by a training writer",
            v.id
        );
    }
    let texts: Vec<&str> = train
        .iter()
        .chain(&validation)
        .map(|e| e.text.as_str())
        .collect();
    let leaks: Vec<_> = corpus::near_duplicates(&texts, 0.8)
        .into_iter()
        .filter(|(a, b, _)| (*a < train.len()) != (*b < train.len()))
        .collect();
    assert!(
        leaks.is_empty(),
        "validation messages near training ones: {leaks:?}"
    );
}

/// The floors the shipped model holds on the locked validation set, in every area (see
/// model/README.md for the measured figures).
#[test]
fn the_shipped_model_holds_its_floors_on_the_validation_set() {
    let rules = rules();
    let u = understanding(&rules);
    let cases = corpus_dir(&rules, "corpus/validation");
    let floors: toml::Table =
        toml::from_str(&std::fs::read_to_string(Path::new("model/floors.toml")).expect("floors"))
            .expect("floors.toml");
    let floor = |k: &str| floors[k].as_float().expect(k);
    for area in AREAS {
        let preds: Vec<Prediction> = cases
            .iter()
            .map(|c| {
                let a = run(&rules, &u, area, &c.text, None);
                Prediction {
                    tier: a.tier,
                    immediate: a.immediate,
                    needs: a.reading.needs.iter().map(|n| n.id.clone()).collect(),
                    p_tier4: None,
                    p_immediate: None,
                }
            })
            .collect();
        let r = eval::report(&cases, &preds);
        assert_eq!(r.severe_under_triage, 0, "{area}: {:?}", r.severe);
        assert!(
            r.tier_accuracy >= floor("tier_accuracy"),
            "{area}: {}",
            r.tier_accuracy
        );
        assert!(
            r.immediate_recall >= floor("immediate_recall"),
            "{area}: {}",
            r.immediate_recall
        );
        assert!(
            r.tier1_given_3_or_4 <= floor("tier1_given_3_or_4"),
            "{area}: {}",
            r.tier1_given_3_or_4
        );
        assert!(
            r.need_in_top3.unwrap_or(0.0) >= floor("need_in_top3"),
            "{area}: {:?}",
            r.need_in_top3
        );
    }
}
