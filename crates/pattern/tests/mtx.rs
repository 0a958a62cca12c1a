//! Matrix Market reader and writer: the shipped matrices, one test per error kind, round trips.

use std::path::PathBuf;

use sparsediff_pattern::mtx::{
    parse_matrix_market_bytes, to_matrix_market_string, write_matrix_market_file,
};
use sparsediff_pattern::{
    MatrixMarket, MtxErrorKind, MtxField, MtxSymmetry, Pattern, PatternError, parse_matrix_market,
    read_matrix_market, write_matrix_market,
};

macro_rules! data {
    ($name:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/matrices/", $name)
    };
}

/// Parses `text` and returns the error, failing the test when parsing succeeds.
fn err(text: &str) -> PatternError {
    match parse_matrix_market(text) {
        Ok(mm) => panic!("expected an error, parsed {mm:?}"),
        Err(e) => e,
    }
}

/// The (line, kind) of a Matrix Market error, failing the test on any other error.
fn mtx_err(text: &str) -> (usize, MtxErrorKind) {
    match err(text) {
        PatternError::MatrixMarket {
            path: None,
            line,
            kind,
        } => (line, kind),
        other => panic!("expected a MatrixMarket error without path, got {other:?}"),
    }
}

const REAL_GENERAL: &str = "%%MatrixMarket matrix coordinate real general\n";
const REAL_SYMMETRIC: &str = "%%MatrixMarket matrix coordinate real symmetric\n";

fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sparsediff-mtx-test-{}-{name}", std::process::id()))
}

/// Number of stored diagonal entries, counted from the text independently of the parser.
fn count_stored_diagonal(text: &str) -> usize {
    text.lines()
        .filter(|l| !l.starts_with('%'))
        .skip(1) // size line
        .filter(|l| {
            let mut it = l.split_whitespace();
            matches!((it.next(), it.next()), (Some(i), Some(j)) if i == j)
        })
        .count()
}

// ----------------------------------------------------------------------------------------
// Shipped files
// ----------------------------------------------------------------------------------------

#[test]
fn lp_ken_11() {
    let mm = read_matrix_market(data!("lp_ken_11.mtx")).unwrap();
    assert_eq!(mm.header.field, MtxField::Integer);
    assert_eq!(mm.header.symmetry, MtxSymmetry::General);
    assert_eq!(
        (mm.header.nrows, mm.header.ncols, mm.header.entries),
        (14694, 21349, 49058)
    );
    let p = &mm.pattern;
    assert_eq!(p.shape(), (14694, 21349));
    assert_eq!(p.nnz(), 49058);
    assert_eq!(p.row_stats().max, 122);
    assert_eq!(p.col_stats().max, 3);
    p.check_invariants().unwrap();
    let values = mm.values.as_ref().unwrap();
    assert_eq!(values.len(), 49058);
    assert!(values.iter().all(|v| v.fract() == 0.0 && *v != 0.0));
    // "1 1 1", "70 1 -1", "14642 1 1" are the first lines.
    assert_eq!(values[p.position(0, 0).unwrap()], 1.0);
    assert_eq!(values[p.position(69, 0).unwrap()], -1.0);
    assert_eq!(values[p.position(14641, 0).unwrap()], 1.0);
}

#[test]
fn bcsstk01_is_expanded_to_both_triangles() {
    let text = std::fs::read_to_string(data!("bcsstk01.mtx")).unwrap();
    let diag = count_stored_diagonal(&text);
    assert_eq!(diag, 48, "bcsstk01 stores its whole diagonal");
    let mm = read_matrix_market(data!("bcsstk01.mtx")).unwrap();
    assert_eq!(mm.header.symmetry, MtxSymmetry::Symmetric);
    assert_eq!(mm.header.entries, 224);
    assert_eq!(mm.pattern.shape(), (48, 48));
    assert_eq!(mm.pattern.nnz(), 2 * 224 - diag);
    assert_eq!(mm.pattern.nnz(), 400);
    assert!(mm.pattern.is_symmetric());
    assert!(mm.pattern.has_full_diagonal());
    let v = mm.values.as_ref().unwrap();
    for (k, (i, j)) in mm.pattern.iter().enumerate() {
        assert_eq!(v[k], v[mm.pattern.position(j, i).unwrap()], "({i}, {j})");
    }
    // "5 1  1.0000000000000e+06" and "7 1 -3.3333333333300e+03"
    assert_eq!(v[mm.pattern.position(0, 4).unwrap()], 1.0e6);
    assert_eq!(v[mm.pattern.position(6, 0).unwrap()], -3.33333333333e3);
}

#[test]
fn hess_pat_and_jac_pat() {
    let h = read_matrix_market(data!("hess_pat.mtx")).unwrap();
    assert_eq!(h.pattern.shape(), (43, 43));
    assert_eq!(h.pattern.nnz(), 230);
    assert_eq!(h.header.symmetry, MtxSymmetry::General);
    assert!(h.pattern.is_symmetric());
    let j = read_matrix_market(data!("jac_pat.mtx")).unwrap();
    assert_eq!(j.pattern.shape(), (10, 43));
    assert_eq!(j.pattern.nnz(), 78);
    // jac_pat is stored row by row with sorted columns, so its values come back in file order.
    let text = std::fs::read_to_string(data!("jac_pat.mtx")).unwrap();
    let expected: Vec<f64> = text
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(expected.len(), 78);
    assert_eq!(j.values.unwrap(), expected);
}

#[test]
fn small_shipped_files() {
    let spear = read_matrix_market(data!("mtx-spear-head.mtx")).unwrap();
    assert_eq!((spear.pattern.shape(), spear.pattern.nnz()), ((10, 10), 28));
    let v = spear.values.as_ref().unwrap();
    assert_eq!(v[spear.pattern.position(0, 0).unwrap()], 0.666666666666667);
    assert_eq!(
        v[spear.pattern.position(0, 1).unwrap()],
        -6.310289677458059e-7
    );
    let row = read_matrix_market(data!("row-compress.mtx")).unwrap();
    let col = read_matrix_market(data!("column-compress.mtx")).unwrap();
    assert_eq!(row.pattern.nnz(), 19);
    assert_eq!(col.pattern, row.pattern.transpose());
    // tab-separated
    let small = read_matrix_market(data!("hess_pat_small.mtx")).unwrap();
    assert_eq!((small.pattern.shape(), small.pattern.nnz()), ((10, 10), 36));
    assert_eq!(small.pattern.row(0), &[0, 1, 4]);
}

#[test]
fn shipped_files_round_trip() {
    // every shipped matrix, written with the symmetry its header declares
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/matrices");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "mtx"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 9, "{paths:?}");
    for path in &paths {
        let mm = read_matrix_market(path).unwrap();
        let symmetry = match mm.header.symmetry {
            MtxSymmetry::Symmetric => MtxSymmetry::Symmetric,
            _ => MtxSymmetry::General,
        };
        let text = to_matrix_market_string(&mm.pattern, mm.values.as_deref(), symmetry).unwrap();
        let back = parse_matrix_market(&text).unwrap();
        let name = path.display();
        assert_eq!(back.pattern, mm.pattern, "{name}");
        assert_eq!(back.values, mm.values, "{name}");
        assert_eq!(back.header.symmetry, symmetry, "{name}");
    }
}

// ----------------------------------------------------------------------------------------
// Accepted variations
// ----------------------------------------------------------------------------------------

#[test]
fn comments_blank_lines_crlf_tabs_and_case() {
    let text = "%%matrixmarket MATRIX Coordinate REAL General\r\n\
                % comment\r\n\
                \r\n\
                %another\r\n\
                3 4 3\r\n\
                \r\n\
                1\t1 .5\r\n\
                % comment between entries\r\n\
                \t 3   4\t-6.3e-7 \r\n\
                2 2 1E+3\r\n\
                \r\n\
                % trailing comment\r\n\
                \n";
    let mm = parse_matrix_market(text).unwrap();
    assert_eq!(mm.pattern.shape(), (3, 4));
    assert_eq!(
        mm.pattern.iter().collect::<Vec<_>>(),
        vec![(0, 0), (1, 1), (2, 3)]
    );
    assert_eq!(mm.values.unwrap(), vec![0.5, 1000.0, -6.3e-7]);
}

#[test]
fn byte_order_mark_and_fortran_exponents() {
    let text = "\u{feff}%%MatrixMarket matrix coordinate real general\n1 1 1\n1 1 1.5D+03\n";
    let mm = parse_matrix_market(text).unwrap();
    assert_eq!(mm.values.unwrap(), vec![1500.0]);
}

#[test]
fn duplicates_are_merged_and_summed_in_any_order() {
    let text = format!("{REAL_GENERAL}3 3 6\n3 1 1\n1 3 2\n1 1 3\n1 3 4\n1 2 5\n3 1 0.5\n");
    let mm = parse_matrix_market(&text).unwrap();
    assert_eq!(mm.header.entries, 6);
    assert_eq!(
        mm.pattern.iter().collect::<Vec<_>>(),
        vec![(0, 0), (0, 1), (0, 2), (2, 0)]
    );
    assert_eq!(mm.values.unwrap(), vec![3.0, 5.0, 6.0, 1.5]);
    mm.pattern.check_invariants().unwrap();

    let pat = "%%MatrixMarket matrix coordinate pattern general\n2 2 4\n2 2\n1 2\n2 2\n1 1\n";
    let mm = parse_matrix_market(pat).unwrap();
    assert_eq!(mm.values, None);
    assert_eq!(
        mm.pattern.iter().collect::<Vec<_>>(),
        vec![(0, 0), (0, 1), (1, 1)]
    );
}

#[test]
fn symmetric_duplicates_and_row_major_lower_triangle() {
    let text = format!("{REAL_SYMMETRIC}3 3 5\n2 1 1\n2 2 2\n3 1 3\n3 3 4\n2 1 10\n");
    let mm = parse_matrix_market(&text).unwrap();
    let p = &mm.pattern;
    assert_eq!(
        p.iter().collect::<Vec<_>>(),
        vec![(0, 1), (0, 2), (1, 0), (1, 1), (2, 0), (2, 2)]
    );
    assert_eq!(mm.values.unwrap(), vec![11.0, 3.0, 11.0, 2.0, 3.0, 4.0]);
}

#[test]
fn skew_symmetric_mirror_is_negated() {
    let text = "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 1.5\n3 2 -2\n";
    let mm = parse_matrix_market(text).unwrap();
    assert_eq!(mm.header.symmetry, MtxSymmetry::SkewSymmetric);
    assert_eq!(
        mm.pattern.iter().collect::<Vec<_>>(),
        vec![(0, 1), (1, 0), (1, 2), (2, 1)]
    );
    assert_eq!(mm.values.unwrap(), vec![-1.5, 1.5, 2.0, -2.0]);
}

#[test]
fn complex_hermitian_keeps_real_parts() {
    let text =
        "%%MatrixMarket matrix coordinate complex hermitian\n2 2 3\n1 1 1 0\n2 1 2.5 -1\n2 2 3 0\n";
    let mm = parse_matrix_market(text).unwrap();
    assert_eq!(mm.header.field, MtxField::Complex);
    assert_eq!(mm.pattern.nnz(), 4);
    assert_eq!(mm.values.unwrap(), vec![1.0, 2.5, 2.5, 3.0]);
}

#[test]
fn pattern_symmetric_and_integer_files() {
    let text = "%%MatrixMarket matrix coordinate pattern symmetric\n3 3 3\n1 1\n3 1\n3 3\n";
    let mm = parse_matrix_market(text).unwrap();
    assert_eq!(mm.values, None);
    assert_eq!(
        mm.into_pattern().iter().collect::<Vec<_>>(),
        vec![(0, 0), (0, 2), (2, 0), (2, 2)]
    );
    let text = "%%MatrixMarket matrix coordinate integer general\n1 2 2\n1 1 -7\n1 2 +3\n";
    assert_eq!(
        parse_matrix_market(text).unwrap().values.unwrap(),
        vec![-7.0, 3.0]
    );
}

#[test]
fn empty_and_zero_sized_matrices() {
    let mm =
        parse_matrix_market("%%MatrixMarket matrix coordinate pattern general\n0 0 0\n").unwrap();
    assert_eq!((mm.pattern.shape(), mm.pattern.nnz()), ((0, 0), 0));
    let mm = parse_matrix_market(&format!("{REAL_GENERAL}5 3 0")).unwrap();
    assert_eq!((mm.pattern.shape(), mm.pattern.nnz()), ((5, 3), 0));
    assert_eq!(mm.values, Some(vec![]));
}

#[test]
fn no_trailing_newline() {
    let mm = parse_matrix_market(&format!("{REAL_GENERAL}2 2 1\n2 1 4")).unwrap();
    assert_eq!(mm.values.unwrap(), vec![4.0]);
}

// ----------------------------------------------------------------------------------------
// One test per error kind
// ----------------------------------------------------------------------------------------

#[test]
fn error_empty_input() {
    assert!(matches!(mtx_err(""), (1, MtxErrorKind::MissingBanner)));
    assert!(matches!(
        parse_matrix_market_bytes(b""),
        Err(PatternError::MatrixMarket {
            line: 1,
            kind: MtxErrorKind::MissingBanner,
            ..
        })
    ));
}

#[test]
fn error_missing_banner() {
    assert!(matches!(
        mtx_err("3 3 1\n1 1 1\n"),
        (1, MtxErrorKind::MissingBanner)
    ));
    assert!(matches!(
        mtx_err("%MatrixMarket matrix coordinate real general\n1 1 0\n"),
        (1, MtxErrorKind::MissingBanner)
    ));
    // The banner must be the first line.
    assert!(matches!(
        mtx_err(&format!("\n{REAL_GENERAL}1 1 0\n")),
        (1, MtxErrorKind::MissingBanner)
    ));
}

#[test]
fn error_bad_banner() {
    let (line, kind) = mtx_err("%%MatrixMarket matrix coordinate real\n1 1 0\n");
    assert_eq!(line, 1);
    assert!(
        matches!(&kind, MtxErrorKind::BadBanner { found } if found == "%%MatrixMarket matrix coordinate real")
    );
    assert!(matches!(
        mtx_err("%%MatrixMarket vector coordinate real general\n1 1 0\n"),
        (1, MtxErrorKind::BadBanner { .. })
    ));
    assert!(matches!(
        mtx_err("%%MatrixMarket matrix coordinate real general extra\n1 1 0\n"),
        (1, MtxErrorKind::BadBanner { .. })
    ));
    assert!(matches!(
        mtx_err("%%MatrixMarketmatrix coordinate real general\n"),
        (1, MtxErrorKind::BadBanner { .. })
    ));
}

#[test]
fn error_array_format() {
    let (line, kind) = mtx_err("%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n");
    assert_eq!(line, 1);
    assert_eq!(
        kind,
        MtxErrorKind::UnsupportedFormat {
            found: "array".into()
        }
    );
    assert_eq!(
        err("%%MatrixMarket matrix array real general\n").to_string(),
        "line 1: format `array` is not supported (only `coordinate` is)"
    );
}

#[test]
fn error_unknown_field_and_symmetry() {
    assert!(matches!(
        mtx_err("%%MatrixMarket matrix coordinate double general\n1 1 0\n"),
        (1, MtxErrorKind::UnknownField { found }) if found == "double"
    ));
    assert!(matches!(
        mtx_err("%%MatrixMarket matrix coordinate real upper\n1 1 0\n"),
        (1, MtxErrorKind::UnknownSymmetry { found }) if found == "upper"
    ));
}

#[test]
fn error_missing_size_line() {
    assert!(matches!(
        mtx_err(REAL_GENERAL),
        (2, MtxErrorKind::MissingSizeLine)
    ));
    assert!(matches!(
        mtx_err(&format!("{REAL_GENERAL}% only comments\n\n")),
        (4, MtxErrorKind::MissingSizeLine)
    ));
}

#[test]
fn error_size_line_with_two_numbers() {
    let (line, kind) = mtx_err(&format!("{REAL_GENERAL}% c\n10 10\n1 1 1\n"));
    assert_eq!(line, 3);
    assert_eq!(
        kind,
        MtxErrorKind::BadSizeLine {
            found: "10 10".into()
        }
    );
}

#[test]
fn error_bad_size_line() {
    for size in [
        "10 10 x",
        "10 -10 3",
        "10 10 3 4",
        "1.0 1 1",
        "99999999999999999999999 1 1",
    ] {
        let (line, kind) = mtx_err(&format!("{REAL_GENERAL}{size}\n"));
        assert_eq!(line, 2, "{size}");
        assert!(
            matches!(kind, MtxErrorKind::BadSizeLine { .. }),
            "{size}: {kind:?}"
        );
    }
}

#[test]
fn error_wrong_field_count() {
    let text = format!("{REAL_GENERAL}3 3 3\n1 1 1\n2 2\n3 3 3\n");
    assert!(matches!(
        mtx_err(&text),
        (
            4,
            MtxErrorKind::WrongFieldCount {
                expected: 3,
                found: 2
            }
        )
    ));
    let text = "%%MatrixMarket matrix coordinate pattern general\n3 3 2\n1 1\n2 2 1\n";
    assert!(matches!(
        mtx_err(text),
        (
            4,
            MtxErrorKind::WrongFieldCount {
                expected: 2,
                found: 3
            }
        )
    ));
    let text = "%%MatrixMarket matrix coordinate complex general\n3 3 1\n1 1 1\n";
    assert!(matches!(
        mtx_err(text),
        (
            3,
            MtxErrorKind::WrongFieldCount {
                expected: 4,
                found: 3
            }
        )
    ));
    let text = format!("{REAL_GENERAL}3 3 1\n1 1 1 % trailing comment\n");
    assert!(matches!(
        mtx_err(&text),
        (
            3,
            MtxErrorKind::WrongFieldCount {
                expected: 3,
                found: 6
            }
        )
    ));
}

#[test]
fn error_non_numeric_index() {
    let (line, kind) = mtx_err(&format!("{REAL_GENERAL}3 3 2\n1 1 1\nx 2 1\n"));
    assert_eq!(line, 4);
    assert_eq!(
        kind,
        MtxErrorKind::BadIndex {
            which: "row",
            found: "x".into()
        }
    );
    for (entry, which) in [
        ("1 1.0 1", "column"),
        ("-1 1 1", "row"),
        ("1 +1 1", "column"),
        ("1e0 1 1", "row"),
    ] {
        let (line, kind) = mtx_err(&format!("{REAL_GENERAL}3 3 1\n{entry}\n"));
        assert_eq!(line, 3);
        assert!(
            matches!(kind, MtxErrorKind::BadIndex { which: w, .. } if w == which),
            "{entry}: {kind:?}"
        );
    }
    // An index too large for any integer type.
    let (line, kind) = mtx_err(&format!(
        "{REAL_GENERAL}3 3 1\n1 99999999999999999999999 1\n"
    ));
    assert_eq!(line, 3);
    assert!(matches!(
        kind,
        MtxErrorKind::BadIndex {
            which: "column",
            ..
        }
    ));
}

#[test]
fn error_non_numeric_value() {
    let (line, kind) = mtx_err(&format!("{REAL_GENERAL}3 3 2\n1 1 1\n2 2 abc\n"));
    assert_eq!(line, 4);
    assert_eq!(
        kind,
        MtxErrorKind::BadValue {
            found: "abc".into()
        }
    );
    for bad in ["1.0.0", "e5", "1,5", "0x10", "--1"] {
        assert!(
            matches!(
                mtx_err(&format!("{REAL_GENERAL}1 1 1\n1 1 {bad}\n")),
                (3, MtxErrorKind::BadValue { .. })
            ),
            "{bad}"
        );
    }
    // The imaginary part is checked too.
    let text = "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 i\n";
    assert!(matches!(mtx_err(text), (3, MtxErrorKind::BadValue { found }) if found == "i"));
}

#[test]
fn error_integer_field_needs_integers() {
    let text = "%%MatrixMarket matrix coordinate integer general\n2 2 2\n1 1 3\n2 2 1.5\n";
    assert!(matches!(mtx_err(text), (4, MtxErrorKind::NotAnInteger { found }) if found == "1.5"));
}

#[test]
fn error_index_zero() {
    let (line, kind) = mtx_err(&format!("{REAL_GENERAL}3 3 1\n0 1 1\n"));
    assert_eq!(line, 3);
    assert_eq!(
        kind,
        MtxErrorKind::IndexOutOfRange {
            which: "row",
            index: 0,
            dim: 3
        }
    );
    assert!(matches!(
        mtx_err(&format!("{REAL_GENERAL}3 3 1\n1 0 1\n")),
        (
            3,
            MtxErrorKind::IndexOutOfRange {
                which: "column",
                index: 0,
                dim: 3
            }
        )
    ));
}

#[test]
fn error_index_out_of_range() {
    let text =
        "%%MatrixMarket matrix coordinate pattern general\n% c\n% c\n43 43 3\n1 1\n2 2\n3 44\n";
    let e = err(text);
    assert!(matches!(
        e,
        PatternError::MatrixMarket {
            line: 7,
            kind: MtxErrorKind::IndexOutOfRange {
                which: "column",
                index: 44,
                dim: 43
            },
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "line 7: column index 44 is out of range 1..=43"
    );
    assert!(matches!(
        mtx_err(&format!("{REAL_GENERAL}10 43 1\n11 43 1\n")),
        (
            3,
            MtxErrorKind::IndexOutOfRange {
                which: "row",
                index: 11,
                dim: 10
            }
        )
    ));
    // Any entry of a matrix without rows is out of range.
    assert!(matches!(
        mtx_err(&format!("{REAL_GENERAL}0 4 1\n1 1 1\n")),
        (
            3,
            MtxErrorKind::IndexOutOfRange {
                which: "row",
                index: 1,
                dim: 0
            }
        )
    ));
}

#[test]
fn error_truncated_file() {
    // Three lines of entries declared, two present: the error points after the last line.
    let text = format!("{REAL_GENERAL}3 3 3\n1 1 1\n2 2 2\n");
    let (line, kind) = mtx_err(&text);
    assert_eq!(
        kind,
        MtxErrorKind::TooFewEntries {
            declared: 3,
            found: 2
        }
    );
    assert_eq!(line, 5);
    // Truncated in the middle of a line: that line is incomplete.
    let (line, kind) = mtx_err(&format!("{REAL_GENERAL}3 3 3\n1 1 1\n2 2"));
    assert_eq!(
        (line, kind),
        (
            4,
            MtxErrorKind::WrongFieldCount {
                expected: 3,
                found: 2
            }
        )
    );
    // Truncated after a complete line without newline.
    let (line, kind) = mtx_err(&format!("{REAL_GENERAL}3 3 3\n1 1 1\n2 2 2"));
    assert_eq!(
        (line, kind),
        (
            5,
            MtxErrorKind::TooFewEntries {
                declared: 3,
                found: 2
            }
        )
    );
}

#[test]
fn error_extra_entries() {
    let text = format!("{REAL_GENERAL}3 3 2\n1 1 1\n2 2 2\n% fine\n\n3 3 3\n");
    assert!(matches!(
        mtx_err(&text),
        (7, MtxErrorKind::TooManyEntries { declared: 2 })
    ));
    // Even garbage after the last entry counts as extra data.
    let text = format!("{REAL_GENERAL}3 3 0\nxyz\n");
    assert!(matches!(
        mtx_err(&text),
        (3, MtxErrorKind::TooManyEntries { declared: 0 })
    ));
}

#[test]
fn error_nan_and_infinite_values() {
    for bad in ["NaN", "nan", "inf", "-Infinity", "1e400"] {
        let (line, kind) = mtx_err(&format!("{REAL_GENERAL}2 2 2\n1 1 1\n2 2 {bad}\n"));
        assert_eq!(line, 4);
        assert_eq!(
            kind,
            MtxErrorKind::NonFiniteValue { found: bad.into() },
            "{bad}"
        );
    }
    let text = "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 nan\n";
    assert!(matches!(
        mtx_err(text),
        (3, MtxErrorKind::NonFiniteValue { .. })
    ));
}

#[test]
fn error_upper_entry_in_symmetric_file() {
    let text = format!("{REAL_SYMMETRIC}3 3 3\n1 1 1\n2 1 1\n2 3 1\n");
    assert!(matches!(
        mtx_err(&text),
        (
            5,
            MtxErrorKind::UpperEntryInSymmetricFile { row: 2, col: 3 }
        )
    ));
    let text = "%%MatrixMarket matrix coordinate pattern hermitian\n3 3 1\n1 2\n";
    assert!(matches!(
        mtx_err(text),
        (
            3,
            MtxErrorKind::UpperEntryInSymmetricFile { row: 1, col: 2 }
        )
    ));
}

#[test]
fn error_diagonal_in_skew_symmetric_file() {
    let text = "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 1\n2 2 0\n";
    assert!(matches!(
        mtx_err(text),
        (4, MtxErrorKind::DiagonalInSkewSymmetric { row: 2 })
    ));
}

#[test]
fn error_rectangular_symmetric_file() {
    let text = format!("{REAL_SYMMETRIC}% c\n3 4 0\n");
    assert!(matches!(
        mtx_err(&text),
        (3, MtxErrorKind::NotSquareSymmetric { nrows: 3, ncols: 4 })
    ));
}

#[test]
fn error_non_utf8_bytes() {
    let mut bytes = format!("{REAL_GENERAL}2 2 2\n1 1 1\n").into_bytes();
    bytes.extend_from_slice(b"2 2 \xff\xfe\n");
    assert!(matches!(
        parse_matrix_market_bytes(&bytes),
        Err(PatternError::MatrixMarket {
            path: None,
            line: 4,
            kind: MtxErrorKind::NotUtf8
        })
    ));
    assert!(matches!(
        parse_matrix_market_bytes(b"\xc3\x28"),
        Err(PatternError::MatrixMarket {
            line: 1,
            kind: MtxErrorKind::NotUtf8,
            ..
        })
    ));
}

#[test]
fn error_absurd_declared_sizes() {
    // Dimensions beyond MAX_DIM: refused before anything is allocated.
    let e = err(&format!(
        "{REAL_GENERAL}1000000000000 1000000000000 5\n1 1 1\n"
    ));
    assert!(
        matches!(
            e,
            PatternError::TooLarge {
                what: "nrows",
                value: 1_000_000_000_000,
                ..
            }
        ),
        "{e:?}"
    );
    let e = err(&format!("{REAL_GENERAL}3 1000000000000 5\n"));
    assert!(
        matches!(e, PatternError::TooLarge { what: "ncols", .. }),
        "{e:?}"
    );
    // An entry count beyond MAX_NNZ.
    let e = err(&format!("{REAL_GENERAL}3 3 1000000000000\n1 1 1\n"));
    assert!(
        matches!(e, PatternError::TooLarge { what: "nnz", .. }),
        "{e:?}"
    );
    // A count just under MAX_NNZ with a tiny body: no preallocation from the declared count,
    // just the missing entries reported.
    let (line, kind) = mtx_err(&format!("{REAL_GENERAL}3 3 268435456\n1 1 1\n"));
    assert_eq!(
        (line, kind),
        (
            4,
            MtxErrorKind::TooFewEntries {
                declared: 268435456,
                found: 1
            }
        )
    );
}

#[test]
fn error_dimensions_beyond_what_the_entries_justify() {
    use sparsediff_pattern::mtx::{DIM_PER_ENTRY, FREE_DIM, dimension_limit};
    // 74 bytes declaring 2^28 rows and one entry: the row pointers alone were 2 GiB (4 GiB
    // while building), now refused on the size line.
    let text = format!("{REAL_GENERAL}268435456 268435456 1\n1 1 1\n");
    assert_eq!(
        mtx_err(&text),
        (
            2,
            MtxErrorKind::DimensionTooLarge {
                which: "rows",
                dim: 268435456,
                entries: 1,
                limit: FREE_DIM
            }
        )
    );
    let (line, kind) = mtx_err(&format!("{REAL_GENERAL}% c\n3 268435456 1\n1 1 1\n"));
    assert_eq!(line, 3);
    assert!(
        matches!(
            kind,
            MtxErrorKind::DimensionTooLarge {
                which: "columns",
                ..
            }
        ),
        "{kind:?}"
    );
    // FREE_DIM is always accepted; above it, DIM_PER_ENTRY rows per entry line.
    let mm =
        parse_matrix_market(&format!("{REAL_GENERAL}{FREE_DIM} 1 1\n{FREE_DIM} 1 1\n")).unwrap();
    assert_eq!(mm.pattern.shape(), (FREE_DIM, 1));
    let entries = FREE_DIM / DIM_PER_ENTRY + 1;
    let n = dimension_limit(entries);
    assert_eq!(n, DIM_PER_ENTRY * entries);
    let body: String = (1..=entries).map(|k| format!("{k} 1\n")).collect();
    let pattern_file = |rows: usize| {
        format!("%%MatrixMarket matrix coordinate pattern general\n{rows} 1 {entries}\n{body}")
    };
    assert_eq!(
        parse_matrix_market(&pattern_file(n)).unwrap().pattern.nnz(),
        entries
    );
    assert!(matches!(
        mtx_err(&pattern_file(n + 1)),
        (2, MtxErrorKind::DimensionTooLarge { limit, .. }) if limit == n
    ));
}

#[test]
fn error_duplicates_whose_sum_overflows() {
    // Each value is finite, their sum is not: refused with the lines summed, as 1e400 is.
    let text = format!("{REAL_GENERAL}2 2 2\n1 1 1.7e308\n1 1 1.7e308\n");
    assert_eq!(
        mtx_err(&text),
        (
            4,
            MtxErrorKind::SumOverflow {
                row: 1,
                col: 1,
                count: 2,
                lines: vec![3, 4]
            }
        )
    );
    // Comments between the entries, a third duplicate after the overflow, a negative sum.
    let text =
        format!("{REAL_GENERAL}2 2 5\n2 2 1\n1 2 -1e308\n% c\n\n1 2 -1e308\n1 2 5e307\n1 2 1\n");
    let (line, kind) = mtx_err(&text);
    assert_eq!(line, 7);
    assert_eq!(
        kind,
        MtxErrorKind::SumOverflow {
            row: 1,
            col: 2,
            count: 2,
            lines: vec![4, 7]
        }
    );
    // The mirror of a symmetric file's entry overflows first in row order.
    let text = format!("{REAL_SYMMETRIC}2 2 2\n2 1 1.7e308\n2 1 1.7e308\n");
    assert!(matches!(
        mtx_err(&text),
        (4, MtxErrorKind::SumOverflow { row: 1, col: 2, .. })
    ));
    // Sums that stay finite are still accepted, cancellation included.
    let text = format!("{REAL_GENERAL}1 1 3\n1 1 1.7e308\n1 1 -1.7e308\n1 1 1.7e308\n");
    assert_eq!(
        parse_matrix_market(&text).unwrap().values.unwrap(),
        vec![1.7e308]
    );
}

#[test]
fn error_lines_without_end() {
    use sparsediff_pattern::mtx::MAX_LINE_BYTES;
    // No line end at all: refused after MAX_LINE_BYTES, not read to the end (or the end of
    // memory, for /dev/zero).
    let zeros = vec![0u8; 3 * MAX_LINE_BYTES];
    assert!(matches!(
        parse_matrix_market_bytes(&zeros),
        Err(PatternError::MatrixMarket {
            line: 1,
            kind: MtxErrorKind::LineTooLong {
                limit: MAX_LINE_BYTES
            },
            ..
        })
    ));
    let long = format!("{REAL_GENERAL}2 2 1\n1 1 1{}\n", " ".repeat(MAX_LINE_BYTES));
    assert_eq!(
        mtx_err(&long),
        (
            3,
            MtxErrorKind::LineTooLong {
                limit: MAX_LINE_BYTES
            }
        )
    );
    // A line of exactly MAX_LINE_BYTES is fine.
    let comment = format!("%{}\n", "c".repeat(MAX_LINE_BYTES - 1));
    let text = format!("{REAL_GENERAL}{comment}2 2 1\n1 1 1\n");
    assert_eq!(parse_matrix_market(&text).unwrap().pattern.nnz(), 1);
    #[cfg(target_os = "linux")]
    match read_matrix_market("/dev/zero") {
        Err(PatternError::MatrixMarket {
            path: Some(_),
            line: 1,
            kind: MtxErrorKind::LineTooLong { .. },
        }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_comments_without_end() {
    use sparsediff_pattern::mtx::MAX_COMMENT_BYTES;
    // A header that never reaches its size line (`yes %`), and comments that never end
    // after the last entry, are refused after MAX_COMMENT_BYTES.
    let comments = "%\n".repeat(MAX_COMMENT_BYTES / 2);
    let (line, kind) = mtx_err(&format!("{REAL_GENERAL}{comments}2 2 1\n1 1 1\n"));
    assert_eq!(
        kind,
        MtxErrorKind::TooManyCommentBytes {
            limit: MAX_COMMENT_BYTES
        }
    );
    // The banner (46 bytes) and the comments before it leave room for 16 777 170 bytes.
    assert_eq!(line, 1 + (MAX_COMMENT_BYTES - REAL_GENERAL.len()) / 2 + 1);
    let blank = "\n".repeat(MAX_COMMENT_BYTES);
    let (_, kind) = mtx_err(&format!("{REAL_GENERAL}2 2 1\n1 1 1\n{blank}"));
    assert!(matches!(kind, MtxErrorKind::TooManyCommentBytes { .. }));
}

#[test]
fn large_files_are_read_in_chunks() {
    // 3 MB of entries: lines cross the reader's 1 MiB chunks; reading the file, the bytes
    // and the text agree, and line numbers count across chunks.
    let n = 200_000;
    let mut text = format!("{REAL_GENERAL}% generated\n{n} {n} {}\n", 2 * n - 1);
    for i in 1..=n {
        text.push_str(&format!("{i} {i} {}.25\n", i % 7));
        if i > 1 {
            text.push_str(&format!("{i} {} -1\n", i - 1));
        }
    }
    let path = temp_path("chunks.mtx");
    std::fs::write(&path, &text).unwrap();
    let from_file = read_matrix_market(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(from_file, parse_matrix_market(&text).unwrap());
    assert_eq!(
        from_file,
        parse_matrix_market_bytes(text.as_bytes()).unwrap()
    );
    assert_eq!(from_file.pattern.nnz(), 2 * n - 1);
    let bad = format!("{text}1 {} 1\n", n + 1);
    let bad = bad.replacen(&format!(" {}\n", 2 * n - 1), &format!(" {}\n", 2 * n), 1);
    assert_eq!(
        mtx_err(&bad),
        (
            3 + 2 * n,
            MtxErrorKind::IndexOutOfRange {
                which: "column",
                index: n + 1,
                dim: n
            }
        )
    );
}

#[test]
fn errors_carry_the_path_when_reading_files() {
    let path = temp_path("bad.mtx");
    std::fs::write(&path, format!("{REAL_GENERAL}2 2 1\n3 1 1\n")).unwrap();
    let e = read_matrix_market(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    match &e {
        PatternError::MatrixMarket {
            path: Some(p),
            line: 3,
            kind: MtxErrorKind::IndexOutOfRange { .. },
        } => {
            assert_eq!(p, &path)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        format!(
            "{}: line 3: row index 3 is out of range 1..=2",
            path.display()
        )
    );

    let missing = temp_path("does-not-exist.mtx");
    match read_matrix_market(&missing) {
        Err(PatternError::Io {
            action: "read",
            path,
            source,
        }) => {
            assert_eq!(path.as_deref(), Some(missing.as_path()));
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn long_offending_text_is_shortened() {
    let long = "x".repeat(10_000);
    let (_, kind) = mtx_err(&format!("{REAL_GENERAL}2 2 1\n1 1 {long}\n"));
    match kind {
        MtxErrorKind::BadValue { found } => assert!(found.chars().count() <= 65, "{}", found.len()),
        other => panic!("{other:?}"),
    }
}

// ----------------------------------------------------------------------------------------
// Writing and round trips
// ----------------------------------------------------------------------------------------

fn round_trip(pattern: &Pattern, values: Option<&[f64]>, symmetry: MtxSymmetry) -> MatrixMarket {
    let mut buf = Vec::new();
    write_matrix_market(&mut buf, pattern, values, symmetry).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert_eq!(
        text,
        to_matrix_market_string(pattern, values, symmetry).unwrap()
    );
    let mm = parse_matrix_market(&text).unwrap();
    assert_eq!(&mm.pattern, pattern);
    assert_eq!(mm.header.symmetry, symmetry);
    assert_eq!(
        mm.header.field,
        if values.is_some() {
            MtxField::Real
        } else {
            MtxField::Pattern
        }
    );
    match (values, &mm.values) {
        (None, None) => {}
        (Some(a), Some(b)) => {
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(b) {
                assert_eq!(x.to_bits(), y.to_bits(), "{x:?} vs {y:?}");
            }
        }
        other => panic!("values differ: {other:?}"),
    }
    mm
}

#[test]
fn round_trip_general_with_values() {
    let p = Pattern::from_entries(
        3,
        5,
        [(0, 4), (1, 0), (1, 3), (2, 2), (0, 0), (2, 4), (1, 1)],
    )
    .unwrap();
    let values = [
        0.1,
        -1.0 / 3.0,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324, // smallest subnormal
        -0.0,
        123456789.0e20,
    ];
    let mm = round_trip(&p, Some(&values), MtxSymmetry::General);
    assert_eq!(mm.header.entries, 7);
}

#[test]
fn round_trip_pattern_only() {
    let p = Pattern::from_entries(4, 2, [(3, 1), (0, 0), (2, 0)]).unwrap();
    let text = to_matrix_market_string(&p, None, MtxSymmetry::General).unwrap();
    assert_eq!(
        text,
        "%%MatrixMarket matrix coordinate pattern general\n4 2 3\n1 1\n3 1\n4 2\n"
    );
    round_trip(&p, None, MtxSymmetry::General);
    round_trip(&Pattern::empty(0, 3).unwrap(), None, MtxSymmetry::General);
    round_trip(
        &Pattern::empty(2, 2).unwrap(),
        Some(&[]),
        MtxSymmetry::Symmetric,
    );
}

#[test]
fn round_trip_symmetric() {
    let p = Pattern::from_entries(
        4,
        4,
        [(0, 0), (1, 0), (0, 1), (3, 1), (1, 3), (2, 2), (3, 3)],
    )
    .unwrap();
    let v: Vec<f64> = p
        .iter()
        .map(|(i, j)| (i.min(j) * 10 + i.max(j)) as f64 + 0.25)
        .collect();
    let text = to_matrix_market_string(&p, Some(&v), MtxSymmetry::Symmetric).unwrap();
    assert_eq!(
        text,
        "%%MatrixMarket matrix coordinate real symmetric\n4 4 5\n1 1 0.25\n2 1 1.25\n3 3 22.25\n4 2 13.25\n4 4 33.25\n"
    );
    let mm = round_trip(&p, Some(&v), MtxSymmetry::Symmetric);
    assert_eq!(mm.header.entries, 5);
    round_trip(&p, None, MtxSymmetry::Symmetric);
    round_trip(&p, Some(&v), MtxSymmetry::Hermitian);
    round_trip(&p, Some(&v), MtxSymmetry::General);
}

#[test]
fn round_trip_skew_symmetric() {
    let p = Pattern::from_entries(3, 3, [(1, 0), (0, 1), (2, 0), (0, 2)]).unwrap();
    // order: (0,1) (0,2) (1,0) (2,0)
    let v = [-1.5, 2.0, 1.5, -2.0];
    let text = to_matrix_market_string(&p, Some(&v), MtxSymmetry::SkewSymmetric).unwrap();
    assert_eq!(
        text,
        "%%MatrixMarket matrix coordinate real skew-symmetric\n3 3 2\n2 1 1.5\n3 1 -2.0\n"
    );
    round_trip(&p, Some(&v), MtxSymmetry::SkewSymmetric);
    round_trip(&p, None, MtxSymmetry::SkewSymmetric);
}

#[test]
fn round_trip_through_a_file() {
    let path = temp_path("round-trip.mtx");
    let p = Pattern::from_entries(3, 3, [(0, 0), (2, 1), (1, 2)]).unwrap();
    let v = [1.0, 2.0, 2.0];
    write_matrix_market_file(&path, &p, Some(&v), MtxSymmetry::Symmetric).unwrap();
    let mm = read_matrix_market(&path);
    std::fs::remove_file(&path).unwrap();
    let mm = mm.unwrap();
    assert_eq!(mm.pattern, p);
    assert_eq!(mm.values.as_deref(), Some(&v[..]));
}

// ----------------------------------------------------------------------------------------
// Writer errors
// ----------------------------------------------------------------------------------------

/// The kind of a writer-side Matrix Market error.
fn write_kind(p: &Pattern, v: Option<&[f64]>, s: MtxSymmetry) -> MtxErrorKind {
    match to_matrix_market_string(p, v, s) {
        Err(PatternError::MatrixMarketWrite { kind }) => kind,
        other => panic!("expected a MatrixMarket error, got {other:?}"),
    }
}

#[test]
fn writer_rejects_wrong_value_length() {
    let p = Pattern::identity(3).unwrap();
    assert!(matches!(
        to_matrix_market_string(&p, Some(&[1.0, 2.0]), MtxSymmetry::General),
        Err(PatternError::LengthMismatch {
            left: 2,
            right: 3,
            ..
        })
    ));
    let mut sink = Vec::new();
    assert!(matches!(
        write_matrix_market(&mut sink, &p, Some(&[1.0; 4]), MtxSymmetry::Symmetric),
        Err(PatternError::LengthMismatch {
            left: 4,
            right: 3,
            ..
        })
    ));
    assert!(sink.is_empty(), "nothing is written when the checks fail");
}

#[test]
fn writer_rejects_non_finite_values() {
    let p = Pattern::identity(2).unwrap();
    assert_eq!(
        write_kind(&p, Some(&[1.0, f64::NAN]), MtxSymmetry::General),
        MtxErrorKind::NonFiniteValue {
            found: "NaN".into()
        }
    );
    assert_eq!(
        write_kind(&p, Some(&[f64::NEG_INFINITY, 1.0]), MtxSymmetry::General),
        MtxErrorKind::NonFiniteValue {
            found: "-inf".into()
        }
    );
}

#[test]
fn writer_symmetric_needs_square_symmetric_input() {
    let rect = Pattern::from_entries(2, 3, [(0, 0)]).unwrap();
    assert!(matches!(
        to_matrix_market_string(&rect, None, MtxSymmetry::Symmetric),
        Err(PatternError::NotSquare {
            nrows: 2,
            ncols: 3,
            ..
        })
    ));
    let asym = Pattern::from_entries(3, 3, [(0, 0), (2, 1), (1, 2), (2, 0)]).unwrap();
    for s in [
        MtxSymmetry::Symmetric,
        MtxSymmetry::Hermitian,
        MtxSymmetry::SkewSymmetric,
    ] {
        assert_eq!(
            write_kind(&asym.without_diagonal(), None, s),
            MtxErrorKind::AsymmetricPattern { row: 3, col: 1 }
        );
    }
    let sym = Pattern::from_entries(2, 2, [(0, 0), (0, 1), (1, 0)]).unwrap();
    assert_eq!(
        write_kind(&sym, Some(&[1.0, 2.0, 3.0]), MtxSymmetry::Symmetric),
        MtxErrorKind::AsymmetricValues {
            symmetry: MtxSymmetry::Symmetric,
            row: 1,
            col: 2
        }
    );
    // General accepts anything.
    to_matrix_market_string(&asym, None, MtxSymmetry::General).unwrap();
}

#[test]
fn writer_skew_symmetric_needs_empty_diagonal_and_opposite_values() {
    let p = Pattern::from_entries(3, 3, [(0, 1), (1, 0), (2, 2)]).unwrap();
    assert_eq!(
        write_kind(&p, None, MtxSymmetry::SkewSymmetric),
        MtxErrorKind::DiagonalInSkewSymmetric { row: 3 }
    );
    let p = p.without_diagonal();
    let e = to_matrix_market_string(&p, Some(&[1.0, 1.0]), MtxSymmetry::SkewSymmetric).unwrap_err();
    assert!(matches!(
        e,
        PatternError::MatrixMarketWrite {
            kind: MtxErrorKind::AsymmetricValues {
                symmetry: MtxSymmetry::SkewSymmetric,
                row: 1,
                col: 2
            },
        }
    ));
    assert!(e.to_string().contains("are not opposite"), "{e}");
}

struct FailingWriter;

impl std::io::Write for FailingWriter {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk on fire"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn writer_io_errors() {
    let p = Pattern::identity(2).unwrap();
    assert!(matches!(
        write_matrix_market(&mut FailingWriter, &p, None, MtxSymmetry::General),
        Err(PatternError::Io {
            action: "write",
            ..
        })
    ));
    let dir = temp_path("no-such-dir");
    let path = dir.join("x.mtx");
    match write_matrix_market_file(&path, &p, None, MtxSymmetry::General) {
        Err(PatternError::Io {
            action: "write",
            path: q,
            ..
        }) => assert_eq!(q.as_deref(), Some(path.as_path())),
        other => panic!("{other:?}"),
    }
    // A failed check leaves no file behind.
    let path = temp_path("not-written.mtx");
    let rect = Pattern::empty(2, 3).unwrap();
    assert!(write_matrix_market_file(&path, &rect, None, MtxSymmetry::Symmetric).is_err());
    assert!(!path.exists());
}
