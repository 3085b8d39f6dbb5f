//! Pinyin keys of a name, so that 张丽 is found by `zhangli` and `zl`.
//!
//! A character with several readings contributes each of them; the first character of a name
//! is a surname, and a surname has its own reading (单 is Shan, not Dan), which comes first.

use pinyin::ToPinyinMulti;

/// Surnames whose reading differs from the character's common one.
const SURNAMES: [(char, &str); 14] = [
    ('单', "shan"),
    ('曾', "zeng"),
    ('解', "xie"),
    ('仇', "qiu"),
    ('朴', "piao"),
    ('区', "ou"),
    ('查', "zha"),
    ('盖', "ge"),
    ('乐', "yue"),
    ('覃', "qin"),
    ('员', "yun"),
    ('缪', "miao"),
    ('尉', "yu"),
    ('长', "zhang"),
];

/// At most this many reading combinations are kept for one name.
const MAX_VARIANTS: usize = 16;

/// The readings of one character, lowercase without tones; a non-Chinese letter reads as itself.
fn readings(c: char, first: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if first && let Some((_, r)) = SURNAMES.iter().find(|(s, _)| *s == c) {
        out.push((*r).to_owned());
    }
    match c.to_pinyin_multi() {
        Some(multi) => {
            for p in multi {
                let plain = p.plain().to_owned();
                if !out.contains(&plain) {
                    out.push(plain);
                }
            }
        }
        None if c.is_alphanumeric() => out.push(c.to_lowercase().collect()),
        None => {}
    }
    out
}

/// The full-pinyin and initials keys of a name, each list space-separated and wrapped in spaces
/// (` zhangli ` / ` zl `), so that `LIKE '% zl%'` finds a name by the start of any reading.
pub fn name_keys(name: &str) -> (String, String) {
    let mut combos: Vec<(String, String)> = vec![(String::new(), String::new())];
    for (i, c) in name.chars().filter(|c| !c.is_whitespace() && *c != '·').enumerate() {
        let rs = readings(c, i == 0);
        if rs.is_empty() {
            continue;
        }
        let mut next = Vec::new();
        for (full, initials) in &combos {
            for r in &rs {
                if next.len() >= MAX_VARIANTS {
                    break;
                }
                next.push((
                    format!("{full}{r}"),
                    format!("{initials}{}", &r[..r.chars().next().map_or(0, char::len_utf8)]),
                ));
            }
        }
        combos = next;
    }
    let mut fulls: Vec<String> = Vec::new();
    let mut inits: Vec<String> = Vec::new();
    for (f, i) in combos {
        if !fulls.contains(&f) {
            fulls.push(f);
        }
        if !inits.contains(&i) {
            inits.push(i);
        }
    }
    (format!(" {} ", fulls.join(" ")), format!(" {} ", inits.join(" ")))
}

/// Whether a character of a name counts (spaces, the middle dot of transliterated names and
/// control characters do not: a NUL cannot even be stored in PostgreSQL text).
fn counts(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && c != '·'
}

/// Whether a character is a Chinese ideograph (the CJK unified ideographs and their extensions,
/// and the compatibility ideographs): the characters that pair into the index's bigrams.
fn ideograph(c: char) -> bool {
    matches!(u32::from(c),
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF | 0x2A700..=0x2EBEF
        | 0x2F800..=0x2FA1F | 0x30000..=0x323AF)
}

/// Each two neighbouring characters that are both ideographs, as one token (`王芳` of 王芳芳):
/// what a search of two or more characters reads, so that it reads the names holding the pair
/// rather than every name holding either character (王 alone is in one name of fourteen).
fn bigrams(chars: &[String]) -> impl Iterator<Item = String> + '_ {
    chars.windows(2).filter_map(|w| {
        let ideographs = w.iter().all(|c| c.chars().next().is_some_and(ideograph));
        ideographs.then(|| format!("{}{}", w[0], w[1]))
    })
}

/// The longest start of a name that has a head token (see [`heads`]).
pub const HEAD_MAX: usize = 4;

/// What a head token starts with: a digit, which no query token starts with (a phrase's tokens
/// are characters and pairs of ideographs, a prefix query is letters), so that a head is found
/// only when asked for by [`NameQuery::head`].
const HEAD_MARK: char = '0';

/// What an inner token starts with (see [`inners`]), a digit for the same reason.
const INNER_MARK: char = '1';

/// The head tokens of a name: each start of the run of ideographs it begins with, up to
/// [`HEAD_MAX`] of them (`0王`, `0王芳` of 王芳). A name search in name order reads the names
/// that start with what was typed along the name order (they lie together there) and asks the
/// index only for the others — its matches without the head (decision 0028).
fn heads(name: &str) -> impl Iterator<Item = String> + '_ {
    let run: Vec<char> = name.chars().take_while(|c| ideograph(*c)).take(HEAD_MAX).collect();
    (1..=run.len()).map(move |n| std::iter::once(HEAD_MARK).chain(run[..n].iter().copied()).collect())
}

/// The inner tokens of a name: each ideograph after its first character, once (`1芳` of 王芳芳).
/// A single character's matches that do not start with it are the names holding its inner
/// token without its head: a short list even for a common surname, where its own list (李 in
/// one name of fourteen) would have to be read whole and set against its heads.
fn inners(name: &str) -> impl Iterator<Item = String> + '_ {
    let mut seen: Vec<char> = Vec::new();
    name.chars()
        .skip(1)
        .filter(|c| ideograph(*c))
        .filter(move |c| {
            let first = !seen.contains(c);
            if first {
                seen.push(*c);
            }
            first
        })
        .map(|c| format!("{INNER_MARK}{c}"))
}

/// The tokens a name is found by: each of its characters on its own (so that any run of them is
/// a phrase of tokens, found whatever its length: 王, 王芳, 芳), then every full-pinyin and
/// initials key (found by prefix), then each pair of neighbouring ideographs (see
/// [`NameQuery::bigrams`]), then the head tokens (see [`NameQuery::head`]). The bigrams come
/// together, so that a run of them in a phrase is a run of the name's characters.
pub fn search_tokens(name: &str, pinyin: &str, initials: &str) -> Vec<String> {
    let chars: Vec<String> = name.chars().filter(|c| counts(*c)).map(|c| c.to_lowercase().collect()).collect();
    let keys = pinyin.split_whitespace().chain(initials.split_whitespace()).map(str::to_owned);
    let pairs: Vec<String> = bigrams(&chars).collect();
    chars.into_iter().chain(keys).chain(pairs).chain(heads(name)).chain(inners(name)).collect()
}

/// How a name search splits at the start of the name (see [`NameQuery::head`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// What the names read along the name order start with.
    pub text: String,
    /// The token of the names that start with it.
    pub token: String,
    /// For one character, the token of the names holding it after their first character.
    pub inner: Option<String>,
}

/// What a clerk typed to find a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameQuery {
    /// Characters that must stand together, in this order (a part of the name).
    Phrase(Vec<String>),
    /// Latin letters: the start of a full-pinyin or initials key.
    Prefix(String),
}

impl NameQuery {
    /// `None` when nothing searchable is left.
    pub fn parse(text: &str) -> Option<NameQuery> {
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Some(NameQuery::Prefix(text.to_ascii_lowercase()));
        }
        let chars: Vec<String> =
            text.chars().filter(|c| counts(*c)).map(|c| c.to_lowercase().collect::<String>()).collect();
        (!chars.is_empty()).then_some(NameQuery::Phrase(chars))
    }

    /// The phrase of bigrams that finds the same names as a phrase of two or more characters
    /// all ideographs (王小丽: 王小 then 小丽, neighbours in the name exactly when they are
    /// neighbours in the index); `None` for a prefix, one character, or a phrase with any other
    /// character in it, which the characters' own tokens find.
    pub fn bigrams(&self) -> Option<Vec<String>> {
        match self {
            NameQuery::Phrase(chars) if chars.len() >= 2 => {
                let pairs: Vec<String> = bigrams(chars).collect();
                (pairs.len() == chars.len() - 1).then_some(pairs)
            }
            _ => None,
        }
    }

    /// For a phrase of one to [`HEAD_MAX`] ideographs: the text a name starts with exactly when
    /// it holds the head token. A name starting with the text is one whose stored form starts
    /// with it (nothing of the name is left out or folded before its first character that is
    /// not an ideograph), so the names that match and start with it are a range of the name
    /// order, and the other matches are the phrase without the head — for one character, its
    /// inner token without the head.
    pub fn head(&self) -> Option<Head> {
        match self {
            NameQuery::Phrase(chars)
                if (1..=HEAD_MAX).contains(&chars.len())
                    && chars.iter().all(|c| c.chars().count() == 1 && c.chars().all(ideograph)) =>
            {
                let text: String = chars.concat();
                let token = format!("{HEAD_MARK}{text}");
                let inner = (chars.len() == 1).then(|| format!("{INNER_MARK}{text}"));
                Some(Head { text, token, inner })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_one_token_per_character_then_its_keys() {
        let (full, initials) = name_keys("张丽");
        assert_eq!(
            search_tokens("张丽", &full, &initials),
            ["张", "丽", "zhangli", "zl", "张丽", "0张", "0张丽", "1丽"]
        );
        // A space stored in the name ends the run of ideographs the heads are made of.
        assert_eq!(search_tokens("张 丽", &full, &initials), ["张", "丽", "zhangli", "zl", "张丽", "0张", "1丽"]);
        assert_eq!(search_tokens("Anna·Li", " annali ", " al "), ["a", "n", "n", "a", "l", "i", "annali", "al"]);
        assert_eq!(
            search_tokens("王小丽", "", ""),
            ["王", "小", "丽", "王小", "小丽", "0王", "0王小", "0王小丽", "1小", "1丽"]
        );
        // Only neighbouring ideographs pair: 𠮷 (an extension B ideograph) does, a digit does not.
        assert_eq!(search_tokens("王2芳𠮷", "", ""), ["王", "2", "芳", "𠮷", "芳𠮷", "0王", "1芳", "1𠮷"]);
        // Heads stop at four ideographs; an inner character is one token however often it comes.
        let tokens = search_tokens("欧阳娜娜莉", "", "");
        assert_eq!(tokens[tokens.len() - 7..], ["0欧", "0欧阳", "0欧阳娜", "0欧阳娜娜", "1阳", "1娜", "1莉"]);
    }

    #[test]
    fn a_run_of_two_or_more_ideographs_is_looked_for_as_its_bigrams() {
        let bigrams = |q: &str| NameQuery::parse(q).and_then(|q| q.bigrams());
        assert_eq!(bigrams("王芳"), Some(vec!["王芳".into()]));
        assert_eq!(bigrams("王 小丽"), Some(vec!["王小".into(), "小丽".into()]));
        // One character, letters, or a character that is not an ideograph: the characters.
        assert_eq!(bigrams("王"), None);
        assert_eq!(bigrams("wang"), None);
        assert_eq!(bigrams("王2芳"), None);
        // What a phrase of bigrams finds is what the phrase of characters finds: in the name's
        // tokens, the query's bigrams stand together in the same order exactly when its
        // characters do.
        for (name, query, found) in [
            ("王小丽", "小丽", true),
            ("王小丽", "王丽", false),
            ("丽小王", "小丽", false),
            ("张王芳芳", "王芳芳", true),
        ] {
            let tokens = search_tokens(name, "", "");
            let pairs = bigrams(query).unwrap();
            let hit = tokens.windows(pairs.len()).any(|w| w == pairs.as_slice());
            assert_eq!(hit, found, "{query} in {name}");
        }
    }

    #[test]
    fn a_name_holds_the_head_of_a_query_exactly_when_it_starts_with_the_query() {
        let head = |q: &str| NameQuery::parse(q).and_then(|q| q.head());
        let wang_fang = Head { text: "王芳".into(), token: "0王芳".into(), inner: None };
        assert_eq!(head("王芳"), Some(wang_fang.clone()));
        assert_eq!(head(" 王 芳 "), Some(wang_fang));
        assert_eq!(head("李"), Some(Head { text: "李".into(), token: "0李".into(), inner: Some("1李".into()) }));
        // Letters, a character that is not an ideograph, or more than four: no head.
        for q in ["wang", "王2", "欧阳娜娜莉", "a"] {
            assert_eq!(head(q), None, "{q}");
        }
        for (name, query) in [
            ("王芳", "王芳"),
            ("王芳芳", "王芳"),
            ("张王芳", "王芳"),
            ("王 芳", "王芳"),
            ("王", "王"),
            ("李王", "王"),
            ("王芳", "王芳芳"),
            ("欧阳娜娜", "欧阳娜娜"),
            ("𠮷王", "𠮷"),
            ("李李", "李"),
            ("·李", "李"),
            ("王 李", "李"),
        ] {
            let Head { text, token, inner } = head(query).unwrap();
            let tokens = search_tokens(name, "", "");
            assert_eq!(tokens.contains(&token), name.starts_with(&text), "{query} at the start of {name}");
            if let Some(inner) = inner {
                // One character: held after the name's first character exactly when inner.
                let later = name.chars().skip(1).any(|c| c.to_string() == text);
                assert_eq!(tokens.contains(&inner), later, "{query} inside {name}");
            }
        }
    }

    #[test]
    fn letters_look_for_a_key_and_anything_else_for_characters_together() {
        assert_eq!(NameQuery::parse(" ZhangL "), Some(NameQuery::Prefix("zhangl".into())));
        assert_eq!(NameQuery::parse("张 丽"), Some(NameQuery::Phrase(vec!["张".into(), "丽".into()])));
        assert_eq!(NameQuery::parse("王2"), Some(NameQuery::Phrase(vec!["王".into(), "2".into()])));
        assert_eq!(NameQuery::parse(" · "), None);
        assert_eq!(NameQuery::parse("王\u{0}芳\u{7}"), Some(NameQuery::Phrase(vec!["王".into(), "芳".into()])));
        assert_eq!(NameQuery::parse("\u{0}"), None);
    }

    #[test]
    fn names_are_found_by_pinyin_and_initials() {
        let (full, initials) = name_keys("张丽");
        assert!(full.contains(" zhangli "), "{full}");
        assert!(initials.contains(" zl "), "{initials}");
    }

    #[test]
    fn surnames_read_as_surnames_first() {
        for (name, reading) in [
            ("单丽", "shanli"),
            ("曾强", "zengqiang"),
            ("解放", "xiefang"),
            ("仇英", "qiuying"),
            ("朴明", "piaoming"),
            ("区华", "ouhua"),
        ] {
            let (full, _) = name_keys(name);
            assert!(full.starts_with(&format!(" {reading}")), "{name}: {full}");
        }
        // Other readings stay searchable too.
        assert!(name_keys("单丽").0.contains(" danli "));
    }

    #[test]
    fn several_readings_all_match() {
        // 乐 reads le or yue; as a given name both must work.
        let (full, _) = name_keys("王乐");
        assert!(full.contains(" wangle ") && full.contains(" wangyue "), "{full}");
    }
}
