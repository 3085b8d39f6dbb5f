//! Synthetic people for the demo, load tests and benchmarks: common Chinese surnames by their
//! real frequency, given names by gender, valid ID numbers whose area prefixes are the real
//! origin counties, ages, marriages and moves in and out with realistic dates. Seeded, so the
//! same seed and size give the same people.

use chrono::{Duration, NaiveDate};
use domain::OrgCode;
use domain::id_number::check_char;
use domain::pinyin_index::name_keys;
use domain::sections::{is_woman_15_to_49, key_reasons};
use serde_json::json;
use store::PersonFields;

use crate::demo::DIVISION_FILES;
use crate::service::{Actor, App, ServiceResult};

/// Surnames with their share (per 10,000) of the population, from the 2020 census release
/// of the Ministry of Public Security (the top 60 cover about 80%).
const SURNAMES: [(&str, u32); 60] = [
    ("王", 725),
    ("李", 719),
    ("张", 683),
    ("刘", 538),
    ("陈", 453),
    ("杨", 308),
    ("黄", 223),
    ("赵", 218),
    ("吴", 205),
    ("周", 194),
    ("徐", 148),
    ("孙", 144),
    ("马", 129),
    ("朱", 128),
    ("胡", 116),
    ("郭", 115),
    ("何", 110),
    ("林", 102),
    ("高", 100),
    ("罗", 95),
    ("郑", 89),
    ("梁", 86),
    ("谢", 75),
    ("宋", 72),
    ("唐", 71),
    ("许", 67),
    ("韩", 64),
    ("邓", 62),
    ("冯", 62),
    ("曹", 61),
    ("彭", 58),
    ("曾", 56),
    ("肖", 55),
    ("田", 53),
    ("董", 51),
    ("潘", 49),
    ("袁", 48),
    ("蔡", 46),
    ("蒋", 46),
    ("余", 46),
    ("于", 46),
    ("杜", 44),
    ("叶", 43),
    ("程", 42),
    ("魏", 40),
    ("苏", 40),
    ("吕", 39),
    ("丁", 39),
    ("任", 38),
    ("卢", 37),
    ("姚", 37),
    ("沈", 37),
    ("钟", 36),
    ("姜", 35),
    ("崔", 35),
    ("谭", 34),
    ("陆", 33),
    ("范", 31),
    ("汪", 31),
    ("单", 10),
];

const MALE_CHARS: &str = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆建国志成龙亮文博东海峰林";
const FEMALE_CHARS: &str = "芳娜敏静丽艳娟霞秀燕玲桂英红梅琳莉雪婷颖慧佳倩洁璐萍丹晶月琴兰凤荣";

/// Origin counties of the demo with their weight among inflows to Bincheng.
const ORIGINS: [(&str, u32); 4] = [("341221", 35), ("411625", 30), ("430582", 15), ("511923", 20)];

/// Where outflows from Bincheng go (area codes of real large cities).
const DESTINATIONS: [(&str, &str); 4] =
    [("310115", "上海市浦东新区"), ("440305", "深圳市南山区"), ("110105", "北京市朝阳区"), ("320505", "苏州市虎丘区")];

/// A small, fast, seedable generator (SplitMix64): the same seed gives the same people.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.below(u64::from(total)) as u32;
        for (item, w) in items {
            if r < *w {
                return item;
            }
            r -= w;
        }
        &items[0].0
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Village codes and names of one county from the demo's divisions.
fn villages_of(county: &str) -> Vec<(String, String)> {
    DIVISION_FILES[4]
        .1
        .lines()
        .skip(1)
        .filter(|l| l.starts_with(county))
        .filter_map(|l| {
            let mut parts = l.split(',');
            Some((parts.next()?.to_owned(), parts.next()?.trim_matches('"').to_owned()))
        })
        .collect()
}

/// One generated person: the fields and the registration date.
fn person(
    rng: &mut Rng,
    today: NaiveDate,
    bincheng: &[(String, String)],
    origins: &[(&str, Vec<(String, String)>)],
) -> (PersonFields, NaiveDate) {
    let female = rng.chance(60);
    let surname = rng.weighted(&SURNAMES);
    let chars: Vec<char> = if female { FEMALE_CHARS.chars().collect() } else { MALE_CHARS.chars().collect() };
    let mut name = surname.to_string();
    for _ in 0..(if rng.chance(70) { 2 } else { 1 }) {
        name.push(*rng.pick(&chars));
    }
    let age = 16 + rng.below(40) as i64;
    let birth = today - Duration::days(age * 365 + rng.below(365) as i64);
    let inflow = rng.chance(70);
    let (hukou_village, hukou_name, residence_area, residence_address, managing): (
        String,
        String,
        String,
        String,
        String,
    ) = if inflow {
        let county = rng.weighted(&ORIGINS);
        let villages = &origins.iter().find(|(c, _)| c == county).expect("origin listed").1;
        let (hv, hn) = rng.pick(villages).clone();
        let (rv, rn) = rng.pick(bincheng).clone();
        (hv, hn, rv.clone(), format!("{rn}{}号楼{}单元", 1 + rng.below(12), 1 + rng.below(4)), rv)
    } else {
        let (hv, hn) = rng.pick(bincheng).clone();
        let (dest, dest_name) = *rng.pick(&DESTINATIONS);
        (hv.clone(), hn, dest.to_owned(), format!("{dest_name}某街道{}号", 1 + rng.below(300)), hv)
    };
    let seq = rng.below(500) * 2 + if female { 0 } else { 1 };
    let first17 = format!("{}{}{seq:03}", &hukou_village[..6], birth.format("%Y%m%d"));
    let id_number = format!("{first17}{}", check_char(&first17));
    let moved_on = today - Duration::days(rng.below(3 * 365) as i64);
    let moved_on = moved_on.max(birth + Duration::days(16 * 365));
    // Most are registered the same day; some late, as in real offices.
    let registered_on =
        (moved_on + Duration::days(if rng.chance(80) { 0 } else { 1 + rng.below(20) as i64 })).min(today);
    let married = age >= 22 && rng.chance(70);
    let (name_pinyin, name_initials) = name_keys(&name);
    let hukou = OrgCode::parse(&hukou_village).expect("demo village code");
    let unit = OrgCode::parse(&managing).expect("demo village code");
    let fields = PersonFields {
        province_code: unit.province().to_owned(),
        id_number: Some(id_number),
        name,
        name_pinyin,
        name_initials,
        gender: if female { "2" } else { "1" }.to_owned(),
        birth_date: birth,
        ethnicity: Some(if rng.chance(96) { "01" } else { "03" }.to_owned()),
        education: Some(rng.pick(&["20", "30", "40", "60", "70", "80"]).to_string()),
        phone: Some(format!("1{}{:08}", rng.pick(&["38", "39", "58", "86", "52", "77"]), rng.below(100_000_000))),
        marital_status: Some(if married { "20" } else { "10" }.to_owned()),
        hukou_area: hukou.to_string(),
        hukou_path: hukou.path().as_str().to_owned(),
        hukou_address: format!("{hukou_name}{}组", 1 + rng.below(9)),
        hukou_type: Some(if rng.chance(75) { "2" } else { "1" }.to_owned()),
        residence_area,
        residence_address,
        managing_unit: unit.to_string(),
        managing_path: unit.path().as_str().to_owned(),
        direction: if inflow { "in" } else { "out" }.to_owned(),
        moved_on,
        move_reason: Some(rng.weighted(&[("1", 80u32), ("3", 5), ("4", 5), ("5", 6), ("9", 4)]).to_string()),
    };
    (fields, registered_on)
}

/// Rows per batch of the generator, and so per transaction of its load: large enough that the
/// random inserts into the unique index of ID numbers touch each of its pages a few times per
/// transaction rather than once (1M records on SQLite: see docs/PERFORMANCE.md, run I).
const DEMO_BATCH: u64 = 50_000;

/// The people the generator makes for `count` and `seed`, in batches of up to [`DEMO_BATCH`]
/// (two batches held at a time at most): the same rows for the same arguments, with no two ID
/// numbers alike.
pub fn demo_batches(count: u32, seed: u64, today: NaiveDate) -> impl Iterator<Item = Vec<(PersonFields, NaiveDate)>> {
    let mut rng = Rng(seed);
    let bincheng = villages_of("371602");
    let origins: Vec<(&str, Vec<(String, String)>)> = ORIGINS.iter().map(|(c, _)| (*c, villages_of(c))).collect();
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut done = 0u64;
    std::iter::from_fn(move || {
        if done >= u64::from(count) {
            return None;
        }
        let n = (u64::from(count) - done).min(DEMO_BATCH);
        // Two people drawn with the same ID number would be one person twice: draw again.
        let mut rows: Vec<(PersonFields, NaiveDate)> = Vec::with_capacity(n as usize);
        while (rows.len() as u64) < n {
            let p = person(&mut rng, today, &bincheng, &origins);
            if seen.insert(p.0.id_number.clone().unwrap_or_default()) {
                rows.push(p);
            }
        }
        done += n;
        Some(rows)
    })
}

impl App {
    /// Generates `count` people with `seed` into the demo jurisdiction, in batches.
    pub async fn generate_demo_people(&self, count: u32, seed: u64) -> ServiceResult<u64> {
        let today = self.clock.today();
        let console = Actor::console(OrgCode::parse("00").expect("static code"));
        let mut done = 0u64;
        self.store.defer_person_indexes(u64::from(count)).await?;
        // The next batch is made, sealed and indexed on another thread while the store writes
        // this one. Generated people have no sections: a woman of 15–49 holds no certificate
        // yet, and is a key person until one is recorded.
        let engine = self.store.engine();
        let (batches, mut made) = tokio::sync::mpsc::channel(1);
        let maker = tokio::task::spawn_blocking(move || {
            for rows in demo_batches(count, seed, today) {
                let rows = rows.into_iter().map(|(f, registered_on)| {
                    let woman = is_woman_15_to_49(&f.gender, f.birth_date, today);
                    let reasons = key_reasons(woman, false, &[], &[], today).join(",");
                    (f, registered_on, reasons)
                });
                if batches.blocking_send(store::BulkPeople::prepare(engine, rows)).is_err() {
                    break;
                }
            }
        });
        let loaded: ServiceResult<()> = async {
            while let Some(people) = made.recv().await {
                let people = people?;
                let n = people.len();
                let audit = self.audit_draft(&console, "demo.generate", None, None, json!({"count": n, "seed": seed}));
                self.store.bulk_insert_persons(&people, "demo", self.clock.now(), &audit).await?;
                done += n as u64;
            }
            Ok(())
        }
        .await;
        drop(made);
        let generated = maker.await;
        // Built again whether the load went through or not.
        self.store.build_deferred_indexes().await?;
        loaded?;
        // A generator that panicked ended the load early: not a load that went through.
        if let Err(e) = generated
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
        self.store.analyze_persons().await?;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_people_and_every_id_number_is_valid() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let bincheng = villages_of("371602");
        let origins: Vec<(&str, Vec<(String, String)>)> = ORIGINS.iter().map(|(c, _)| (*c, villages_of(c))).collect();
        let run = |seed| {
            let mut rng = Rng(seed);
            (0..500).map(|_| person(&mut rng, today, &bincheng, &origins)).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        for (p, registered) in run(7) {
            let id = domain::id_number::IdNumber::parse(p.id_number.as_deref().unwrap(), today).unwrap();
            assert_eq!(id.birth_date(), p.birth_date);
            assert_eq!(id.gender().code(), p.gender);
            assert_eq!(&p.hukou_area[..6], id.area_code(), "the ID number carries the origin county");
            assert!(p.moved_on <= registered && registered <= today);
            assert!(domain::person::PersonName::parse(&p.name).is_ok());
            assert!(domain::person::Phone::parse(p.phone.as_deref().unwrap()).is_ok(), "{:?}", p.phone);
        }
    }
}
