//! The single-pass entry parser against the general one.

use super::MtxField;
use super::lex::{EntryShape, Fast, fast_entry, fast_value, parse_value, slow_entry};
use crate::testing;
use proptest::prelude::*;

/// Numeric-looking tokens: signs, digits, dots, exponents, and some junk.
fn number_token() -> impl Strategy<Value = String> {
    let digits = || prop::collection::vec(prop::sample::select(b"0123456789".to_vec()), 0..20);
    (
        prop::sample::select(vec!["", "-", "+"]),
        digits(),
        prop::option::of(digits()),
        prop::option::of((
            prop::sample::select(vec!["e", "E", "e-", "e+", "d"]),
            0u32..400,
        )),
        prop::option::of(prop::sample::select(vec!["x", ".", "-", "inf", "nan"])),
    )
        .prop_map(|(sign, int, frac, exp, junk)| {
            let mut s = sign.to_owned();
            s.extend(int.iter().map(|&b| char::from(b)));
            if let Some(f) = frac {
                s.push('.');
                s.extend(f.iter().map(|&b| char::from(b)));
            }
            if let Some((e, k)) = exp {
                s.push_str(e);
                s.push_str(&k.to_string());
            }
            if let Some(j) = junk {
                s.push_str(j);
            }
            s
        })
}

/// The proptest blocks run `PROPTEST_CASES` cases when it is set.
#[test]
fn proptest_cases_come_from_the_environment() {
    testing::assert_cases_come_from_the_environment(
        "mtx::tests::proptest_cases_come_from_the_environment",
        2000,
    );
}

proptest! {
    #![proptest_config(testing::config_in_memory(2000))]

    /// The fast value parser agrees bit for bit with the general one, and never accepts
    /// what the general one rejects.
    #[test]
    fn fast_value_agrees_with_parse_value(tok in number_token()) {
        for field in [MtxField::Real, MtxField::Integer, MtxField::Complex] {
            let slow = parse_value(tok.as_bytes(), field, 1).ok().map(f64::to_bits);
            let fast = fast_value(tok.as_bytes(), field).map(f64::to_bits);
            if fast.is_some() {
                prop_assert_eq!(fast, slow, "{} {:?}", tok, field);
            }
            if tok.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'.') && tok.len() <= 12 {
                // short plain decimals always take the fast path when valid
                prop_assert_eq!(fast.is_some(), slow.is_some(), "{} {:?}", tok, field);
            }
        }
    }

    /// The single-pass line parser agrees with the general one on arbitrary lines.
    #[test]
    fn fast_entry_agrees_with_slow_entry(
        indices in prop::collection::vec(
            prop_oneof![
                6 => (0usize..12).prop_map(|k| k.to_string()),
                1 => number_token(),
                1 => prop::sample::select(vec!["%", "", "007", "4294967297", "99999999999"]).prop_map(str::to_owned),
            ],
            2,
        ),
        values in prop::collection::vec(
            prop_oneof![
                4 => number_token(),
                1 => (-5i32..5).prop_map(|k| k.to_string()),
                1 => prop::sample::select(vec!["%", "", "1e999", "NaN", "-0"]).prop_map(str::to_owned),
            ],
            3,
        ),
        value_count in prop_oneof![3 => Just(None), 1 => (0usize..4).prop_map(Some)],
        seps in prop::collection::vec(prop::sample::select(vec![" ", "\t", "  ", " \r", ""]), 7),
        field in prop::sample::select(vec![MtxField::Pattern, MtxField::Real, MtxField::Integer, MtxField::Complex]),
        newline in any::<bool>(),
    ) {
        let mut values = values;
        values.truncate(value_count.unwrap_or(field.fields_per_line() - 2));
        let mut line = seps[6].to_owned();
        for (k, p) in indices.iter().chain(&values).enumerate() {
            line.push_str(p);
            line.push_str(if seps[k].is_empty() && k + 1 < indices.len() + values.len() { " " } else { seps[k] });
        }
        let shape = EntryShape { field, nrows: 9, ncols: 10 };
        let text = if newline { format!("{line}\nrest") } else { line.clone() };
        let slow = slow_entry(line.as_bytes(), 1, shape, false, 100)
            .map(|e| e.map(|(i, j, v)| (i, j, v.to_bits())));
        match fast_entry(text.as_bytes(), 0, shape) {
            Fast::Entry { i, j, v, next } => {
                prop_assert_eq!(slow.ok(), Some(Some((i, j, v.to_bits()))), "{:?}", line);
                prop_assert_eq!(next, line.len() + usize::from(newline));
            }
            Fast::Blank { next } => {
                prop_assert!(matches!(slow, Ok(None)), "{:?}", line);
                prop_assert_eq!(next, line.len() + usize::from(newline));
            }
            Fast::Slow => {}
        }
    }
}

#[test]
fn fast_path_is_taken_for_ordinary_lines() {
    let shape = EntryShape {
        field: MtxField::Real,
        nrows: 100,
        ncols: 100,
    };
    for line in [
        "1 1 1",
        "100 7 -1.5\n",
        "3\t4\t.25 \r\n",
        "2 2 6.5e-3",
        "5 5 0.16250000000000003",
    ] {
        assert!(
            matches!(fast_entry(line.as_bytes(), 0, shape), Fast::Entry { .. }),
            "{line}"
        );
    }
    for line in [
        "% c",
        "101 1 1",
        "0 1 1",
        "1 1",
        "1 1 1 1",
        "1 1 nan",
        "1 1 1e999",
    ] {
        assert!(
            matches!(fast_entry(line.as_bytes(), 0, shape), Fast::Slow),
            "{line}"
        );
    }
}
