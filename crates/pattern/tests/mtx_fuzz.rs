//! Property tests for the Matrix Market reader and writer: arbitrary and mutated inputs never
//! panic and, when accepted, give a valid pattern; written patterns read back unchanged.

use proptest::prelude::*;
use proptest::sample::Index;
use sparsediff_pattern::mtx::{parse_matrix_market_bytes, to_matrix_market_string};
use sparsediff_pattern::testing;
use sparsediff_pattern::{MatrixMarket, MtxField, MtxSymmetry, Pattern, parse_matrix_market};

/// The shipped files small enough to mutate hundreds of times: every `.mtx` file of
/// `data/matrices` under 64 KiB (read once, sorted by name).
fn small_files() -> &'static [String] {
    static FILES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    FILES.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/matrices");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .expect("the shipped matrices")
            .map(|entry| entry.expect("a directory entry").path())
            .filter(|path| path.extension().is_some_and(|e| e == "mtx"))
            .filter(|path| path.metadata().is_ok_and(|m| m.len() < 64 * 1024))
            .collect();
        paths.sort();
        let files: Vec<String> = paths
            .iter()
            .map(|path| std::fs::read_to_string(path).expect("a readable file"))
            .collect();
        assert!(files.len() >= 8, "the small shipped matrices are there");
        files
    })
}

/// Headers that make random bodies reach the entry parser.
const HEADERS: &[&str] = &[
    "%%MatrixMarket matrix coordinate real general\n3 3 4\n",
    "%%MatrixMarket matrix coordinate pattern symmetric\n4 4 3\n",
    "%%MatrixMarket matrix coordinate integer skew-symmetric\n5 5 2\n",
    "%%MatrixMarket matrix coordinate complex hermitian\n2 2 2\n",
    "%%MatrixMarket matrix coordinate real general\n",
    "",
];

/// Tokens spliced into inputs: numbers at the edges of validity, special values, keywords.
/// (No decimal number between 10^7 and MAX_DIM: a mutated size line may legitimately ask
/// for that many rows, which is valid but slow to allocate.)
const TOKENS: &[&[u8]] = &[
    b"0",
    b"1",
    b"-1",
    b"+3",
    b"7",
    b"1.5",
    b".5e-3",
    b"1e400",
    b"NaN",
    b"inf",
    b"-infinity",
    b"1D+02",
    b"99999999999999999999999",
    b"4294967297",
    b"18446744073709551616",
    b"%",
    b"%%MatrixMarket",
    b"matrix",
    b"coordinate",
    b"array",
    b"pattern",
    b"integer",
    b"complex",
    b"symmetric",
    b"skew-symmetric",
    b"hermitian",
    b" ",
    b"\t",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\xef\xbb\xbf",
    b"\xc3\xa9",
    b"\xff",
    b"\xe2\x82",
];

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(Index),
    FlipBit(Index, u8),
    ReplaceByte(Index, u8),
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    InsertToken(Index, Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::ReplaceByte(i, b)),
        2 => any::<Index>().prop_map(Mutation::DeleteLine),
        2 => any::<Index>().prop_map(Mutation::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(i, t)| Mutation::InsertToken(i, t)),
    ]
}

/// Byte ranges of the lines of `bytes` (each including its `\n`, if any).
fn line_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (k, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            spans.push((start, k + 1));
            start = k + 1;
        }
    }
    if start < bytes.len() {
        spans.push((start, bytes.len()));
    }
    spans
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let n = bytes.len();
    match m {
        Mutation::Truncate(i) => bytes.truncate(i.index(n + 1)),
        Mutation::FlipBit(i, bit) if n > 0 => bytes[i.index(n)] ^= 1 << bit,
        Mutation::ReplaceByte(i, b) if n > 0 => bytes[i.index(n)] = *b,
        Mutation::InsertToken(i, t) => {
            let at = i.index(n + 1);
            let tok = TOKENS[t.index(TOKENS.len())];
            bytes.splice(at..at, tok.iter().copied());
        }
        Mutation::DeleteLine(i) | Mutation::DuplicateLine(i) => {
            let spans = line_spans(bytes);
            if spans.is_empty() {
                return;
            }
            let (s, e) = spans[i.index(spans.len())];
            if matches!(m, Mutation::DeleteLine(_)) {
                bytes.drain(s..e);
            } else {
                let line = bytes[s..e].to_vec();
                bytes.splice(e..e, line);
            }
        }
        Mutation::SwapLines(a, b) => {
            let spans = line_spans(bytes);
            if spans.is_empty() {
                return;
            }
            let (a, b) = (spans[a.index(spans.len())], spans[b.index(spans.len())]);
            let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
            if first == second {
                return;
            }
            let mut out = Vec::with_capacity(n);
            out.extend_from_slice(&bytes[..first.0]);
            out.extend_from_slice(&bytes[second.0..second.1]);
            out.extend_from_slice(&bytes[first.1..second.0]);
            out.extend_from_slice(&bytes[first.0..first.1]);
            out.extend_from_slice(&bytes[second.1..]);
            *bytes = out;
        }
        _ => {}
    }
}

/// What every accepted input must satisfy.
fn check_accepted(mm: &MatrixMarket) -> Result<(), TestCaseError> {
    let h = &mm.header;
    prop_assert!(
        mm.pattern.check_invariants().is_ok(),
        "{:?}",
        mm.pattern.check_invariants()
    );
    prop_assert_eq!(mm.pattern.shape(), (h.nrows, h.ncols));
    prop_assert_eq!(mm.values.is_none(), h.field == MtxField::Pattern);
    if let Some(v) = &mm.values {
        prop_assert_eq!(v.len(), mm.pattern.nnz());
        prop_assert!(
            v.iter().all(|x| x.is_finite() || h.entries > 1),
            "only sums of duplicates can overflow"
        );
    }
    if h.symmetry == MtxSymmetry::General {
        prop_assert!(mm.pattern.nnz() <= h.entries);
    } else {
        prop_assert!(mm.pattern.nnz() <= 2 * h.entries);
        prop_assert!(mm.pattern.is_symmetric());
    }
    if h.symmetry == MtxSymmetry::SkewSymmetric {
        prop_assert!((0..h.nrows).all(|i| !mm.pattern.contains(i, i)));
    }
    Ok(())
}

/// A random pattern (n×m for `General`, n×n with the requested symmetry otherwise) built from
/// `coords`, and values drawn from `table` that have that symmetry.
fn random_matrix(
    n: usize,
    m: usize,
    coords: &[(usize, usize)],
    table: &[f64],
    symmetry: MtxSymmetry,
) -> (Pattern, Vec<f64>) {
    let value = |i: usize, j: usize| table[(i * 31 + j * 17) % table.len()];
    match symmetry {
        MtxSymmetry::General => {
            let p =
                Pattern::from_entries(n, m, coords.iter().map(|&(i, j)| (i % n, j % m))).unwrap();
            let v = p.iter().map(|(i, j)| value(i, j)).collect();
            (p, v)
        }
        _ => {
            let skew = symmetry == MtxSymmetry::SkewSymmetric;
            let entries = coords
                .iter()
                .map(|&(i, j)| (i % n, j % n))
                .filter(|&(i, j)| !(skew && i == j))
                .flat_map(|(i, j)| [(i, j), (j, i)]);
            let p = Pattern::from_entries(n, n, entries).unwrap();
            let v = p
                .iter()
                .map(|(i, j)| {
                    let x = value(i.min(j), i.max(j));
                    if skew && i < j { -x } else { x }
                })
                .collect();
            (p, v)
        }
    }
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
        (-1000i32..1000).prop_map(f64::from),
        (-1000i32..1000).prop_map(|k| f64::from(k) / 7.0),
    ]
}

/// The proptest blocks run `PROPTEST_CASES` cases when it is set.
#[test]
fn proptest_cases_come_from_the_environment() {
    testing::assert_cases_come_from_the_environment(
        "proptest_cases_come_from_the_environment",
        512,
    );
}

#[test]
fn unmutated_shipped_files_are_accepted() {
    for file in small_files() {
        let mm = parse_matrix_market(file).unwrap();
        check_accepted(&mm).unwrap();
    }
}

proptest! {
    #![proptest_config(testing::config_in_memory(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(mm) = parse_matrix_market_bytes(&bytes) {
            check_accepted(&mm)?;
        }
    }

    #[test]
    fn arbitrary_bodies_after_a_header_never_panic(
        header in prop::sample::select(HEADERS),
        body in prop::collection::vec(
            prop_oneof![
                4 => prop::sample::select(b"0123456789 \n\t.-+eE%".to_vec()),
                1 => any::<u8>(),
            ],
            0..512,
        ),
    ) {
        let mut bytes = header.as_bytes().to_vec();
        bytes.extend_from_slice(&body);
        if let Ok(mm) = parse_matrix_market_bytes(&bytes) {
            check_accepted(&mm)?;
        }
    }
}

proptest! {
    #![proptest_config(testing::config_in_memory(512))]

    #[test]
    fn mutated_shipped_files_never_panic(
        file in prop::sample::select(small_files()),
        mutations in prop::collection::vec(mutation(), 1..8),
    ) {
        let mut bytes = file.as_bytes().to_vec();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        match parse_matrix_market_bytes(&bytes) {
            Ok(mm) => {
                check_accepted(&mm)?;
                // Accepted input that is text parses the same way through the &str entry point.
                let text = std::str::from_utf8(&bytes).expect("accepted input is UTF-8");
                prop_assert_eq!(parse_matrix_market(text).ok(), Some(mm));
            }
            Err(e) => {
                // Every error renders a message (and must not panic doing so).
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn written_patterns_read_back_unchanged(
        n in 0usize..25,
        m in 1usize..25,
        coords in prop::collection::vec((0usize..1000, 0usize..1000), 0..120),
        table in prop::collection::vec(finite_f64(), 1..40),
        symmetry in prop::sample::select(&[
            MtxSymmetry::General,
            MtxSymmetry::Symmetric,
            MtxSymmetry::SkewSymmetric,
            MtxSymmetry::Hermitian,
        ][..]),
        with_values in any::<bool>(),
    ) {
        let n = n.max(1);
        let (p, v) = random_matrix(n, m, &coords, &table, symmetry);
        let values = with_values.then_some(&v[..]);
        let text = to_matrix_market_string(&p, values, symmetry).unwrap();
        let mm = parse_matrix_market(&text).unwrap();
        check_accepted(&mm)?;
        prop_assert_eq!(&mm.pattern, &p);
        prop_assert_eq!(mm.header.symmetry, symmetry);
        match (values, mm.values) {
            (None, None) => {}
            (Some(a), Some(b)) => {
                // Exact, bit for bit (the writer writes each stored value itself).
                let a: Vec<u64> = a.iter().map(|x| x.to_bits()).collect();
                let b: Vec<u64> = b.iter().map(|x| x.to_bits()).collect();
                prop_assert_eq!(a, b);
            }
            (a, b) => prop_assert!(false, "values differ: {:?} vs {:?}", a, b),
        }
    }
}

/// A float written in one of the styles found in Matrix Market files.
fn float_text() -> impl Strategy<Value = String> {
    let style = 0usize..7;
    (finite_f64(), style, 0usize..18).prop_map(|(x, style, prec)| match style {
        0 => format!("{x}"),
        1 => format!("{x:e}"),
        2 => format!("{x:.prec$e}"),
        3 => format!("{x:.prec$E}"),
        4 => format!("{x:?}"),
        5 => format!("{x:.prec$}").trim_start_matches('0').to_owned(),
        _ => format!("{:.prec$}", x / 1e10),
    })
}

proptest! {
    #![proptest_config(testing::config_in_memory(1024))]

    /// Values read from a file are exactly what `str::parse::<f64>` gives for the token.
    #[test]
    fn values_parse_exactly(tokens in prop::collection::vec(float_text(), 1..20)) {
        let mut text = format!("%%MatrixMarket matrix coordinate real general\n{} 1 {}\n", tokens.len(), tokens.len());
        for (k, t) in tokens.iter().enumerate() {
            text.push_str(&format!("{} 1 {t}\n", k + 1));
        }
        let mm = parse_matrix_market(&text);
        let expected: Option<Vec<u64>> =
            tokens.iter().map(|t| t.parse::<f64>().ok().filter(|x| x.is_finite()).map(f64::to_bits)).collect();
        match (mm, expected) {
            (Ok(mm), Some(bits)) => {
                let got: Vec<u64> = mm.values.unwrap().iter().map(|x| x.to_bits()).collect();
                prop_assert_eq!(got, bits);
            }
            (Err(_), None) => {}
            (mm, expected) => prop_assert!(false, "{:?} vs {:?} for {:?}", mm.map(|m| m.values), expected, tokens),
        }
    }
}
