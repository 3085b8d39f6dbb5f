//! CSV cells for files that people open in a spreadsheet: every cell quoted, and a cell that a
//! spreadsheet would run as a formula made inert (CWE-1236).

/// Characters that start a formula in Excel, WPS or LibreOffice, also in their full-width forms
/// (a Chinese input method types `＝` as readily as `=`, and WPS reads both).
const FORMULA_STARTS: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];

/// Whitespace a spreadsheet skips before it looks for a formula.
const LEADING_SPACE: [char; 5] = [' ', '\u{3000}', '\t', '\r', '\n'];

/// Whether a spreadsheet could take the cell for a formula: it starts (after any leading space)
/// with a formula character, or with a tab or a carriage return.
pub fn looks_like_formula(s: &str) -> bool {
    s.starts_with(['\t', '\r']) || s.trim_start_matches(LEADING_SPACE).starts_with(FORMULA_STARTS)
}

/// One quoted CSV cell; a cell that looks like a formula is prefixed with `'`, which spreadsheets
/// show as text and do not display.
pub fn field(s: &str) -> String {
    let defused = if looks_like_formula(s) { format!("'{s}") } else { s.to_owned() };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "\"plain\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        for f in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            " =1+1",
            "  @x",
            "\u{3000}=1",
            "＝1+1",
            "＋1",
            "－1",
            "＠A1",
            " ＝HYPERLINK(\"x\")",
        ] {
            assert!(field(f).starts_with("\"'"), "{f:?}");
        }
        for f in ["1-1", "张三", "a=b", "2026-03-01", " 1"] {
            assert!(!field(f).starts_with("\"'"), "{f:?}");
        }
    }
}
